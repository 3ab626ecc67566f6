import { describe, expect, it } from 'vitest';
import { App, Interface, NetworkList, RuleList, Tunnel, events } from '#switchyard/api/schema.ts';
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
  });
});
