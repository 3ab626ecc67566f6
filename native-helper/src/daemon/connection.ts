// One client connection of the helper's socket: its requests (at most MAX_IN_FLIGHT handled at once,
// the rest wait in the kernel's socket buffer), its answers and events (reading stops while too much
// waits for it; a client whose queue does not drain in STALL_MS is dropped), and its timers.
import type { Socket } from 'node:net';
import type { ResponseEnvelope } from '../api/schema.ts';
import { LineSplitter, MAX_LINE_BYTES, encodeLine } from '../api/wire.ts';
import { type Peer, authorize, userName } from './auth.ts';
import type { ClientLimits } from './client-limits.ts';
import { type CallContext, type Handlers, dispatch } from './dispatch.ts';
import type { EventBus } from './event-bus.ts';
import type { GroupInfo } from './auth.ts';

const MAX_IN_FLIGHT = 16;
/** Above this much queued for the client, its requests are not read. */
const PAUSE_BYTES = 256 << 10;
/** A client whose queue stays above PAUSE_BYTES this long has stopped reading. */
const STALL_MS = 10_000;

export interface ConnectionDeps {
  handlers: Handlers;
  bus: EventBus;
  group: GroupInfo | null;
  limits: ClientLimits;
  log: (msg: string) => void;
  /** Bytes queued to all clients, and held for their unfinished lines. */
  totals: () => { queued: number; pendingInput: number };
}

export class Connection {
  readonly splitter: LineSplitter;
  private readonly waiting: string[] = [];
  private inFlight = 0;
  private unsubscribe: (() => void) | null = null;
  private firstLine: NodeJS.Timeout | null;
  private stall: NodeJS.Timeout | null = null;
  private readonly ctx: CallContext;
  private readonly auth: ReturnType<typeof authorize>;

  constructor(
    readonly socket: Socket,
    readonly peer: Peer,
    private readonly deps: ConnectionDeps,
  ) {
    this.auth = authorize(peer, deps.group);
    this.ctx = {
      peer,
      actor: { uid: peer.uid, user: userName(peer.uid), via: 'api' },
      subscribe: (topics) => {
        this.unsubscribe?.();
        const wanted = topics && topics.length ? new Set(topics) : null;
        this.unsubscribe = deps.bus.subscribe((e) => this.send(e), wanted);
      },
    };
    this.splitter = new LineSplitter({
      maxLineBytes: MAX_LINE_BYTES,
      onLine: (line) => this.onLine(line),
      onError: (err) => this.send({ id: null, error: { code: 'BAD_REQUEST', message: err.message } }),
    });
    this.firstLine = setTimeout(
      () => this.drop(`no request within ${deps.limits.firstLineMs / 1000} s`),
      deps.limits.firstLineMs,
    );
    socket.setTimeout(deps.limits.idleMs, () => {
      if (!this.unsubscribe) this.drop(`idle for ${deps.limits.idleMs / 1000} s`);
    });
    socket.on('drain', () => this.flowControl());
    socket.on('data', (chunk: Buffer) => {
      this.splitter.push(chunk);
      if (this.splitter.buffered > 0 && deps.totals().pendingInput > deps.limits.pendingInputBytes)
        this.drop(`unfinished requests over ${deps.limits.pendingInputBytes >> 20} MiB in all`);
    });
  }

  /** Called when the socket closes. */
  closed(): void {
    if (this.firstLine) clearTimeout(this.firstLine);
    if (this.stall) clearTimeout(this.stall);
    this.unsubscribe?.();
    this.waiting.length = 0;
  }

  drop(why: string): void {
    if (this.socket.destroyed) return;
    this.deps.log(`dropped a client (pid ${this.peer.pid}, uid ${this.peer.uid}): ${why}`);
    this.socket.destroy();
  }

  private send(msg: ResponseEnvelope | object): void {
    const { socket, deps } = this;
    if (socket.destroyed) return;
    if (socket.writableLength > deps.limits.clientQueuedBytes)
      return this.drop(`it stopped reading (over ${deps.limits.clientQueuedBytes >> 20} MiB queued)`);
    if (deps.totals().queued > deps.limits.queuedBytes)
      return this.drop(`clients are not reading (over ${deps.limits.queuedBytes >> 20} MiB queued in all)`);
    socket.write(encodeLine(msg));
    this.flowControl();
  }

  private onLine(line: string): void {
    if (this.firstLine) {
      clearTimeout(this.firstLine);
      this.firstLine = null;
    }
    if (!this.auth.allowed) {
      this.send({
        id: requestId(line),
        error: { code: 'UNAUTHORIZED', message: `not allowed: ${this.auth.reason}` },
      });
      this.socket.end();
      return;
    }
    this.waiting.push(line);
    this.pump();
  }

  private pump(): void {
    while (this.inFlight < MAX_IN_FLIGHT && this.waiting.length && !this.socket.destroyed) {
      const line = this.waiting.shift()!;
      this.inFlight++;
      void dispatch(this.deps.handlers, line, this.ctx, (err, method) =>
        this.deps.log(`internal error in ${method}: ${(err as Error).stack ?? String(err)}`),
      ).then((answer) => {
        this.inFlight--;
        this.send(answer);
        this.pump();
      });
    }
    this.flowControl();
  }

  /** Read more only while the client keeps up; a queue that never drains ends the connection. */
  private flowControl(): void {
    const { socket } = this;
    if (socket.destroyed) return;
    const backedUp = socket.writableLength > PAUSE_BYTES;
    if (backedUp || this.inFlight >= MAX_IN_FLIGHT || this.waiting.length) socket.pause();
    else socket.resume();
    if (backedUp && !this.stall)
      this.stall = setTimeout(
        () => this.drop(`it stopped reading (its queue did not drain in ${STALL_MS / 1000} s)`),
        STALL_MS,
      );
    else if (!backedUp && this.stall) {
      clearTimeout(this.stall);
      this.stall = null;
    }
  }
}

function requestId(line: string): number | null {
  try {
    const id = (JSON.parse(line) as { id?: unknown }).id;
    return typeof id === 'number' ? id : null;
  } catch {
    return null;
  }
}
