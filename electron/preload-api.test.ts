import { describe, expect, it } from 'vitest';
import { IPC_CALL, IPC_EVENT } from './api-names.ts';
import { type PreloadIpc, createPreloadApi } from './preload-api.ts';

function fakeIpc(reply: unknown = { ok: true, result: { fine: 1 } }) {
  const invoked: unknown[][] = [];
  let eventListener: ((e: unknown, ...args: unknown[]) => void) | null = null;
  const ipc: PreloadIpc = {
    invoke: async (channel, ...args) => {
      invoked.push([channel, ...args]);
      return reply;
    },
    on: (channel, listener) => {
      if (channel === IPC_EVENT) eventListener = listener;
    },
  };
  return { ipc, invoked, fire: (env: unknown) => eventListener?.({}, env) };
}

describe('preload API', () => {
  it('forwards known methods on the one call channel', async () => {
    const f = fakeIpc();
    const api = createPreloadApi(f.ipc);
    expect(await api.call('status.get')).toEqual({ fine: 1 });
    expect(await api.call('shell.info', {})).toEqual({ fine: 1 });
    expect(f.invoked).toEqual([
      [IPC_CALL, 'status.get', {}],
      [IPC_CALL, 'shell.info', {}],
    ]);
  });

  it('refuses unknown method and event names before IPC', async () => {
    const f = fakeIpc();
    const api = createPreloadApi(f.ipc);
    for (const m of ['nope', 'toString', '__proto__', 'constructor', 'hasOwnProperty']) {
      await expect(api.call(m)).rejects.toMatchObject({ name: 'ApiError', code: 'UNKNOWN_METHOD' });
    }
    await expect(api.call(42 as unknown as string)).rejects.toMatchObject({ code: 'UNKNOWN_METHOD' });
    expect(f.invoked).toEqual([]);
    expect(() => api.on('nope', () => {})).toThrow(/unknown event/);
    expect(() => api.on('counters', 'x' as unknown as () => void)).toThrow(/function/);
  });

  it('rejects with a plain error object carrying the code', async () => {
    const api = createPreloadApi(
      fakeIpc({ ok: false, error: { code: 'MANAGED', message: 'pinned by policy', details: { a: 1 } } }).ipc,
    );
    const err = await api.call('egress.set', {}).catch((e: unknown) => e);
    expect(err).toEqual({
      name: 'ApiError',
      code: 'MANAGED',
      message: 'pinned by policy',
      details: { a: 1 },
    });
  });

  it('delivers events by name to listeners until they unsubscribe', () => {
    const f = fakeIpc();
    const api = createPreloadApi(f.ipc);
    const got: unknown[] = [];
    const off = api.on('egress.killed', (d, meta) => got.push([d, meta]));
    api.on('shell.connection', (d, meta) => got.push(['conn', d, meta.seq]));
    f.fire({ event: 'egress.killed', seq: 1, time: 't', data: { app: 'a' } });
    f.fire({ event: 'counters', seq: 2, time: 't', data: {} });
    f.fire({ event: 'shell.connection', seq: 0, time: 't', data: { state: 'absent' } });
    f.fire(null);
    off();
    f.fire({ event: 'egress.killed', seq: 3, time: 't', data: { app: 'b' } });
    expect(got).toEqual([
      [{ app: 'a' }, { seq: 1, time: 't' }],
      ['conn', { state: 'absent' }, 0],
    ]);
    expect(Object.isFrozen(api)).toBe(true);
  });
});
