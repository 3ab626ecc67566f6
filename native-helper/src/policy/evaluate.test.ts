import { describe, expect, it } from 'vitest';
import type { EgressChoice } from '../api/schema.ts';
import { effectiveChoice, evaluate, resolveDestination } from './evaluate.ts';

const ifs = (up: Record<string, boolean>) => Object.entries(up).map(([name, usable]) => ({ name, usable }));
const run = { paused: false, override: null };
const ordered = (egresses: string[], killSwitch: boolean): EgressChoice => ({
  mode: 'ordered',
  egresses,
  killSwitch,
});

describe('evaluate', () => {
  it('routes through the first usable egress, fails over and fails back', () => {
    const c = ordered(['wlan0', 'eth0'], false);
    expect(evaluate(c, ifs({ wlan0: true, eth0: true }), run)).toEqual({ state: 'routed', active: 'wlan0' });
    expect(evaluate(c, ifs({ wlan0: false, eth0: true }), run)).toEqual({
      state: 'failed-over',
      active: 'eth0',
    });
    expect(evaluate(c, ifs({ eth0: true }), run)).toEqual({ state: 'failed-over', active: 'eth0' });
    expect(evaluate(c, ifs({ wlan0: true, eth0: false }), run)).toEqual({ state: 'routed', active: 'wlan0' });
  });

  it('falls back to default without kill switch and is killed with it', () => {
    expect(evaluate(ordered(['wg0'], false), ifs({ wg0: false, eth0: true }), run)).toEqual({
      state: 'fallback-default',
      active: null,
    });
    expect(evaluate(ordered(['wg0'], true), ifs({ wg0: false, eth0: true }), run)).toEqual({
      state: 'killed',
      active: null,
    });
    expect(evaluate(ordered(['wg0', 'eth0'], true), ifs({ wg0: false, eth0: true }), run)).toEqual({
      state: 'failed-over',
      active: 'eth0',
    });
  });

  it('reports default and blocked', () => {
    expect(evaluate({ mode: 'default' }, ifs({ eth0: true }), run)).toEqual({
      state: 'default',
      active: null,
    });
    expect(evaluate({ mode: 'block' }, ifs({ eth0: true }), run)).toEqual({ state: 'blocked', active: null });
  });

  it('paused keeps routing but lifts block and kill', () => {
    const paused = { paused: true, override: null };
    expect(evaluate({ mode: 'block' }, ifs({}), paused)).toEqual({ state: 'paused', active: null });
    expect(evaluate(ordered(['wg0'], true), ifs({ wg0: false }), paused)).toEqual({
      state: 'paused',
      active: null,
    });
    expect(evaluate(ordered(['wg0', 'eth0'], true), ifs({ wg0: false, eth0: true }), paused)).toEqual({
      state: 'paused',
      active: 'eth0',
    });
  });

  it('override sends every non-blocked app through one egress, keeping each kill switch', () => {
    const over = { paused: false, override: 'wg0' };
    expect(evaluate({ mode: 'default' }, ifs({ wg0: true }), over)).toEqual({
      state: 'routed',
      active: 'wg0',
    });
    expect(evaluate(ordered(['eth0'], false), ifs({ wg0: true, eth0: true }), over)).toEqual({
      state: 'routed',
      active: 'wg0',
    });
    expect(evaluate({ mode: 'block' }, ifs({ wg0: true }), over)).toEqual({ state: 'blocked', active: null });
    expect(evaluate(ordered(['eth0'], true), ifs({ wg0: false, eth0: true }), over)).toEqual({
      state: 'killed',
      active: null,
    });
    expect(evaluate({ mode: 'default' }, ifs({ wg0: false }), over)).toEqual({
      state: 'fallback-default',
      active: null,
    });
    expect(effectiveChoice({ mode: 'default' }, 'wg0')).toEqual({
      mode: 'ordered',
      egresses: ['wg0'],
      killSwitch: false,
    });
  });

  it('exclude mode sends a default app through its egress with the mode kill switch, unless overridden', () => {
    const exclude = { kind: 'exclude' as const, via: 'sy-tun0', killSwitch: true };
    expect(effectiveChoice({ mode: 'default' }, null, exclude)).toEqual({
      mode: 'ordered',
      egresses: ['sy-tun0'],
      killSwitch: true,
    });
    expect(effectiveChoice(ordered(['eth0'], false), null, exclude)).toEqual(ordered(['eth0'], false));
    expect(effectiveChoice({ mode: 'default' }, 'wg0', exclude)).toMatchObject({ egresses: ['wg0'] });
    const sw = { paused: false, override: null, mode: exclude };
    expect(evaluate({ mode: 'default' }, ifs({ 'sy-tun0': true }), sw)).toEqual({
      state: 'routed',
      active: 'sy-tun0',
    });
    expect(evaluate({ mode: 'default' }, ifs({ 'sy-tun0': false }), sw)).toEqual({
      state: 'killed',
      active: null,
    });
    expect(
      evaluate({ mode: 'default' }, ifs({ 'sy-tun0': false }), {
        ...sw,
        mode: { ...exclude, killSwitch: false },
      }),
    ).toEqual({
      state: 'fallback-default',
      active: null,
    });
  });
});

const noLookup = (host: string) => Promise.reject(new Error(`no lookups in this test (${host})`));

describe('resolveDestination', () => {
  it('parses HOST:PORT and [IPv6]:PORT and rejects the rest', async () => {
    expect(await resolveDestination('198.18.0.9:443', 'tcp', noLookup)).toEqual({
      host: '198.18.0.9',
      address: '198.18.0.9',
      port: 443,
      protocol: 'tcp',
    });
    expect(await resolveDestination('[fd5a::1]:53', 'udp', noLookup)).toEqual({
      host: 'fd5a::1',
      address: 'fd5a::1',
      port: 53,
      protocol: 'udp',
    });
    await expect(resolveDestination('fd5a::1:53', 'tcp', noLookup)).rejects.toThrow(/HOST:PORT/);
    await expect(resolveDestination('host:0', 'tcp', noLookup)).rejects.toThrow(/out of range/);
  });
});
