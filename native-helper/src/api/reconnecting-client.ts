// ReconnectingHelperClient keeps one connection to the helper alive with backoff, and says in words
// why it cannot (no helper, no permission, wrong version).
import {
  API_VERSION,
  ApiError,
  type EventEnvelope,
  type EventData,
  type EventName,
  type HelperClient,
  type MethodName,
  type ParamsIn,
  type Result,
  type Status,
} from './schema.ts';
import type { HelperConnection } from './shell-schema.ts';
import { type ConnectError, HelperSocketClient, type SocketClientOptions } from './client.ts';

type AnyListener = (data: unknown) => void;

export interface BackoffOptions {
  initialDelayMs: number;
  maxDelayMs: number;
  factor: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { initialDelayMs: 250, maxDelayMs: 10_000, factor: 2 };

/** The wait before retry number `attempt` (0-based): 250, 500, 1000 … capped at 10 s. */
export function backoffDelay(attempt: number, b: BackoffOptions = DEFAULT_BACKOFF): number {
  return Math.min(b.maxDelayMs, Math.round(b.initialDelayMs * b.factor ** Math.min(attempt, 30)));
}

export interface ReconnectingClientOptions extends SocketClientOptions {
  socketPath: string;
  backoff?: Partial<BackoffOptions>;
  /** Start the event stream on every new connection (default true). */
  subscribe?: boolean;
}

/** Words for people: what is wrong with the connection and how to fix it. */
export function connectionMessage(
  state: HelperConnection['state'],
  socket: string,
  detail: { version?: string; apiVersion?: number; reason?: string } = {},
): string {
  switch (state) {
    case 'connecting':
      return `Connecting to the Switchyard helper at ${socket}.`;
    case 'connected':
      return `Connected to the Switchyard helper${detail.version ? ` ${detail.version}` : ''} at ${socket}.`;
    case 'absent':
      return `The Switchyard helper is not running (${detail.reason ?? `nothing listens on ${socket}`}); start it with "sudo systemctl enable --now switchyard-helper".`;
    case 'refused':
      return `The helper refused this user (${detail.reason ?? `no access to ${socket}`}); add yourself to the "switchyard" group with "sudo usermod -aG switchyard $USER" and log in again.`;
    case 'incompatible':
      return `The helper speaks API version ${detail.apiVersion ?? '?'} but this app needs version ${API_VERSION}; install the same Switchyard release for both.`;
  }
}

/** What a failed connect(2) means for people: the helper is not there, or we may not talk to it. */
export function classifyConnectFailure(
  errno: string,
  socket: string,
  message: string,
): { state: 'absent' | 'refused'; reason: string } {
  if (errno === 'EACCES' || errno === 'EPERM')
    return { state: 'refused', reason: `permission denied on ${socket}` };
  if (errno === 'ENOENT') return { state: 'absent', reason: `no socket at ${socket}` };
  if (errno === 'ECONNREFUSED') return { state: 'absent', reason: `nothing listens on ${socket}` };
  return { state: 'absent', reason: message };
}

/**
 * Keeps one connection to the helper: connects, checks the API version with status.get, subscribes
 * to events, and on any failure retries with exponential backoff. Calls made while not connected
 * fail at once with UNAVAILABLE and the connection's message.
 */
export class ReconnectingHelperClient implements HelperClient {
  private client: HelperSocketClient | null = null;
  private state: HelperConnection;
  private lastStatus: Status | null = null;
  private attempt = 0;
  private retryTimer: NodeJS.Timeout | null = null;
  private stopped = true;
  private readonly backoff: BackoffOptions;
  private readonly listeners = new Map<string, Set<AnyListener>>();
  private readonly envelopeListeners = new Set<(env: EventEnvelope) => void>();
  private readonly connectionListeners = new Set<(c: HelperConnection) => void>();

  constructor(private readonly opts: ReconnectingClientOptions) {
    this.backoff = { ...DEFAULT_BACKOFF, ...opts.backoff };
    this.state = this.make('connecting', null);
  }

  get socketPath(): string {
    return this.opts.socketPath;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    void this.tryConnect();
  }

  stop(): void {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.client?.close();
    this.client = null;
  }

