import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Network } from '../api/rules-model.ts';
import { addApp } from '../policy/model.ts';
import { AuditLog } from '../storage/audit-log.ts';
import { EventBus } from './event-bus.ts';
import { type Attachment, EventReactor } from './event-reactor.ts';
import { PolicyState } from './policy-state.ts';
import { Problems } from './problems.ts';

const dirs: string[] = [];
const reactors: EventReactor[] = [];
afterEach(() => {
  for (const r of reactors.splice(0)) r.stop();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const root = { uid: 0, label: 'root (uid 0)' };

/** A reactor over a real policy file and audit log, with a clock the test moves. */
function setup(opts: { dir?: string; at?: string; tz?: string } = {}) {
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'sy-reactor-'));
  if (!opts.dir) dirs.push(dir);
  const clock = { now: new Date(opts.at ?? '2026-11-25T10:00:00Z') };
  const bus = new EventBus();
  const policy = new PolicyState(dir, null, new Problems(bus, () => {}));
  if (!policy.current.apps.length) {
    let doc = policy.current;
    for (const id of ['firefox', 'mail', 'chat'])
      doc = addApp(doc, {
        id,
        name: id,
        icon: null,
        source: 'manual',
        matchers: { exe: [`/usr/bin/${id}`] },
      });
    doc = {
      ...doc,
      groups: [{ name: 'Work', apps: ['mail', 'chat'] }],
      timeZone: opts.tz ?? 'Europe/Berlin',
    };
    policy.commit(doc);
  }
  const audit = new AuditLog(dir, { now: () => clock.now });
  let attachments: Attachment[] = [];
  let refreshes = 0;
  const reactor = new EventReactor({
    policy,
    bus,
    audit,
    log: () => {},
    refresh: async () => void refreshes++,
    tunnels: () => ['sy-tun0'],
    attachments: () => attachments,
    now: () => clock.now,
  });
  reactors.push(reactor);
  return {
    dir,
    clock,
    policy,
    audit,
    reactor,
    bus,
    refreshes: () => refreshes,
    attach: (a: Attachment[]) => (attachments = a),
    eventRules: () => policy.current.rules.filter((r) => r.origin === 'event'),
  };
}

const network = (trust: Network['trust'], effective: Network['effectiveTrust']): Network => ({
  id: 'n-0123456789ab',
  name: 'Cafe',
  fingerprint: { gatewayMac: '02:00:00:00:00:01', ssid: null, subnet: '198.18.1.0/24' },
  trust,
  effectiveTrust: effective,
  firstSeen: '',
  lastSeen: '',
  interfaces: ['wlan0'],
  managed: false,
});

