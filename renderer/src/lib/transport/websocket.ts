// The web carrier: a WebSocket to the loopback bridge, reconnecting with backoff. The connection state it
// reports merges its own socket with the bridge's view of the helper (the bridge's shell.connection).
import {
  ApiError,
  EventEnvelope,
  ResponseEnvelope,
  describeZodError,
  parseParams,
} from '#switchyard/api/schema.ts';
import type { HelperConnection } from '#switchyard/api/shell-schema.ts';
import {
  ListenerSet,
  isHelperMethod,
  isUiEvent,
  parseAnyEvent,
  parseAnyResult,
  toApiError,
  type AnyMethodName,
  type AnyParamsIn,
  type AnyResult,
  type EventMeta,
  type Listener,
  type SwitchyardClient,
  type UiEventName,
} from './types.ts';

/** The slice of the WebSocket API we use, so tests can hand in a fake socket. */
export interface SocketLike {
  readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
}

export interface WebSocketClientOptions {
  url: string;
  /** Defaults to the browser's WebSocket. */
  createSocket?: (url: string) => SocketLike;
  /** Delay before retry number n (0-based). */
  backoff?: (attempt: number) => number;
  requestTimeoutMs?: number;
  hasToken?: boolean;
  /**
   * Whether the bridge's HTTP server answers. Browsers hide why an upgrade failed, so a socket that
   * never opened while the server answers means the bridge refused us (wrong or reused token).
   */
  probe?: () => Promise<boolean>;
}

const OPEN = 1;
/** Close codes that mean "you, not the network": policy violation (1008) and garbage (1007). */
const REFUSED_CODES = new Set([1007, 1008, 4401, 4403]);

async function probeServer(): Promise<boolean> {
  try {
    const res = await fetch('./', { method: 'HEAD', cache: 'no-store' });
    return res.ok;
  } catch {
    return false;
  }
}

export function defaultBackoff(attempt: number): number {
  return Math.min(30_000, 1000 * 2 ** Math.min(attempt, 5));
}

/** Build the bridge address from the page's own location and the token taken from its hash. */
export function bridgeUrl(location: { protocol: string; host: string }, token: string | null): string {
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  const query = token ? `?token=${encodeURIComponent(token)}` : '';
  return `${scheme}://${location.host}/api${query}`;
}

