import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { addApp, setChoice } from '../policy/model.ts';
import { EventBus } from './event-bus.ts';
import { PolicyState } from './policy-state.ts';
import { Problems } from './problems.ts';

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

function setup(managed?: object | string) {
  const dir = mkdtempSync(join(tmpdir(), 'sy-policy-state-'));
  dirs.push(dir);
  const managedPath = join(dir, 'managed.json');
  if (managed !== undefined)
    writeFileSync(managedPath, typeof managed === 'string' ? managed : JSON.stringify(managed));
  const problems = new Problems(new EventBus(), () => {});
  const state = new PolicyState(join(dir, 'state'), managedPath, problems);
  return { dir, managedPath, problems, state };
}

const chat = {
  id: 'chat',
  name: 'Chat',
  icon: null,
  source: 'manual' as const,
  matchers: { exe: ['/usr/bin/chat'] },
};
const wlan = { mode: 'ordered' as const, egresses: ['wlan0'], killSwitch: true };

describe('PolicyState', () => {
  it('starts empty and says the file was missing; a commit writes it and takes it', () => {
    const { state } = setup();
    expect(state.missing).toBe(true);
    expect(state.apps).toEqual([]);
    state.commit(setChoice(addApp(state.current, chat), 'chat', wlan));
    expect(state.missing).toBe(false);
    expect(state.find('chat')?.choice).toEqual(wlan);
    const onDisk = JSON.parse(readFileSync(state.path, 'utf8')) as {
      apps: { id: string; choice: unknown }[];
    };
    expect(onDisk.apps.map((a) => [a.id, a.choice])).toEqual([['chat', wlan]]);
    // The routing table of the egress it names is allocated with it.
    expect(Object.keys(state.current.egressTables)).toEqual(['wlan0']);
  });

  it("lays managed choices over the user's, and keeps the last good pins when the file breaks", () => {
    const { state, managedPath, problems } = setup({
      version: 1,
      apps: [{ id: 'chat', choice: { mode: 'block' } }],
    });
    state.commit(addApp(state.current, chat));
    expect(state.loadManaged()).toBe(true);
    expect(state.managedChoice('chat')).toEqual({ mode: 'block' });
    expect(state.effective().apps.find((a) => a.id === 'chat')?.choice).toEqual({ mode: 'block' });
    expect(state.find('chat')?.choice).toEqual({ mode: 'default' }); // the user's own stays underneath
    writeFileSync(managedPath, '{ nope');
    expect(state.loadManaged()).toBe(false);
    expect(state.managedChoice('chat')).toEqual({ mode: 'block' });
    expect(problems.list.join(' ')).toMatch(/managed policy .* keeping the managed policy read before/);
  });

  it('adds apps the managed policy brings with their own matchers', () => {
    const { state } = setup({
      version: 1,
      apps: [{ id: 'corp', name: 'Corp tool', matchers: { cmdline: 'corp-tool' }, choice: wlan }],
    });
    state.loadManaged();
    expect(state.find('corp')).toMatchObject({
      name: 'Corp tool',
      source: 'manual',
      matchers: { cmdline: 'corp-tool' },
    });
  });

  it('a failed write changes neither the file nor the policy, and is reported', () => {
    const { state, problems, dir } = setup();
    state.commit(addApp(state.current, chat));
    // A state directory that cannot take the temporary file: the write fails before the rename.
    chmodSync(join(dir, 'state'), 0o500);
    try {
      if (process.getuid?.() === 0) {
        // root ignores directory modes; make the temporary file's path impossible instead
        rmSync(join(dir, 'state'), { recursive: true, force: true });
        writeFileSync(join(dir, 'state'), 'not a directory');
      }
      expect(() => state.commit(setChoice(state.current, 'chat', wlan))).toThrow(
        /cannot save the policy to .*the change was not made/,
      );
      expect(state.find('chat')?.choice).toEqual({ mode: 'default' });
      expect(problems.list.some((p) => p.startsWith('cannot save the policy'))).toBe(true);
    } finally {
      rmSync(join(dir, 'state'), { recursive: true, force: true });
    }
  });
});

describe('PolicyState and the managed policy’s rules', () => {
  it('carries managed groups, rules and trust defaults; managed rules come first and their tunnels and classes get numbers', () => {
    const { state } = setup({
      version: 1,
      groups: [{ name: 'Work', apps: ['chat'] }],
      rules: [
        {
          id: 'corp-ssh',
          match: { subject: { kind: 'group', group: 'Work' }, ports: [{ from: 22, to: 22 }] },
          action: { type: 'encrypt', tunnel: 'sy-corp' },
        },
      ],
      trustDefaults: { trusted: { type: 'clear' }, untrusted: { type: 'block' } },
      unknownTrust: 'untrusted',
    });
    state.commit(addApp(state.current, chat));
    state.loadManaged();
    expect(state.managedRules.map((r) => [r.id, r.origin, r.name])).toEqual([
      ['corp-ssh', 'managed', 'corp-ssh'],
    ]);
    expect(state.isManagedGroup('work')).toBe(true);
    const eff = state.effective();
    expect(eff.groups).toEqual([{ name: 'Work', apps: ['chat'] }]);
    expect(eff.trustDefaults.untrusted).toEqual({ type: 'block' });
    expect(state.current.trustDefaults.untrusted).toEqual({ type: 'clear' }); // the user's own stays
    expect(Object.keys(state.current.egressTables)).toEqual(['sy-corp']);
    expect(Object.keys(state.current.flowClasses)).toEqual([`${state.find('chat')!.tag}>sy-corp/`]);
  });

  it('refuses a managed file that lists a rule twice, keeping what it had', () => {
    const rule = { id: 'r1', match: { subject: { kind: 'app', app: 'chat' } }, action: { type: 'block' } };
    const { state, problems } = setup({ version: 1, rules: [rule, rule] });
    state.loadManaged();
    expect(state.managedRules).toEqual([]);
    expect(problems.list.join(' ')).toMatch(/lists rule 'r1' twice/);
  });
});
