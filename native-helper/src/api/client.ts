// The Unix-socket client for the helper, used by the CLI, Electron main and the web bridge: one
// connection (reconnecting-client.ts keeps one alive).
import { connect, type Socket } from 'node:net';
import {
  ApiError,
  ApiErrorBody,
  EventEnvelope,
  type EventData,
  type EventName,
  type HelperClient,
  type MethodName,
  type ParamsIn,
  type Result,
  describeZodError,
  parseEvent,
  parseParams,
  parseResult,
} from './schema.ts';
import { LineSplitter, encodeRequest, parseLine } from './wire.ts';

export const DEFAULT_SOCKET = '/run/switchyard/helper.sock';
export const DEFAULT_REQUEST_TIMEOUT_MS = 15_000;

/** The socket the helper listens on: $SWITCHYARD_SOCKET or the packaged default. */
export function defaultSocketPath(env: NodeJS.ProcessEnv = process.env): string {
  return env.SWITCHYARD_SOCKET || DEFAULT_SOCKET;
}

export interface SocketClientOptions {
  requestTimeoutMs?: number;
  connectTimeoutMs?: number;
  maxLineBytes?: number;
  /** Messages from the helper that do not match the schema; they are dropped after this call. */
  onProblem?: (err: Error) => void;
}

/** Why a connection attempt failed: the errno of connect(2) (ENOENT, ECONNREFUSED, EACCES…). */
export class ConnectError extends ApiError {
  constructor(
    readonly errno: string,
    readonly socketPath: string,
    cause: string,
  ) {
    super('UNAVAILABLE', `cannot connect to the helper at ${socketPath}: ${cause}`, { errno });
    this.name = 'ConnectError';
  }
}

interface Pending {
  method: MethodName;
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

type AnyListener = (data: unknown) => void;

/** One connection to the helper. Rejections are always ApiError. */
export class HelperSocketClient implements HelperClient {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly listeners = new Map<string, Set<AnyListener>>();
  private readonly envelopeListeners = new Set<(env: EventEnvelope) => void>();
  private readonly closeListeners = new Set<(err: Error | null) => void>();
  private isClosed = false;
  private readonly timeoutMs: number;

  private constructor(
    private readonly socket: Socket,
    readonly socketPath: string,
    private readonly opts: SocketClientOptions,
  ) {
    this.timeoutMs = opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    const splitter = new LineSplitter({
      maxLineBytes: opts.maxLineBytes,
      onLine: (line) => this.onLine(line),
      onError: (err) => this.problem(err),
    });
    socket.on('data', (chunk: Buffer) => splitter.push(chunk));
    socket.on('error', (err) => this.shutdown(err));
    socket.on('close', () => this.shutdown(null));
  }