/** Read `#token=…` from a hash like "#token=abc" or "#/apps&token=abc". */
export function tokenFromHash(hash: string): string | null {
  const m = /(?:^#|[#&/?])token=([^&]+)/.exec(hash);
  return m?.[1] ? decodeURIComponent(m[1]) : null;
}

interface Pending {
  method: AnyMethodName;
  resolve: (v: unknown) => void;
  reject: (e: ApiError) => void;
  timer: ReturnType<typeof setTimeout>;
}

export class WebSocketClient implements SwitchyardClient {
  readonly kind = 'web' as const;
  #opts: Required<WebSocketClientOptions>;
  #socket: SocketLike | null = null;
  #wsLabel: string;
  #listeners = new ListenerSet();
  #errors = new Set<(e: ApiError) => void>();
  #pending = new Map<number, Pending>();
  #nextId = 1;
  #attempt = 0;
  #retryTimer: ReturnType<typeof setTimeout> | null = null;
  #closed = false;
  #state: HelperConnection;

  constructor(options: WebSocketClientOptions) {
    this.#opts = {
      createSocket: (url) => new WebSocket(url) as unknown as SocketLike,
      backoff: defaultBackoff,
      requestTimeoutMs: 20_000,
      hasToken: true,
      probe: probeServer,
      ...options,
    };
    this.#wsLabel = this.#opts.url.replace(/token=[^&]+/, 'token=…');
    this.#state = {
      state: 'connecting',
      message: 'Connecting to the Switchyard bridge…',
      socket: this.#wsLabel,
      retryInMs: null,
    };
    this.#connect();
  }

  /** The current merged connection state (also sent to 'shell.connection' listeners on every change). */
  currentConnection(): HelperConnection {
    return this.#state;
  }

  /**
   * The bridge's own view of the helper keeps the helper's socket path; a problem with the WebSocket
   * itself names the ws:// address. The unavailable screen tells the two apart by that.
   */
  #setState(next: Omit<HelperConnection, 'socket'> & { socket?: string }) {
    this.#state = { ...next, socket: next.socket ?? this.#wsLabel };
    this.#listeners.emit('shell.connection', this.#state);
  }

  #connect() {
    if (this.#closed) return;
    this.#retryTimer = null;
    let socket: SocketLike;
    try {
      socket = this.#opts.createSocket(this.#opts.url);
    } catch (e) {
      this.#scheduleRetry({ code: 1006, reason: toApiError(e).message });
      return;
    }
    this.#socket = socket;
    let opened = false;
    socket.onopen = () => {
      opened = true;
      this.#attempt = 0;
      void this.#afterOpen();
    };
    socket.onmessage = (ev) => this.#receive(ev.data);
    socket.onerror = () => {
      // The close event that follows carries the details; nothing to do here.
    };
    socket.onclose = (ev) => {
      if (this.#socket !== socket) return;
      this.#socket = null;
      this.#failPending(
        new ApiError('UNAVAILABLE', 'The connection to the Switchyard bridge closed; try again in a moment.'),
      );
      if (opened || REFUSED_CODES.has(ev.code)) return this.#scheduleRetry(ev);
      void this.#opts
        .probe()
        .then((alive) => this.#scheduleRetry(alive ? { code: 4401, reason: 'refused' } : ev));
    };
  }

  async #afterOpen() {
    // The socket is up; ask the bridge whether it can reach the helper.
    let helper: HelperConnection;
    try {
      helper = await this.call('shell.connection', {});
    } catch {
      helper = { state: 'connected', message: 'Connected.', socket: this.#wsLabel, retryInMs: null };
    }
    this.#setState(helper);
    if (helper.state === 'connected') await this.#subscribe();
  }

  async #subscribe() {
    try {
      await this.call('events.subscribe', {});
    } catch (e) {
      this.#reportError(
        new ApiError('UNAVAILABLE', `Live updates could not start: ${toApiError(e).message}`),
      );
    }
  }

  #scheduleRetry(ev: { code: number; reason: string }) {
    if (this.#closed) return;
    const delay = this.#opts.backoff(this.#attempt++);
    if (REFUSED_CODES.has(ev.code) || !this.#opts.hasToken) {
      this.#setState({
        state: 'refused',
        message: this.#opts.hasToken
          ? 'The Switchyard bridge refused this page: its link is wrong or already used by another browser. Run "switchyard web" again and open the new link.'
          : 'This page has no access token. Run "switchyard web" and open the full link it prints (it ends in #token=…).',
        retryInMs: delay,
      });
    } else {
      this.#setState({
        state: 'absent',
        message: 'The Switchyard web bridge is not answering. Start it again with "switchyard web".',
        retryInMs: delay,
      });
    }
    this.#retryTimer = setTimeout(() => this.#connect(), delay);
  }

  retryNow(): void {
    if (this.#closed || this.#socket) return;
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    this.#setState({ state: 'connecting', message: 'Connecting to the Switchyard bridge…', retryInMs: null });
    this.#connect();
  }

  #receive(raw: unknown) {
    let msg: unknown;
    try {
      msg = JSON.parse(String(raw));
    } catch {
      this.#reportError(
        new ApiError('INTERNAL', 'The bridge sent a message that is not JSON; it was ignored.'),
      );
      return;
    }
    if (msg && typeof msg === 'object' && 'event' in msg) {
      const env = EventEnvelope.safeParse(msg);
      // shell.connection is not a helper event, so EventEnvelope does not list it.
      const name = (msg as { event: unknown }).event;
      if (!env.success && name !== 'shell.connection') {
        this.#reportError(
          new ApiError('INTERNAL', `The bridge sent a malformed event: ${describeZodError(env.error)}`),
        );
        return;
      }
      const { seq, time, data } = msg as unknown as { seq?: number; time?: string; data: unknown };
      this.#dispatchEvent(String(name), data, { seq, time });
      return;
    }
    const res = ResponseEnvelope.safeParse(msg);
    if (!res.success) {
      this.#reportError(
        new ApiError('INTERNAL', `The bridge sent a malformed response: ${describeZodError(res.error)}`),
      );
      return;
    }
    const body = res.data;
    const pending = body.id === null ? undefined : this.#pending.get(body.id);
    if (!pending) {
      if ('error' in body) this.#reportError(new ApiError(body.error.code, body.error.message));
      return;
    }
    this.#pending.delete(body.id as number);
    clearTimeout(pending.timer);
    if ('error' in body) {
      pending.reject(new ApiError(body.error.code, body.error.message, body.error.details));
      return;
    }
    try {
      pending.resolve(parseAnyResult(pending.method, body.result));
    } catch (e) {
      pending.reject(toApiError(e));
    }
  }

  #dispatchEvent(name: string, data: unknown, meta: Partial<EventMeta>) {
    if (!isUiEvent(name)) return;
    let parsed: unknown;
    try {
      parsed = parseAnyEvent(name, data);
    } catch (e) {
      this.#reportError(toApiError(e));
      return;
    }
    if (name === 'shell.connection') {
      // The bridge's helper connection changed; merge it with ours and resubscribe when it comes back.
      const helper = parsed as HelperConnection;
      const was = this.#state.state;
      this.#setState(helper);
      if (helper.state === 'connected' && was !== 'connected') void this.#subscribe();
      return;
    }
    this.#listeners.emit(name, parsed, meta);
  }

  call<M extends AnyMethodName>(method: M, params: AnyParamsIn<M>): Promise<AnyResult<M>> {
    let sent: unknown;
    try {
      sent = isHelperMethod(method) ? parseParams(method, params) : (params ?? {});
    } catch (e) {
      return Promise.reject(toApiError(e));
    }
    const socket = this.#socket;
    if (!socket || socket.readyState !== OPEN) {
      return Promise.reject(
        new ApiError('UNAVAILABLE', 'Not connected to the Switchyard bridge yet; it retries on its own.'),
      );
    }
    const id = this.#nextId++;
    return new Promise<AnyResult<M>>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new ApiError('UNAVAILABLE', `The helper did not answer ${method} in time; try again.`));
      }, this.#opts.requestTimeoutMs);
      this.#pending.set(id, { method, resolve: resolve as (v: unknown) => void, reject, timer });
      socket.send(JSON.stringify({ id, method, params: sent }));
    });
  }

  on<E extends UiEventName>(event: E, listener: Listener<E>): () => void {
    return this.#listeners.add(event, listener as (d: unknown, m: EventMeta) => void);
  }

  onProtocolError(listener: (error: ApiError) => void): () => void {
    this.#errors.add(listener);
    return () => this.#errors.delete(listener);
  }

  #reportError(e: ApiError) {
    console.error(e.message);
    for (const l of this.#errors) l(e);
  }

  #failPending(e: ApiError) {
    for (const p of this.#pending.values()) {
      clearTimeout(p.timer);
      p.reject(e);
    }
    this.#pending.clear();
  }

  close(): void {
    this.#closed = true;
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    this.#failPending(new ApiError('UNAVAILABLE', 'The client was closed.'));
    this.#socket?.close(1000, 'closing');
    this.#socket = null;
  }
}
