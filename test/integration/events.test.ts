// Two clients of one helper: whatever one of them (here the CLI) changes reaches the other as an
// event, for every field an app has: choice, kill switch, fallback order, managed lock, egress state
// under pause and override, processes. A second window or the web UI never shows a stale state.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App, EventEnvelope } from '../../native-helper/src/api/schema.ts';
import type { HelperSocketClient } from '../../native-helper/src/api/client.ts';
import { Lab } from '../lab/lab.ts';
import { type RunningHelper, startHelper } from '../lab/switchyard-helper.ts';
import { eventually } from './support.ts';

const isRoot = process.getuid?.() === 0;

describe.skipIf(!isRoot)('events reach a second client for every field of an app', () => {
  let lab: Lab;
  let helper: RunningHelper;
  let window: HelperSocketClient;
  const seen: App[] = [];

  beforeAll(async () => {
    lab = await Lab.up({ prefix: Lab.randomPrefix() });
    helper = await startHelper(lab);
    window = await helper.client();
    window.onEvent((e: EventEnvelope) => {
      const d = e.data as { app: App | null; id: string };
      if (e.event === 'app.changed' && d.id === 'lab-chat' && d.app) seen.push(d.app);
    });
    await window.subscribe(['app.changed']);
  });

  afterAll(async () => {
    window?.close();
    await helper?.stop();
    await lab?.down();
  });

  /** The second client's latest view of lab-chat, once it satisfies ok. */
  const latest = async (what: string, ok: (a: App) => boolean): Promise<App> =>
    (await eventually(
      what,
      async () => seen.at(-1) ?? null,
      (a) => a !== null && ok(a),
      15_000,
    ))!;

  it('the choice', async () => {
    await helper.cli(['egress', 'set', 'lab-chat', 'wlan0']);
    const a = await latest(
      'wlan0',
      (x) => x.choice.mode === 'ordered' && x.choice.egresses.join() === 'wlan0',
    );
    expect(a.egress).toEqual({ state: 'routed', active: 'wlan0' });
  });

  it('the kill switch alone', async () => {
    await helper.cli(['egress', 'set', 'lab-chat', 'wlan0', '--kill-switch']);
    const a = await latest('the kill switch on', (x) => x.choice.mode === 'ordered' && x.choice.killSwitch);
    expect(a.choice).toEqual({ mode: 'ordered', egresses: ['wlan0'], killSwitch: true });
  });

  it('the fallback order alone', async () => {
    await helper.cli(['egress', 'set', 'lab-chat', 'wlan0,enp3s0', '--kill-switch']);
    await latest('two egresses', (x) => x.choice.mode === 'ordered' && x.choice.egresses.length === 2);
    await helper.cli(['egress', 'set', 'lab-chat', 'enp3s0,wlan0', '--kill-switch']);
    const a = await latest(
      'the reordered list',
      (x) => x.choice.mode === 'ordered' && x.choice.egresses[0] === 'enp3s0',
    );
    expect(a.choice).toEqual({ mode: 'ordered', egresses: ['enp3s0', 'wlan0'], killSwitch: true });
  });

  it('pause and resume, and the override', async () => {
    await helper.cli(['pause']);
    await latest('paused', (x) => x.egress.state === 'paused');
    await helper.cli(['resume']);
    await latest('resumed', (x) => x.egress.state !== 'paused');
    await helper.cli(['egress', 'set', 'lab-chat', 'wlan0']);
    await latest('on wlan0', (x) => x.egress.active === 'wlan0');
    await helper.cli(['override', 'enp3s0']);
    await latest('overridden to enp3s0', (x) => x.egress.active === 'enp3s0');
    await helper.cli(['override', 'off']);
    const a = await latest('back on wlan0', (x) => x.egress.active === 'wlan0');
    expect(a.egress.state).toBe('routed');
  });

  it('the managed lock', async () => {
    writeFileSync(
      join(helper.stateDir, 'managed.json'),
      JSON.stringify({ version: 1, apps: [{ id: 'lab-chat', choice: { mode: 'block' } }] }),
    );
    const a = await latest('the managed lock', (x) => x.managed);
    expect(a.choice).toEqual({ mode: 'block' });
    writeFileSync(join(helper.stateDir, 'managed.json'), JSON.stringify({ version: 1, apps: [] }));
    await latest('unlocked', (x) => !x.managed);
  });

  it('its processes', async () => {
    await helper.cli(['egress', 'set', 'lab-chat', 'wlan0']);
    const chat = await lab.startApp('lab-chat', { args: ['--interval-ms', '300'] });
    try {
      const a = await latest('the new process', (x) => x.pids.includes(chat.pid));
      expect(a.pids).toContain(chat.pid);
    } finally {
      await chat.stop();
    }
    await latest('the process gone', (x) => x.pids.length === 0);
  });
});