  static connect(socketPath: string, opts: SocketClientOptions = {}): Promise<HelperSocketClient> {
    return new Promise((resolve, reject) => {
      const socket = connect({ path: socketPath });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new ConnectError('ETIMEDOUT', socketPath, 'the helper did not accept the connection in time'));
      }, opts.connectTimeoutMs ?? 5_000);
      socket.once('error', (err: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        reject(new ConnectError(err.code ?? 'EIO', socketPath, err.message));
      });
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        resolve(new HelperSocketClient(socket, socketPath, opts));
      });
    });
  }

  get closed(): boolean {
    return this.isClosed;
  }

  call<M extends MethodName>(method: M, params: ParamsIn<M>): Promise<Result<M>> {
    if (this.isClosed) {
      return Promise.reject(new ApiError('UNAVAILABLE', `${method}: the connection to the helper is closed`));
    }
    let wire: unknown;
    try {
      // Checked here too so the caller gets the schema's words without a round trip.
      wire = parseParams(method, params);
    } catch (err) {
      return Promise.reject(err as Error);
    }
    const id = this.nextId++;
    return new Promise<Result<M>>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(
          new ApiError(
            'UNAVAILABLE',
            `${method}: the helper did not answer within ${this.timeoutMs} ms; check that it is healthy`,
          ),
        );
      }, this.timeoutMs);
      this.pending.set(id, { method, resolve: resolve as (v: unknown) => void, reject, timer });
      this.socket.write(encodeRequest(id, method, wire));
    });
  }

  on<E extends EventName>(event: E, listener: (data: EventData<E>) => void): () => void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(listener as AnyListener);
    return () => set.delete(listener as AnyListener);
  }

  /** Every valid event as its envelope (for forwarding to a window or a browser). */
  onEvent(listener: (env: EventEnvelope) => void): () => void {
    this.envelopeListeners.add(listener);
    return () => this.envelopeListeners.delete(listener);
  }

  onClose(listener: (err: Error | null) => void): () => void {
    this.closeListeners.add(listener);
    return () => this.closeListeners.delete(listener);
  }

  /** Start the helper's event stream on this connection. */
  async subscribe(topics?: string[]): Promise<void> {
    await this.call('events.subscribe', topics ? { topics } : {});
  }

  close(): void {
    this.socket.destroy();
    this.shutdown(null);
  }

  private onLine(line: string): void {
    const parsed = parseLine(line);
    if (!parsed.ok)
      return this.problem(new ApiError('INTERNAL', `the helper sent a line that is ${parsed.message}`));
    const msg = parsed.value as Record<string, unknown> | null;
    if (msg && typeof msg === 'object' && 'event' in msg) return this.onEventMessage(msg);
    if (!msg || typeof msg !== 'object' || !('id' in msg)) {
      return this.problem(
        new ApiError('INTERNAL', 'the helper sent a message that is neither a response nor an event'),
      );
    }
    const id = msg.id;
    if ('error' in msg) {
      const body = ApiErrorBody.safeParse(msg.error);
      const err = body.success
        ? new ApiError(body.data.code, body.data.message, body.data.details)
        : new ApiError('INTERNAL', 'the helper sent a malformed error');
      if (typeof id !== 'number') return this.problem(err);
      return this.settle(id, (p) => p.reject(err));
    }
    if (typeof id !== 'number' || !('result' in msg)) {
      return this.problem(
        new ApiError('INTERNAL', 'the helper sent a response without a numeric id and a result'),
      );
    }
    this.settle(id, (p) => {
      try {
        p.resolve(parseResult(p.method, msg.result));
      } catch (err) {
        p.reject(err as Error);
      }
    });
  }

  private settle(id: number, fn: (p: Pending) => void): void {
    const p = this.pending.get(id);
    if (!p)
      return this.problem(
        new ApiError('INTERNAL', `the helper answered request ${id}, which is not pending`),
      );
    this.pending.delete(id);
    clearTimeout(p.timer);
    fn(p);
  }

  private onEventMessage(msg: Record<string, unknown>): void {
    const env = EventEnvelope.safeParse(msg);
    if (!env.success)
      return this.problem(new ApiError('INTERNAL', `malformed event: ${describeZodError(env.error)}`));
    let data: unknown;
    try {
      data = parseEvent(env.data.event, env.data.data);
    } catch (err) {
      return this.problem(err as Error);
    }
    const envelope: EventEnvelope = { event: env.data.event, seq: env.data.seq, time: env.data.time, data };
    for (const l of this.listeners.get(envelope.event) ?? []) l(data);
    for (const l of this.envelopeListeners) l(envelope);
  }

  private problem(err: Error): void {
    this.opts.onProblem?.(err);
  }

  private shutdown(err: Error | null): void {
    if (this.isClosed) return;
    this.isClosed = true;
    for (const [, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(
        new ApiError('UNAVAILABLE', `${p.method}: the connection to the helper closed before it answered`),
      );
    }
    this.pending.clear();
    for (const l of this.closeListeners) l(err);
  }
}