describe('EventReactor', () => {
  it('a finding flags the app: the default template blocks it except its update servers', async () => {
    const t = setup();
    t.policy.commit({
      ...t.policy.current,
      apps: t.policy.current.apps.map((a) =>
        a.id === 'firefox' ? { ...a, updateServers: ['198.51.100.0/24'] } : a,
      ),
    });
    const e = await t.reactor.flag(
      { app: 'firefox', subject: '/tmp/x', how: 'process 42 of that app wrote it' },
      { source: 'clamav', reason: 'Eicar-Test-Signature', severity: 'high' },
      root,
    );
    const rules = t.eventRules();
    expect(rules.map((r) => r.action.type)).toEqual(['clear', 'block']);
    expect(rules[0]!.match.destinations).toEqual(['198.51.100.0/24']);
    expect(rules.every((r) => r.event?.id === e.id && r.expiresAt === null)).toBe(true);
    expect(e.rules).toEqual(rules.map((r) => r.id));
    expect(t.refreshes()).toBe(1);
    expect(t.reactor.heldApps().get('firefox')?.[0]?.kind).toBe('app.flagged');

    // A repeat counts, makes no new rules; clearing removes them at once.
    const again = await t.reactor.flag(
      { app: 'firefox', subject: null, how: '' },
      { source: 'clamav', reason: 'again', severity: 'high' },
      root,
    );
    expect(again.repeats).toBe(1);
    expect(t.eventRules()).toHaveLength(2);
    expect(await t.reactor.clearApp('firefox', root)).toBe(1);
    expect(t.eventRules()).toEqual([]);
    expect(t.policy.current.events).toEqual([]);
    const chain = t.audit.read({ app: 'firefox' }).map((x) => x.action);
    expect(chain).toEqual([
      'event.started',
      'rule.created',
      'rule.created',
      'event.repeated',
      'rule.removed',
      'rule.removed',
      'event.ended',
    ]);
  });

  it('a quarantine blocks for its duration, ends on time, and a restart keeps it until then', async () => {
    const t = setup();
    const e = await t.reactor.quarantine('mail', 3600, undefined, root);
    expect(e.endsAt).toBe('2026-11-25T11:00:00.000Z');
    expect(t.eventRules().map((r) => [r.action.type, r.expiresAt])).toEqual([['block', e.endsAt]]);
    t.reactor.stop();

    // The helper restarts half-way: the quarantine is still there.
    const later = setup({ dir: t.dir, at: '2026-11-25T10:30:00Z' });
    await later.reactor.tick();
    expect(later.policy.current.events.map((x) => x.id)).toEqual([e.id]);
    // And ends at its time.
    later.clock.now = new Date('2026-11-25T11:00:00Z');
    await later.reactor.tick();
    expect(later.policy.current.events).toEqual([]);
    expect(later.eventRules()).toEqual([]);
    expect(later.audit.read().at(-1)).toMatchObject({ action: 'event.ended', app: 'mail' });
  });

  it('a schedule rule switches on and off at the right minute, in the user time zone', async () => {
    const t = setup({ at: '2026-11-25T07:58:30Z' }); // Wednesday, 08:58:30 in Berlin
    await t.reactor.setTemplate({
      id: 'work-hours',
      name: 'Work is encrypted in work hours',
      on: { kind: 'schedule', schedule: 'work' },
      minSeverity: 'low',
      covers: { kind: 'group', group: 'Work' },
      action: { type: 'encrypt', tunnel: 'sy-tun0' },
      lifetime: { kind: 'event' },
      enabled: true,
    });
    await t.reactor.setSchedule({
      name: 'work',
      days: ['mon', 'tue', 'wed', 'thu', 'fri'],
      from: '09:00',
      to: '17:00',
    });
    expect(t.eventRules()).toEqual([]);
    t.clock.now = new Date('2026-11-25T07:59:59Z');
    await t.reactor.tick();
    expect(t.eventRules()).toEqual([]);
    t.clock.now = new Date('2026-11-25T08:00:00Z'); // 09:00 Berlin
    await t.reactor.tick();
    expect(t.eventRules().map((r) => [r.action, r.match.subject, r.expiresAt])).toEqual([
      [{ type: 'encrypt', tunnel: 'sy-tun0' }, { kind: 'group', group: 'Work' }, '2026-11-25T16:00:00.000Z'],
    ]);
    expect(t.reactor.state().schedules[0]!.open).toBe(true);
    t.clock.now = new Date('2026-11-25T15:59:00Z');
    await t.reactor.tick();
    expect(t.eventRules()).toHaveLength(1);
    t.clock.now = new Date('2026-11-25T16:00:00Z'); // 17:00 Berlin
    await t.reactor.tick();
    expect(t.eventRules()).toEqual([]);
  });

  it('moving an uplink to an unknown network encrypts Work; moving back removes the rule', async () => {
    const t = setup();
    t.attach([{ uplink: 'wlan0', network: network('trusted', 'trusted') }]);
    await t.reactor.syncNetworks();
    expect(t.eventRules()).toEqual([]);
    // Being identified counts as unknown already, so the rule is there before the MAC answers.
    t.attach([{ uplink: 'wlan0', network: null }]);
    await t.reactor.syncNetworks();
    const rules = t.eventRules();
    expect(rules.map((r) => [r.action, r.match.subject])).toEqual([
      [
        { type: 'encrypt', tunnel: 'sy-tun0' },
        { kind: 'group', group: 'Work' },
      ],
    ]);
    t.attach([{ uplink: 'wlan0', network: network(null, 'untrusted') }]);
    await t.reactor.syncNetworks();
    expect(t.eventRules().map((r) => r.id)).toEqual(rules.map((r) => r.id)); // the same event goes on
    t.attach([{ uplink: 'wlan0', network: network('trusted', 'trusted') }]);
    await t.reactor.syncNetworks();
    expect(t.eventRules()).toEqual([]);
    expect(t.policy.current.events).toEqual([]);
  });

  it('a template that cannot apply says why in the audit and makes no rule', async () => {
    const t = setup();
    t.policy.commit({ ...t.policy.current, groups: [] });
    t.attach([{ uplink: 'wlan0', network: null }]);
    await t.reactor.syncNetworks();
    expect(t.eventRules()).toEqual([]);
    expect(
      t.audit
        .read()
        .map((e) => e.message)
        .join('\n'),
    ).toMatch(/no rule: template unknown-network-work: there is no group Work/);
  });

  it('floods are limited per caller, and refusals are audited in summary', async () => {
    const t = setup();
    const mallory = { uid: 1000, label: 'mallory (uid 1000)' };
    let admitted = 0;
    let limited = 0;
    for (let i = 0; i < 10_000; i++)
      try {
        t.reactor.admit(mallory);
        admitted++;
      } catch (err) {
        expect((err as { code: string }).code).toBe('RATE_LIMITED');
        limited++;
      }
    expect(admitted).toBe(20);
    expect(limited).toBe(9980);
    // Another caller is not held up by the flood.
    expect(() => t.reactor.admit(root)).not.toThrow();
    const refusals = t.audit.read().filter((e) => e.action === 'report.refused');
    expect(refusals).toHaveLength(1);
    // A second later the caller may report again.
    t.clock.now = new Date(t.clock.now.getTime() + 1000);
    expect(() => t.reactor.admit(mallory)).not.toThrow();
  });

  it("setting a flagged app's update servers remakes its rules to allow them", async () => {
    const t = setup();
    await t.reactor.flag(
      { app: 'chat', subject: null, how: '' },
      { source: 'x', reason: 'bad', severity: 'high' },
      root,
    );
    expect(t.eventRules().map((r) => r.action.type)).toEqual(['block']);
    await t.reactor.setUpdateServers('chat', ['203.0.113.0/24']);
    const rules = t.eventRules();
    expect(rules.map((r) => [r.action.type, r.match.destinations])).toEqual([
      ['clear', ['203.0.113.0/24']],
      ['block', []],
    ]);
    expect(t.policy.current.events[0]!.rules).toEqual(rules.map((r) => r.id));
    await expect(t.reactor.setUpdateServers('nosuch', [])).rejects.toThrow(/no app 'nosuch'/);
  });

  it('a low finding does not trigger a high-only template; a high one later does', async () => {
    const t = setup();
    await t.reactor.setTemplate({
      id: 'flagged',
      name: 'Only high findings block',
      on: { kind: 'app.flagged' },
      minSeverity: 'high',
      covers: { kind: 'event-app' },
      action: { type: 'block' },
      lifetime: { kind: 'event' },
      enabled: true,
    });
    await t.reactor.flag(
      { app: 'chat', subject: null, how: '' },
      { source: 'x', reason: 'odd', severity: 'low' },
      root,
    );
    expect(t.eventRules()).toEqual([]);
    await t.reactor.flag(
      { app: 'chat', subject: null, how: '' },
      { source: 'x', reason: 'bad', severity: 'high' },
      root,
    );
    expect(t.eventRules().map((r) => r.action.type)).toEqual(['block']);
  });
});
