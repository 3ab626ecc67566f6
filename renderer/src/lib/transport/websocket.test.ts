import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { HelperConnection } from '#switchyard/api/shell-schema.ts';
import { diagnose } from '../state/connection.svelte.ts';
import { FakeHelper } from '../transport-testing/fake-helper.ts';
import { WebSocketClient, bridgeUrl, defaultBackoff, tokenFromHash, type SocketLike } from './websocket.ts';

/** A socket the test drives by hand: it records what the client sends and delivers what we say. */
class TestSocket implements SocketLike {
  readyState = 0;
  sent: { id: number; method: string; params: unknown }[] = [];
  onopen: ((ev: unknown) => void) | null = null;
  onclose: ((ev: { code: number; reason: string }) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  constructor(readonly url: string) {}
  send(data: string) {
    expect(data).not.toContain('\n');
    this.sent.push(JSON.parse(data) as { id: number; method: string; params: unknown });
  }
  close(code = 1000, reason = '') {
    this.readyState = 3;
    this.onclose?.({ code, reason });
  }
  open() {
    this.readyState = 1;
    this.onopen?.({});
  }
  deliver(msg: unknown) {
    this.onmessage?.({ data: typeof msg === 'string' ? msg : JSON.stringify(msg) });
  }
  drop(code = 1006) {
    this.readyState = 3;
    this.onclose?.({ code, reason: '' });
  }
  lastRequest(method: string) {
    const r = [...this.sent].reverse().find((s) => s.method === method);
    if (!r) throw new Error(`no ${method} request was sent`);
    return r;
  }
}

const connected: HelperConnection = {
  state: 'connected',
  message: 'ok',
  socket: '/run/switchyard/helper.sock',
  retryInMs: null,
};

function setup(opts: { probe?: () => Promise<boolean>; hasToken?: boolean } = {}) {
  const sockets: TestSocket[] = [];
  const client = new WebSocketClient({
    url: 'ws://127.0.0.1:9/api?token=secret',
    createSocket: (url) => {
      const s = new TestSocket(url);
      sockets.push(s);
      return s;
    },
    backoff: (n) => 1000 * (n + 1),
    probe: opts.probe ?? (async () => false),
    hasToken: opts.hasToken ?? true,
  });
  const states: HelperConnection[] = [];
  client.on('shell.connection', (c) => states.push(c));
  const current = () => sockets[sockets.length - 1] as TestSocket;
  /** Open the socket and answer the client's shell.connection question. */
  const openConnected = async () => {
    current().open();
    current().deliver({ id: current().lastRequest('shell.connection').id, result: connected });
    await vi.advanceTimersByTimeAsync(0);
  };
  return { client, sockets, states, current, openConnected };
}

describe('WebSocketClient', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.spyOn(console, 'error').mockImplementation(() => {}); // reported problems are asserted, not printed
  });
  afterEach(() => {
    vi.useRealTimers();
    vi.restoreAllMocks();
  });

  it('connects to the bridge address, asks for the helper connection, then subscribes', async () => {
    const { client, current, openConnected, states } = setup();
    expect(current().url).toBe('ws://127.0.0.1:9/api?token=secret');
    await openConnected();
    expect(states.at(-1)?.state).toBe('connected');
    expect(current().lastRequest('events.subscribe').params).toEqual({});
    client.close();
  });

  it('keeps the helper socket when the bridge reports the helper gone, so the screen blames the helper', async () => {
    const { client, current, openConnected, states } = setup();
    await openConnected();
    current().deliver({
      event: 'shell.connection',
      seq: 0,
      time: new Date().toISOString(),
      data: {
        state: 'absent',
        message: 'not running',
        socket: '/run/switchyard/helper.sock',
        retryInMs: 1000,
      },
    });
    expect(states.at(-1)).toMatchObject({ state: 'absent', socket: '/run/switchyard/helper.sock' });
    expect(diagnose(states.at(-1)!).title).toBe('The Switchyard helper is not running');
    current().drop();
    await vi.advanceTimersByTimeAsync(0);
    expect(states.at(-1)?.socket).toMatch(/^ws:\/\/127\.0\.0\.1:9\/api\?token=…/);
    client.close();
  });

  it('resolves calls with validated results and rejects helper errors with their code', async () => {
    const { client, current, openConnected } = setup();
    await openConnected();
    const fake = new FakeHelper();
    const apps = client.call('apps.list', {});
    current().deliver({ id: current().lastRequest('apps.list').id, result: fake.apps });
    expect((await apps).length).toBe(36);

    const set = client.call('egress.set', { app: 'firefox', choice: { mode: 'block' } });
    current().deliver({
      id: current().lastRequest('egress.set').id,
      error: { code: 'MANAGED', message: 'Pinned by policy.' },
    });
    await expect(set).rejects.toMatchObject({ code: 'MANAGED', message: 'Pinned by policy.' });
    client.close();
  });

  it('fills in parameter defaults and refuses bad params before sending', async () => {
    const { client, current, openConnected } = setup();
    await openConnected();
    void client.call('explain', { app: 'firefox', destination: 'example.org:443' }).catch(() => {});
    expect(current().lastRequest('explain').params).toEqual({
      app: 'firefox',
      destination: 'example.org:443',
      protocol: 'tcp',
    });
    await expect(client.call('apps.get', { id: 'Not An Id' })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    client.close();
  });

  it('turns a malformed result into a clear INTERNAL error instead of passing it on', async () => {
    const { client, current, openConnected } = setup();
    await openConnected();
    const status = client.call('status.get', {});
    current().deliver({ id: current().lastRequest('status.get').id, result: { version: 1 } });
    await expect(status).rejects.toMatchObject({
      code: 'INTERNAL',
      message: expect.stringMatching(/^status.get returned a malformed result/),
    });
    client.close();
  });

  it('delivers valid events with their seq and time, and reports malformed ones', async () => {
    const { client, current, openConnected } = setup();
    await openConnected();
    const got: unknown[] = [];
    const problems: string[] = [];
    client.on('egress.failover', (d, m) => got.push([d, m]));
    client.onProtocolError((e) => problems.push(e.message));
    current().deliver({
      event: 'egress.failover',
      seq: 12,
      time: '2026-11-21T10:00:00Z',
      data: { app: 'firefox', from: 'wlan0', to: 'enp3s0' },
    });
    current().deliver({
      event: 'egress.failover',
      seq: 13,
      time: '2026-11-21T10:00:01Z',
      data: { app: 'firefox' },
    });
    current().deliver('not json');
    current().deliver({ surprise: true });
    expect(got).toEqual([
      [
        { app: 'firefox', from: 'wlan0', to: 'enp3s0' },
        { seq: 12, time: '2026-11-21T10:00:00Z' },
      ],
    ]);
    expect(problems).toHaveLength(3);
    expect(problems[0]).toMatch(/^event egress.failover is malformed: from:/);
    expect(problems[1]).toMatch(/not JSON/);
    client.close();
  });

  it('reconnects with backoff after the socket drops and fails pending calls', async () => {
    const { client, sockets, current, openConnected, states } = setup();
    await openConnected();
    const pending = client.call('apps.list', {});
    current().drop();
    await expect(pending).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    await vi.advanceTimersByTimeAsync(0);
    expect(states.at(-1)).toMatchObject({ state: 'absent', retryInMs: 1000 });
    expect(states.at(-1)?.socket).toMatch(/^ws:/);
    expect(sockets).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1000);
    expect(sockets).toHaveLength(2);
    current().drop();
    await vi.advanceTimersByTimeAsync(0);
    expect(states.at(-1)?.retryInMs).toBe(2000); // backing off
    await vi.advanceTimersByTimeAsync(2000);
    await openConnected();
    expect(states.at(-1)?.state).toBe('connected');
    client.close();
  });

  it('says the bridge refused us when the socket never opens but the page server answers', async () => {
    const { client, current, states } = setup({ probe: async () => true });
    current().drop();
    await vi.advanceTimersByTimeAsync(0);
    expect(states.at(-1)?.state).toBe('refused');
    expect(states.at(-1)?.message).toMatch(/switchyard web/);
    client.close();
  });

  it('passes on the bridge’s own view of the helper and resubscribes when it comes back', async () => {
    const { client, current, openConnected, states } = setup();
    await openConnected();
    const subscribes = () => current().sent.filter((s) => s.method === 'events.subscribe').length;
    expect(subscribes()).toBe(1);
    current().deliver({
      event: 'shell.connection',
      seq: 0,
      time: 'x',
      data: { ...connected, state: 'absent', retryInMs: 2000, message: 'not running' },
    });
    expect(states.at(-1)).toMatchObject({ state: 'absent', message: 'not running' });
    current().deliver({ event: 'shell.connection', seq: 0, time: 'x', data: connected });
    await vi.advanceTimersByTimeAsync(0);
    expect(subscribes()).toBe(2);
    client.close();
  });

  it('times out calls the bridge never answers', async () => {
    const { client, openConnected } = setup();
    await openConnected();
    const p = client.call('status.get', {});
    const check = expect(p).rejects.toMatchObject({
      code: 'UNAVAILABLE',
      message: expect.stringMatching(/did not answer status.get/),
    });
    await vi.advanceTimersByTimeAsync(20_000);
    await check;
    client.close();
  });
});

describe('bridge address and token', () => {
  it('reads the token from the hash in the forms the bridge prints', () => {
    expect(tokenFromHash('#token=abc123')).toBe('abc123');
    expect(tokenFromHash('#/apps&token=a%2Bb')).toBe('a+b');
    expect(tokenFromHash('#/apps')).toBeNull();
  });
  it('builds ws:// or wss:// from the page location', () => {
    expect(bridgeUrl({ protocol: 'http:', host: '127.0.0.1:8123' }, 'a b')).toBe(
      'ws://127.0.0.1:8123/api?token=a%20b',
    );
    expect(bridgeUrl({ protocol: 'https:', host: 'localhost' }, null)).toBe('wss://localhost/api');
  });
  it('backs off exponentially up to 30 s', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 20].map(defaultBackoff)).toEqual([
      1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000,
    ]);
  });
});
