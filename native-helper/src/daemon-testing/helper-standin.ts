// A tiny stand-in for the helper on a real Unix socket, for tests of the layers above it (client,
// web bridge, Electron main). It speaks the real wire format and answers only what a test asks for.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { API_VERSION, type EventName, type Status, RequestEnvelope } from '../api/schema.ts';
import { LineSplitter, encodeError, encodeEvent, encodeResult } from '../api/wire.ts';

export type StandInHandler = (params: unknown) => unknown;

export interface HelperStandIn {
  socketPath: string;
  /** Requests received, in order. */
  requests: RequestEnvelope[];
  /** Open connections. */
  sockets: Set<Socket>;
  handle(method: string, handler: StandInHandler): void;
  /** Send an event to every connection that called events.subscribe. */
  emit(event: EventName, data: unknown): void;
  /** Drop every connection (the helper "crashed") but keep listening. */
  dropConnections(): void;
  /** Stop listening and drop connections; the socket file is removed. */
  stop(): Promise<void>;
  /** Listen again on the same path after stop(). */
  restart(): Promise<void>;
  /** Remove the temp dir. */
  dispose(): Promise<void>;
}

export function standInStatus(overrides: Partial<Status> = {}): Status {
  return {
    version: '0.1.0-test',
    apiVersion: API_VERSION,
    instance: 'test',
    pid: process.pid,
    startedAt: new Date(0).toISOString(),
    paused: false,
    override: null,
    cgroupRoot: '/sys/fs/cgroup/unified/switchyard-test',
    policyPath: '/tmp/policy.json',
    managedPolicyPath: null,
    apps: { total: 0, managed: 0, running: 0 },
    killed: [],
    held: [],
    health: 'ok',
    problems: [],
    ...overrides,
  };
}

export async function startHelperStandIn(opts: { socketPath?: string } = {}): Promise<HelperStandIn> {
  const dir = opts.socketPath ? null : mkdtempSync(join(tmpdir(), 'sy-standin-'));
  const socketPath = opts.socketPath ?? join(dir!, 'helper.sock');
  const handlers = new Map<string, StandInHandler>([
    ['status.get', () => standInStatus()],
    ['events.subscribe', () => ({ ok: true })],
  ]);
  const requests: RequestEnvelope[] = [];
  const sockets = new Set<Socket>();
  const subscribed = new Set<Socket>();
  let seq = 0;
  let server: Server | null = null;

  const onConnection = (sock: Socket) => {
    sockets.add(sock);
    sock.on('close', () => {
      sockets.delete(sock);
      subscribed.delete(sock);
    });
    sock.on('error', () => {});
    const splitter = new LineSplitter({
      onLine: (line) => {
        const req = RequestEnvelope.safeParse(JSON.parse(line));
        if (!req.success)
          return void sock.write(encodeError(null, { code: 'BAD_REQUEST', message: 'malformed' }));
        requests.push(req.data);
        const handler = handlers.get(req.data.method);
        if (!handler) {
          return void sock.write(
            encodeError(req.data.id, { code: 'UNKNOWN_METHOD', message: `unknown ${req.data.method}` }),
          );
        }
        try {
          const result = handler(req.data.params);
          if (result === undefined) return; // the test wants this request to hang
          if (req.data.method === 'events.subscribe') subscribed.add(sock);
          sock.write(encodeResult(req.data.id, result));
        } catch (err) {
          const e = err as { code?: string; message: string };
          sock.write(
            encodeError(req.data.id, { code: (e.code ?? 'INTERNAL') as 'INTERNAL', message: e.message }),
          );
        }
      },
      onError: () => sock.destroy(),
    });
    sock.on('data', (d: Buffer) => splitter.push(d));
  };

  const listen = () =>
    new Promise<void>((resolve, reject) => {
      server = createServer(onConnection);
      server.once('error', reject);
      server.listen(socketPath, () => resolve());
    });
  await listen();

  const standIn: HelperStandIn = {
    socketPath,
    requests,
    sockets,
    handle: (method, handler) => void handlers.set(method, handler),
    emit(event, data) {
      const line = encodeEvent({ event, seq: ++seq, time: new Date().toISOString(), data });
      for (const s of subscribed) s.write(line);
    },
    dropConnections() {
      for (const s of sockets) s.destroy();
    },
    async stop() {
      const s = server;
      server = null;
      standIn.dropConnections();
      if (s) await new Promise<void>((r) => s.close(() => r()));
    },
    restart: listen,
    async dispose() {
      await standIn.stop();
      if (dir) rmSync(dir, { recursive: true, force: true });
    },
  };
  return standIn;
}
