// The helper's Unix socket: mode 0660, group `switchyard`, one JSON message a line.
// Every connection is identified by SO_PEERCRED before any request is read.
import { chmodSync, chownSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { type Server, type Socket, connect, createServer } from 'node:net';
import { dirname } from 'node:path';
import type { ResponseEnvelope } from '../api/schema.ts';
import { LineSplitter, MAX_LINE_BYTES, encodeLine } from '../api/wire.ts';
import { type GroupInfo, type Peer, authorize, userName } from './auth.ts';
import { type CallContext, type Handlers, dispatch } from './dispatch.ts';
import type { EventBus } from './event-bus.ts';

/** A client that stops reading events is cut off rather than allowed to grow the helper's memory. */
const MAX_BACKLOG = 16 << 20;

export interface ServerOptions {
  socketPath: string;
  group: GroupInfo | null;
  mode: number;
  handlers: Handlers;
  bus: EventBus;
  peerOf: (socket: Socket) => Peer;
  log: (msg: string) => void;
}

export class ApiServer {
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();

  constructor(private readonly opts: ServerOptions) {}

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
    for (const s of this.sockets) s.destroy();
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(this.opts.socketPath, { force: true });
  }

  private accept(socket: Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    let peer: Peer;
    try {
      peer = this.opts.peerOf(socket);
    } catch (err) {
      this.opts.log(`refused a connection: cannot read its credentials (${(err as Error).message})`);
      socket.destroy();
      return;
    }
    const auth = authorize(peer, this.opts.group);
    const send = (msg: ResponseEnvelope | object) => {
      if (socket.destroyed) return;
      if (socket.writableLength > MAX_BACKLOG) {
        this.opts.log(`dropped a client (pid ${peer.pid}) that stopped reading`);
        socket.destroy();
        return;
      }
      socket.write(encodeLine(msg));
    };
    let unsubscribe: (() => void) | null = null;
    socket.on('close', () => unsubscribe?.());
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
    socket.on('data', (chunk: Buffer) => splitter.push(chunk));
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