  connection(): HelperConnection {
    return this.state;
  }

  /** The helper's status from the last successful handshake. */
  status(): Status | null {
    return this.lastStatus;
  }

  onConnection(listener: (c: HelperConnection) => void): () => void {
    this.connectionListeners.add(listener);
    return () => this.connectionListeners.delete(listener);
  }

  /** Resolves once connected; rejects with the connection's message after timeoutMs. */
  waitUntilConnected(timeoutMs: number): Promise<void> {
    if (this.state.state === 'connected') return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        off();
        reject(new ApiError('UNAVAILABLE', this.state.message));
      }, timeoutMs);
      const off = this.onConnection((c) => {
        if (c.state !== 'connected') return;
        clearTimeout(timer);
        off();
        resolve();
      });
    });
  }

  call<M extends MethodName>(method: M, params: ParamsIn<M>): Promise<Result<M>> {
    if (!this.client || this.state.state !== 'connected') {
      return Promise.reject(
        new ApiError('UNAVAILABLE', this.state.message, { connection: this.state.state }),
      );
    }
    return this.client.call(method, params);
  }

  on<E extends EventName>(event: E, listener: (data: EventData<E>) => void): () => void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(listener as AnyListener);
    return () => set.delete(listener as AnyListener);
  }

  onEvent(listener: (env: EventEnvelope) => void): () => void {
    this.envelopeListeners.add(listener);
    return () => this.envelopeListeners.delete(listener);
  }

  private make(state: HelperConnection['state'], retryInMs: number | null, detail = {}): HelperConnection {
    return {
      state,
      message: connectionMessage(state, this.opts.socketPath, detail),
      socket: this.opts.socketPath,
      retryInMs,
    };
  }

  private setState(next: HelperConnection): void {
    const prev = this.state;
    this.state = next;
    if (prev.state === next.state && prev.message === next.message && prev.retryInMs === next.retryInMs)
      return;
    for (const l of this.connectionListeners) l(next);
  }

  private async tryConnect(): Promise<void> {
    this.retryTimer = null;
    if (this.stopped) return;
    if (this.state.state !== 'connecting' || this.state.retryInMs !== null)
      this.setState(this.make('connecting', null));
    let client: HelperSocketClient;
    try {
      client = await HelperSocketClient.connect(this.opts.socketPath, this.opts);
    } catch (err) {
      const e = err as ConnectError;
      const { state, reason } = classifyConnectFailure(e.errno, this.opts.socketPath, e.message);
      return this.retryLater(state, { reason });
    }
    if (this.stopped) return client.close();
    client.onEvent((env) => this.dispatchEvent(env));
    try {
      const status = await client.call('status.get', {});
      if (status.apiVersion !== API_VERSION) {
        client.close();
        return this.retryLater('incompatible', { apiVersion: status.apiVersion });
      }
      if (this.opts.subscribe !== false) await client.subscribe();
      if (this.stopped) return client.close();
      this.lastStatus = status;
      this.client = client;
      this.attempt = 0;
      client.onClose(() => {
        if (this.client !== client) return;
        this.client = null;
        if (!this.stopped) void this.tryConnect();
      });
      if (client.closed)
        throw new ApiError('UNAVAILABLE', 'the helper closed the connection during the handshake');
      this.setState(this.make('connected', null, { version: status.version }));
    } catch (err) {
      client.close();
      if (this.client === client) this.client = null;
      const e = err as ApiError;
      if (e.code === 'UNAUTHORIZED') return this.retryLater('refused', { reason: e.message });
      return this.retryLater('absent', { reason: `the helper did not complete the handshake: ${e.message}` });
    }
  }

  private retryLater(state: HelperConnection['state'], detail: object): void {
    if (this.stopped) return;
    const delay = backoffDelay(this.attempt++, this.backoff);
    this.setState(this.make(state, delay, detail));
    this.retryTimer = setTimeout(() => void this.tryConnect(), delay);
  }

  private dispatchEvent(env: EventEnvelope): void {
    for (const l of this.listeners.get(env.event) ?? []) l(env.data);
    for (const l of this.envelopeListeners) l(env);
  }
}
