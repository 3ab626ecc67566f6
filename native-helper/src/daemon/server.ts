// The helper's Unix socket: mode 0660, group `switchyard`, one JSON message a line.
// Every connection is identified by SO_PEERCRED before any request is read.
import { chmodSync, chownSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { type Server, type Socket, connect, createServer } from 'node:net';
import { dirname } from 'node:path';
import { encodeLine } from '../api/wire.ts';
import type { GroupInfo, Peer } from './auth.ts';
import { type ClientLimits, ConnectionBudget, limitsFor, openFileLimit } from './client-limits.ts';
import { Connection } from './connection.ts';
import type { Handlers } from './dispatch.ts';
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

export class ApiServer {
  private server: Server | null = null;
  private readonly clients = new Set<Connection>();
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
    // Backstop: past this the kernel-accepted socket is closed at once, without even a refusal line.
    server.maxConnections = this.limits.clients + this.limits.rootClients + 64;
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
    const c = new Connection(socket, peer, {
      handlers: this.opts.handlers,
      bus: this.opts.bus,
      group: this.opts.group,
      limits: this.limits,
      log: this.opts.log,
      totals: () => this.totals(),
    });
    this.clients.add(c);
    socket.on('close', () => {
      c.closed();
      this.clients.delete(c);
      this.budget.release(peer.uid);
    });
  }

  /** One line with the reason, then close at once: a refused connection must not hold a descriptor. */
  private refuse(socket: Socket, peer: Peer, reason: string): void {
    socket.end(encodeLine({ id: null, error: { code: 'UNAVAILABLE', message: reason } }), () =>
      socket.destroy(),
    );
    setTimeout(() => socket.destroy(), 200).unref();
    const now = Date.now();
    if (now - this.lastRefusalLog > 10_000) {
      this.lastRefusalLog = now;
      this.opts.log(`refused a connection from pid ${peer.pid}: ${reason}`);
    }
  }

  private totals(): { queued: number; pendingInput: number } {
    let queued = 0;
    let pendingInput = 0;
    for (const c of this.clients) {
      queued += c.socket.writableLength;
      pendingInput += c.splitter.buffered;
    }
    return { queued, pendingInput };
  }

  /** Connections now, for status and tests. */
  get connectionCounts(): { root: number; nonRoot: number } {
    return this.budget.counts;
  }
}

/** Whether a helper answers on this socket path (a stale file or no file: false). */
export function isLive(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}
