import { afterEach, describe, expect, it, vi } from 'vitest';
import { eventNames } from '#switchyard/api/schema.ts';
import { FakeHelper } from '../transport-testing/fake-helper.ts';
import { toApiError } from '../transport/types.ts';
import { WebSocketClient, type SocketLike } from '../transport/websocket.ts';
import { Store } from './store.svelte.ts';

/** A stand-in for the web bridge: a socket that answers from a FakeHelper and forwards its events. */
class BridgeSocket implements SocketLike {
  readyState = 0;
  onopen: ((ev: unknown) => void) | null = null;
  onclose: ((ev: { code: number; reason: string }) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  methods: string[] = [];
  #seq = 100;
  constructor(readonly helper: FakeHelper) {
    for (const name of eventNames)
      helper.on(name, (data) =>
        this.#push({ event: name, seq: ++this.#seq, time: new Date().toISOString(), data }),
      );
  }
  open() {
    this.readyState = 1;
    this.onopen?.({});
  }
  #push(msg: unknown) {
    if (this.readyState === 1) this.onmessage?.({ data: JSON.stringify(msg) });
  }
  send(raw: string) {
    const { id, method, params } = JSON.parse(raw) as { id: number; method: string; params: unknown };
    this.methods.push(method);
    (this.helper.call as (m: string, p: unknown) => Promise<unknown>)(method, params).then(
      (result) => this.#push({ id, result }),
      (e: unknown) => this.#push({ id, error: toApiError(e).toBody() }),
    );
  }
  close() {
    this.readyState = 3;
    this.onclose?.({ code: 1000, reason: '' });
  }
}

let store: Store | null = null;
afterEach(() => store?.dispose());

describe('Store over the WebSocket carrier', () => {
  it('waits for the socket, then loads everything and follows live events', async () => {
    const helper = new FakeHelper();
    const socket = new BridgeSocket(helper);
    const client = new WebSocketClient({
      url: 'ws://127.0.0.1:1/api?token=t',
      createSocket: () => socket,
      probe: async () => false,
    });
    store = new Store(client);
    await store.start();
    expect(store.connection.screen).toBe('connecting');
    expect(socket.methods).toEqual([]);

    socket.open();
    await vi.waitFor(() => expect(store?.apps.list.length).toBe(36));
    expect(store.connection.screen).toBe('app');
    expect(socket.methods).toEqual(
      expect.arrayContaining([
        'shell.connection',
        'events.subscribe',
        'apps.list',
        'interfaces.list',
        'status.get',
        'events.history',
        'shell.info',
        'rules.list',
        'tunnels.list',
        'groups.list',
        'networks.list',
      ]),
    );
    await vi.waitFor(() => expect(store?.rules.holding.map((r) => r.id)).toEqual(['r-2b9c44']));
    expect(store.networks.current.length).toBe(2);
    expect(store.groups.list.map((g) => g.name)).toEqual(['Browsers', 'Chat', 'Work']);
    await vi.waitFor(() => expect(store?.activity.entries.length).toBe(helper.history.length));

    helper.tick();
    const running = store.apps.list.find((a) => a.pids.length > 0 && a.egress.state === 'routed');
    await vi.waitFor(() => expect(running?.counters.rxRate).toBeGreaterThan(0));
    expect(store.interfaces.history('wlan0').length).toBe(1);

    // Rule, group and network events reach their state modules, and expiries the activity log.
    helper.rules.setTunnelState('sy-travel', 'up');
    await vi.waitFor(() => expect(store?.rules.holding).toEqual([]));
    await helper.call('groups.add', { name: 'Media', apps: ['vlc'] });
    await vi.waitFor(() => expect(store?.groups.byName('Media')?.apps).toEqual(['vlc']));
    await helper.call('networks.setTrust', { id: 'n-5f0c9a2e71d4', trust: 'trusted' });
    await vi.waitFor(() => expect(store?.networks.onInterface('wlan0')?.trust).toBe('trusted'));
    helper.emit('rule.expired', {
      id: 'r-e5c201',
      name: 'Hotel sign-in page in clear',
      expiredAt: '2025-01-01T00:00:00Z',
    });
    await vi.waitFor(() =>
      expect(store?.activity.entries.at(-1)?.summary).toBe(
        'Rule r-e5c201 (“Hotel sign-in page in clear”) expired.',
      ),
    );
    expect(store.rules.rules.some((r) => r.id === 'r-e5c201')).toBe(false);

    await store.apps.setChoice('lab-browser', { mode: 'block' });
    expect(store.apps.byId('lab-browser')?.egress.state).toBe('blocked');
    await vi.waitFor(() =>
      expect(store?.activity.entries.at(-1)?.summary).toBe('Lab Browser: egress set to block'),
    );
  });

  it('shows the unavailable screen when the bridge drops, and reloads when it is back', async () => {
    vi.useFakeTimers();
    try {
      const helper = new FakeHelper();
      const sockets: BridgeSocket[] = [];
      const client = new WebSocketClient({
        url: 'ws://127.0.0.1:1/api?token=t',
        createSocket: () => {
          const s = new BridgeSocket(helper);
          sockets.push(s);
          return s;
        },
        backoff: () => 3000,
        probe: async () => false,
      });
      store = new Store(client);
      await store.start();
      sockets[0]?.open();
      await vi.waitFor(() => expect(store?.connection.screen).toBe('app'));
      sockets[0]?.close();
      await vi.advanceTimersByTimeAsync(0);
      expect(store.connection.screen).toBe('unavailable');
      expect(store.connection.secondsLeft).toBe(3);
      await vi.advanceTimersByTimeAsync(3000);
      sockets[1]?.open();
      await vi.waitFor(() => expect(store?.connection.screen).toBe('app'));
      await vi.waitFor(() => expect(sockets[1]?.methods).toContain('apps.list'));
    } finally {
      vi.useRealTimers();
    }
  });
});
