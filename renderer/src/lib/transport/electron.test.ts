import { describe, expect, it, vi } from 'vitest';
import { ElectronClient } from './electron.ts';
import { FakeHelper } from '../transport-testing/fake-helper.ts';
import type { EventMeta, PreloadBridge } from './types.ts';

/** A preload double: answers from a FakeHelper's data and lets the test push raw events. */
function bridge() {
  const fake = new FakeHelper();
  const listeners = new Map<string, Set<(d: unknown, m?: Partial<EventMeta>) => void>>();
  const b: PreloadBridge & {
    push(event: string, data: unknown, meta?: Partial<EventMeta>): void;
    count(event: string): number;
  } = {
    call: vi.fn(async (method: string, params: unknown) => {
      if (method === 'status.get') return { version: '0.1.0' }; // malformed on purpose
      if (method === 'egress.set') throw { code: 'MANAGED', message: 'Pinned by the managed policy.' };
      return (fake.call as (m: string, p: unknown) => Promise<unknown>)(method, params);
    }),
    on(event, listener) {
      let set = listeners.get(event);
      if (!set) listeners.set(event, (set = new Set()));
      set.add(listener);
      return () => set.delete(listener);
    },
    push(event, data, meta) {
      for (const l of listeners.get(event) ?? []) l(data, meta);
    },
    count: (event) => listeners.get(event)?.size ?? 0,
  };
  return b;
}

describe('ElectronClient', () => {
  it('passes calls through the preload and validates results', async () => {
    const b = bridge();
    const client = new ElectronClient(b);
    expect((await client.call('interfaces.list', {})).map((i) => i.name)).toEqual(['lo', 'wlan0', 'enp3s0']);
    expect((await client.call('shell.info', {})).canAutostart).toBe(true);
    await expect(client.call('status.get', {})).rejects.toMatchObject({
      code: 'INTERNAL',
      message: expect.stringMatching(/malformed/),
    });
  });

  it('rejects with the preload error code and message', async () => {
    const client = new ElectronClient(bridge());
    await expect(
      client.call('egress.set', { app: 'firefox', choice: { mode: 'block' } }),
    ).rejects.toMatchObject({
      code: 'MANAGED',
      message: 'Pinned by the managed policy.',
    });
  });

  it('validates events, stamps missing metadata and shares one preload subscription', () => {
    const quiet = vi.spyOn(console, 'error').mockImplementation(() => {});
    const b = bridge();
    const client = new ElectronClient(b);
    const got: [unknown, EventMeta][] = [];
    const problems: string[] = [];
    client.onProtocolError((e) => problems.push(e.message));
    const off1 = client.on('egress.restored', (d, m) => got.push([d, m]));
    const off2 = client.on('egress.restored', () => {});
    expect(b.count('egress.restored')).toBe(1);
    b.push('egress.restored', { app: 'firefox', egress: 'wlan0' }, { seq: 5, time: '2026-11-21T10:00:00Z' });
    b.push('egress.restored', { app: 'firefox', egress: 'wlan0' });
    b.push('egress.restored', { app: 'firefox', egress: 'this name is far too long' });
    expect(got).toHaveLength(2);
    expect(got[0]?.[1]).toEqual({ seq: 5, time: '2026-11-21T10:00:00Z' });
    expect(got[1]?.[1].seq).toBeLessThan(0); // stamped locally
    expect(problems[0]).toMatch(/^event egress.restored is malformed: egress:/);
    off1();
    expect(b.count('egress.restored')).toBe(1);
    off2();
    expect(b.count('egress.restored')).toBe(0);
    expect(quiet).toHaveBeenCalledTimes(1);
    quiet.mockRestore();
  });

  it('accepts the shell.connection event', () => {
    const b = bridge();
    const client = new ElectronClient(b);
    const states: string[] = [];
    client.on('shell.connection', (c) => states.push(c.state));
    b.push('shell.connection', { state: 'refused', message: 'm', socket: '/run/x.sock', retryInMs: 3000 });
    expect(states).toEqual(['refused']);
  });
});
