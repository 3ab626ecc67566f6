// The helper's Unix socket: mode 0660, group `switchyard`, one JSON message a line.
// Every connection is identified by SO_PEERCRED before any request is read.
import { chmodSync, chownSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { type Server, type Socket, connect, createServer } from 'node:net';
import { dirname } from 'node:path';
import type { ResponseEnvelope } from '../api/schema.ts';
import { LineSplitter, MAX_LINE_BYTES, encodeLine } from '../api/wire.ts';
import { type GroupInfo, type Peer, authorize, userName } from './auth.ts';
import { type CallContext, type Handlers, dispatch } from './dispatch.ts';
import { type ClientLimits, ConnectionBudget, limitsFor, openFileLimit } from './client-limits.ts';
import type { EventBus } from './event-bus.ts';

export interface ServerOptions {
  socketPath: string;
  group: GroupInfo | null;
  mode: number;
  handlers: Handlers;
  bus: EventBus;
  peerOf: (socket: Socket) => Peer;
  log: (msg: string) => void;
  /** Default: limitsFor() this process's descriptor limit. */
  limits?: ClientLimits;
}

interface Client {
  socket: Socket;
  splitter: LineSplitter;
}

export class ApiServer {
  private server: Server | null = null;
  private readonly clients = new Set<Client>();
  readonly limits: ClientLimits;
  private readonly budget: ConnectionBudget;
  private lastRefusalLog = 0;

  constructor(private readonly opts: ServerOptions) {
    this.limits = opts.limits ?? limitsFor(openFileLimit());
    this.budget = new ConnectionBudget(this.limits);
  }

  async listen(): Promise<void> {
    const { socketPath } = this.opts;
    mkdirSync(dirname(socketPath), { recursive: true, mode: 0o755 });
    if (existsSync(socketPath)) {
      if (await isLive(socketPath)) {
        throw new Error(
          `another helper is already listening on ${socketPath}; stop it first or pick another --socket`,
        );
      }
      rmSync(socketPath, { force: true });
    }
    const server = createServer((s) => this.accept(s));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(socketPath, () => resolve());
    });
    chmodSync(socketPath, this.opts.mode);
    if (this.opts.group) chownSync(socketPath, 0, this.opts.group.gid);
    this.server = server;
  }

  async close(): Promise<void> {
    for (const c of this.clients) c.socket.destroy();
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(this.opts.socketPath, { force: true });
  }

  private accept(socket: Socket): void {
    socket.on('error', () => socket.destroy());
    let peer: Peer;
    try {
      peer = this.opts.peerOf(socket);
    } catch (err) {
      this.opts.log(`refused a connection: cannot read its credentials (${(err as Error).message})`);
      socket.destroy();
      return;
    }
    const refused = this.budget.admit(peer.uid);
    if (refused) {
      this.refuse(socket, peer, refused);
      return;
    }
    const drop = (why: string) => {
      if (socket.destroyed) return;
      this.opts.log(`dropped a client (pid ${peer.pid}, uid ${peer.uid}): ${why}`);
      socket.destroy();
    };
    const auth = authorize(peer, this.opts.group);
    const send = (msg: ResponseEnvelope | object) => {
      if (socket.destroyed) return;
      if (socket.writableLength > this.limits.clientQueuedBytes)
        return drop(`it stopped reading (over ${this.limits.clientQueuedBytes >> 20} MiB queued)`);
      if (this.queuedBytes() > this.limits.queuedBytes)
        return drop(`clients are not reading (over ${this.limits.queuedBytes >> 20} MiB queued in all)`);
      socket.write(encodeLine(msg));
    };
    let unsubscribe: (() => void) | null = null;
    let answered = false;
    const firstLine = setTimeout(
      () => drop(`no request within ${this.limits.firstLineMs / 1000} s`),
      this.limits.firstLineMs,
    );
    socket.setTimeout(this.limits.idleMs, () => {
      if (!unsubscribe) drop(`idle for ${this.limits.idleMs / 1000} s`);
    });
    const ctx: CallContext = {
      peer,
      actor: { uid: peer.uid, user: userName(peer.uid), via: 'api' },
      subscribe: (topics) => {
        unsubscribe?.();
        const wanted = topics && topics.length ? new Set(topics) : null;
        unsubscribe = this.opts.bus.subscribe((e) => {
          if (!wanted || wanted.has(e.event)) send(e);
        });
      },
    };
    const onLine = (line: string) => {
      if (!answered) {
        answered = true;
        clearTimeout(firstLine);
      }
      if (!auth.allowed) {
        send({
          id: requestId(line),
          error: { code: 'UNAUTHORIZED', message: `not allowed: ${auth.reason}` },
        });
        socket.end();
        return;
      }
      void dispatch(this.opts.handlers, line, ctx, (err, method) =>
        this.opts.log(`internal error in ${method}: ${(err as Error).stack ?? String(err)}`),
      ).then(send);
    };
    const splitter = new LineSplitter({
      maxLineBytes: MAX_LINE_BYTES,
      onLine,
      onError: (err) => send({ id: null, error: { code: 'BAD_REQUEST', message: err.message } }),
    });
    const client = { socket, splitter };
    this.clients.add(client);
    socket.on('close', () => {
      clearTimeout(firstLine);
      unsubscribe?.();
      this.clients.delete(client);
      this.budget.release(peer.uid);
    });
    socket.on('data', (chunk: Buffer) => {
      splitter.push(chunk);
      if (splitter.buffered > 0 && this.pendingInputBytes() > this.limits.pendingInputBytes)
        drop(`unfinished requests over ${this.limits.pendingInputBytes >> 20} MiB in all`);
    });
  }

  /** One line with the reason, then close; the log says so at most every 10 s. */
  private refuse(socket: Socket, peer: Peer, reason: string): void {
    socket.end(encodeLine({ id: null, error: { code: 'UNAVAILABLE', message: reason } }));
    setTimeout(() => socket.destroy(), 1000).unref();
    const now = Date.now();
    if (now - this.lastRefusalLog > 10_000) {
      this.lastRefusalLog = now;
      this.opts.log(`refused a connection from pid ${peer.pid}: ${reason}`);
    }
  }

  private queuedBytes(): number {
    let n = 0;
    for (const c of this.clients) n += c.socket.writableLength;
    return n;
  }

  private pendingInputBytes(): number {
    let n = 0;
    for (const c of this.clients) n += c.splitter.buffered;
    return n;
  }

  /** Connections now, for status and tests. */
  get connectionCounts(): { root: number; nonRoot: number } {
    return this.budget.counts;
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

function isLive(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}
