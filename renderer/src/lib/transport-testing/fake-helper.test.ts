import { describe, expect, it } from 'vitest';
import { App, Interface, events } from '#switchyard/api/schema.ts';
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
});
