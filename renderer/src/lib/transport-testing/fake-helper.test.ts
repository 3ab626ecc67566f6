import { describe, expect, it } from 'vitest';
import {
  App,
  AuditEntry,
  Interface,
  NetworkList,
  ReactionsState,
  RuleList,
  Status,
  Tunnel,
  events,
} from '#switchyard/api/schema.ts';
import { egressFor } from './egress-rule.ts';
import { FakeHelper } from './fake-helper.ts';

describe('FakeHelper', () => {
  it('generates apps and interfaces that match the schema, with unique ids', () => {
    const fake = new FakeHelper({ apps: 1000 });
    expect(fake.apps).toHaveLength(1000);
    for (const a of fake.apps) expect(App.safeParse(a).success).toBe(true);
    for (const i of fake.interfaces) expect(Interface.safeParse(i).success).toBe(true);
    expect(new Set(fake.apps.map((a) => a.id)).size).toBe(1000);
    expect(fake.interfaces.map((i) => i.name)).toEqual(['lo', 'wlan0', 'enp3s0']);
  });

  it('ticks counters that match the counters event schema and grow', () => {
    const fake = new FakeHelper();
    const seen: unknown[] = [];
    fake.on('counters', (d) => seen.push(d));
    fake.tick();
    fake.tick();
    expect(seen).toHaveLength(2);
    for (const d of seen) expect(events.counters.safeParse(d).success).toBe(true);
    const wlan = fake.interfaces.find((i) => i.name === 'wlan0');
    expect(wlan?.counters.rxBytes).toBeGreaterThan(0);
  });

  it('fails apps over when an uplink goes down and restores them', () => {
    const fake = new FakeHelper();
    const failovers: string[] = [];
    fake.on('egress.failover', (d) => failovers.push(d.app));
    const first = fake.apps.find(
      (a) => a.choice.mode === 'ordered' && a.choice.egresses[0] === 'wlan0' && a.choice.egresses.length > 1,
    );
    if (!first) throw new Error('the fake should route an app wlan0-first');
    fake.setUsable('wlan0', false);
    expect(first.egress).toEqual({ state: 'failed-over', active: 'enp3s0' });
    expect(failovers).toContain(first.id);
    fake.setUsable('wlan0', true);
    expect(first.egress).toEqual({ state: 'routed', active: 'wlan0' });
  });

  it('computes egress states as the helper defines them', () => {
    const up = new Set(['enp3s0']);
    expect(
      egressFor({ mode: 'ordered', egresses: ['wlan0', 'enp3s0'], killSwitch: true }, up, false),
    ).toEqual({ state: 'failed-over', active: 'enp3s0' });
    expect(egressFor({ mode: 'ordered', egresses: ['wlan0'], killSwitch: true }, up, false)).toEqual({
      state: 'killed',
      active: null,
    });
    expect(egressFor({ mode: 'ordered', egresses: ['wlan0'], killSwitch: false }, up, false)).toEqual({
      state: 'fallback-default',
      active: null,
    });
    expect(egressFor({ mode: 'block' }, up, true)).toEqual({ state: 'paused', active: null });
  });

  it('refuses helper calls while the helper is unavailable but still answers shell calls', async () => {
    const fake = new FakeHelper({ connection: 'refused' });
    await expect(fake.call('apps.list', {})).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    expect((await fake.call('shell.connection', {})).state).toBe('refused');
  });

  it('explains a destination', async () => {
    const fake = new FakeHelper();
    const r = await fake.call('explain', { app: 'lab-browser', destination: 'example.org:443' });
    expect(r).toMatchObject({
      verdict: 'default',
      egress: 'enp3s0',
      sourceAddress: '10.0.0.42',
      destination: { port: 443, protocol: 'tcp' },
    });
    await expect(fake.call('explain', { app: 'lab-browser', destination: 'nope' })).rejects.toMatchObject({
      code: 'BAD_REQUEST',
    });
  });

  it('has rules, groups, networks and tunnels that match the schema, with problems as the helper words them', async () => {
    const fake = new FakeHelper({ apps: 12 });
    const list = await fake.call('rules.list', {});
    expect(RuleList.safeParse(list).success).toBe(true);
    // Rules naming an app the demo does not have are left out.
    const named = list.rules.flatMap((r) => (r.match.subject.kind === 'app' ? [r.match.subject.app] : []));
    expect(named.length).toBeGreaterThan(0);
    expect(named.every((id) => fake.apps.some((a) => a.id === id))).toBe(true);
    expect(NetworkList.safeParse(await fake.call('networks.list', {})).success).toBe(true);
    for (const t of await fake.call('tunnels.list', {})) expect(Tunnel.safeParse(t).success).toBe(true);
    const seen: unknown[] = [];
    fake.on('rules.changed', (d) => seen.push(d));
    fake.rules.setTunnelState('sy-office', 'down');
    expect(events['rules.changed'].safeParse(seen[0]).success).toBe(true);
    expect((await fake.call('rules.list', {})).rules.filter((r) => r.problem).map((r) => r.id)).toContain(
      'r-0ff1ce',
    );
  });

  it('refuses as the helper does: managed rules, moves across layers, unknown apps, groups in use', async () => {
    const fake = new FakeHelper();
    await expect(fake.call('rules.remove', { id: 'r-0ff1ce' })).rejects.toMatchObject({ code: 'MANAGED' });
    await expect(fake.call('rules.move', { id: 'r-7f3a10', before: 'r-e5c201' })).rejects.toMatchObject({
      code: 'BAD_REQUEST',
    });
    await expect(
      fake.call('rules.add', {
        rule: { match: { subject: { kind: 'app', app: 'nope' } }, action: { type: 'block' } },
      }),
    ).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(fake.call('groups.remove', { name: 'chat' })).rejects.toMatchObject({
      code: 'BAD_REQUEST',
      message: 'group "Chat" is used by rule r-7f3a10; remove it first.',
    });
    await expect(fake.call('groups.set', { name: 'Work', apps: [] })).rejects.toMatchObject({
      code: 'MANAGED',
    });
    // The fake is no gateway.
    await expect(fake.call('gateway.stats', {})).rejects.toMatchObject({ code: 'UNAVAILABLE' });
  });

  it('flags Firefox by clamav in the demo, with its rule, its audit and status.held', async () => {
    const fake = new FakeHelper();
    const firefox = await fake.call('apps.get', { id: 'firefox' });
    expect(firefox.held).toEqual([
      expect.objectContaining({ kind: 'flagged', source: 'clamav', severity: 'high', until: null }),
    ]);
    const status = await fake.call('status.get', {});
    expect(Status.parse(status).held).toEqual(['firefox']);
    const state = ReactionsState.parse(await fake.call('reactions.get', {}));
    expect(state.active.map((e) => [e.kind, e.app, e.rules.length])).toEqual([['app.flagged', 'firefox', 1]]);
    expect(state.templates.map((t) => t.id)).toEqual(['flagged', 'quarantined', 'unknown-network-work']);
    const audit = await fake.call('audit.list', {});
    for (const a of audit) expect(AuditEntry.safeParse(a).success).toBe(true);
    expect(audit.map((a) => a.seq)).toEqual([...audit.map((a) => a.seq)].sort((x, y) => x - y));
  });

  it('quarantines as the helper does: held, a block rule, the events in order; clear ends it', async () => {
    const fake = new FakeHelper({ reactionHistory: false });
    const seen: string[] = [];
    for (const name of [
      'audit.appended',
      'reactions.changed',
      'rules.changed',
      'app.changed',
      'policy.changed',
    ] as const)
      fake.on(name, (d) => {
        expect(events[name].safeParse(d).success).toBe(true);
        seen.push(name);
      });
    const e = await fake.call('quarantine.start', { app: 'lab-browser', seconds: 3600 });
    expect(e).toMatchObject({
      kind: 'app.quarantined',
      app: 'lab-browser',
      reason: 'quarantined by hand for 1 h',
    });
    expect(seen).toEqual([
      'audit.appended',
      'audit.appended',
      'reactions.changed',
      'rules.changed',
      'app.changed',
      'policy.changed',
    ]);
    const app = await fake.call('apps.get', { id: 'lab-browser' });
    expect(app.held).toEqual([
      {
        event: e.id,
        kind: 'quarantined',
        source: 'quarantine',
        reason: e.reason,
        severity: 'high',
        since: e.startedAt,
        until: e.endsAt,
      },
    ]);
    const rule = (await fake.call('rules.list', {})).rules.find((r) => r.event?.id === e.id);
    expect(rule).toMatchObject({ layer: 'event', action: { type: 'block' }, expiresAt: e.endsAt });

    expect(await fake.call('findings.clear', { app: 'lab-browser' })).toEqual({ cleared: 1 });
    expect((await fake.call('apps.get', { id: 'lab-browser' })).held).toEqual([]);
    expect(
      (await fake.call('rules.list', {})).rules.some((r) => r.origin === 'event' && r.event?.id === e.id),
    ).toBe(false);
    expect((await fake.call('audit.list', { app: 'lab-browser' })).map((a) => a.action)).toEqual([
      'event.started',
      'rule.created',
      'rule.removed',
      'event.ended',
    ]);
    expect(await fake.call('findings.clear', { app: 'lab-browser' })).toEqual({ cleared: 0 });
    await expect(fake.call('quarantine.start', { app: 'nope', seconds: 60 })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
  });

  it('ends a quarantine when its time is up', async () => {
    let now = Date.parse('2025-03-04T10:00:00Z');
    const fake = new FakeHelper({ reactionHistory: false, now: () => now });
    await fake.call('quarantine.start', { app: 'lab-browser', seconds: 900 });
    now += 899_000;
    fake.tick();
    expect(fake.apps.find((a) => a.id === 'lab-browser')?.held).toHaveLength(1);
    now += 1000;
    fake.tick();
    expect(fake.apps.find((a) => a.id === 'lab-browser')?.held).toEqual([]);
    expect(fake.reactions.audit.at(-1)).toMatchObject({ action: 'event.ended', by: 'the helper' });
    expect(fake.reactions.audit.at(-1)?.message).toBe('the quarantine of lab-browser ended: its time was up');
  });

  it('flags by executable, repeats a flag, and audits a refused report', async () => {
    const fake = new FakeHelper({ reactionHistory: false });
    const flagged: unknown[] = [];
    fake.on('app.flagged', (d) => flagged.push(d));
    const first = await fake.call('findings.report', {
      exe: '/usr/bin/firefox',
      reason: 'PUA',
      severity: 'low',
      source: 'clamav',
    });
    const again = await fake.call('findings.report', { app: 'firefox', reason: 'Trojan', source: 'clamav' });
    expect(again).toMatchObject({ id: first.id, repeats: 1, severity: 'high' });
    expect(flagged).toHaveLength(2);
    await expect(
      fake.call('findings.report', { file: '/tmp/x.sh', reason: 'dropper', source: 'clamav' }),
    ).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(fake.reactions.audit.at(-1)).toMatchObject({ action: 'report.refused' });
  });

  it('answers audit.list oldest first with the newest `limit` entries matching app and since', async () => {
    const fake = new FakeHelper();
    const all = await fake.call('audit.list', {});
    expect(all.length).toBeGreaterThan(8);
    expect(await fake.call('audit.list', { limit: 3 })).toEqual(all.slice(-3));
    const steam = await fake.call('audit.list', { app: 'steam' });
    expect(steam.length).toBeGreaterThan(0);
    expect(steam).toEqual(all.filter((a) => a.app === 'steam'));
    const since = new Date(Date.now() - 3600_000).toISOString();
    expect(await fake.call('audit.list', { since })).toEqual(all.filter((a) => a.time >= since));
  });
});
