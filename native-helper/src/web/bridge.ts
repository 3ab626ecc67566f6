// The loopback web bridge: the UI in a browser when there is no Electron. An HTTP server on
// 127.0.0.1 serves renderer/dist and a WebSocket at /api that speaks the same envelopes as the helper.
//
// Who may connect: the page must present the one-time token from its URL fragment (#token=…) on the
// WebSocket upgrade. The first successful upgrade binds the token to that browser: the bridge sets an
// HttpOnly, SameSite=Strict session cookie, and every later upgrade (a reload) needs token AND cookie.
// A second browser holding only the token is refused. Origin must be the bridge's own origin and Host
// must name 127.0.0.1 or localhost with our port (DNS rebinding), for HTTP and WebSocket alike.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { type IncomingMessage, type Server, createServer } from 'node:http';
import type { Duplex } from 'node:stream';
import { type WebSocket, WebSocketServer } from 'ws';
import { ReconnectingHelperClient } from '../api/reconnecting-client.ts';
import { ApiError, type EventEnvelope, RequestEnvelope, describeZodError } from '../api/schema.ts';
import type { HelperConnection, ShellInfo } from '../api/shell-schema.ts';
import { MAX_LINE_BYTES } from '../api/wire.ts';
import { writeFileAtomic } from '../storage/atomic-file.ts';
import { defaultExportName, formatEvents } from './event-export.ts';
import { sendText, serveStatic } from './static-files.ts';
import { type ShellHandlers, dispatchCall } from './shell-dispatch.ts';

export interface WebBridgeOptions {
  helperSocket: string;
  /** 0 (the default) picks a free port. */
  port?: number;
  rendererDir: string;
  /** The one-time token; random when absent. */
  token?: string;
  /** Where shell.exportEvents writes (there is no save dialog in a browser); default ~/Downloads. */
  exportDir?: string;
  version?: string;
}

export interface WebBridge {
  /** http://127.0.0.1:PORT/#token=… : open this, once. */
  url: string;
  origin: string;
  port: number;
  /** Number of open WebSocket sessions. */
  sessions(): number;
  close(): Promise<void>;
}

const LOOPBACK = '127.0.0.1';
const MAX_PENDING_CALLS = 64;
const MAX_BUFFERED_BYTES = 16 * 1024 * 1024;

/** Close codes the page can show: what went wrong with what it sent. */
export const CLOSE_GARBAGE = 1007;
export const CLOSE_POLICY = 1008;

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function cookieValue(header: string | undefined, name: string): string | null {
  for (const part of (header ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return v.join('=');
  }
  return null;
}

export async function startWebBridge(opts: WebBridgeOptions): Promise<WebBridge> {
  const token = opts.token ?? randomBytes(32).toString('base64url');
  if (token.length < 16)
    throw new Error('the web bridge token must be at least 16 characters; omit it to get a random one');
  const version = opts.version ?? '0.1.0';
  const helper = new ReconnectingHelperClient({ socketPath: opts.helperSocket });
  const sockets = new Set<WebSocket>();
  let port = 0;
  let boundSession: string | null = null;
  let cookieName = '';

  const hosts = () => [`${LOOPBACK}:${port}`, `localhost:${port}`];
  const origins = () => hosts().map((h) => `http://${h}`);

  const shell: ShellHandlers = {
    info: async (): Promise<ShellInfo> => ({
      mode: 'web',
      version,
      canAutostart: false,
      autostart: false,
      helperSocket: opts.helperSocket,
    }),
    setAutostart: async () => {
      throw new ApiError(
        'UNAVAILABLE',
        'Start at login is set from the desktop app, not from the browser; open Switchyard there to change it.',
      );
    },
    connection: () => helper.connection(),
    exportEvents: async (format) => {
      const events = await helper.call('events.history', { limit: 5000 });
      const path = join(opts.exportDir ?? join(homedir(), 'Downloads'), defaultExportName(format));
      await writeFileAtomic(path, formatEvents(events, format), 0o600);
      return { path };
    },
  };

  const server: Server = createServer((req, res) => {
    if (!hosts().includes(req.headers.host ?? '')) {
      return sendText(res, 421, `This server answers only to ${hosts().join(' or ')}.`);
    }
    serveStatic(opts.rendererDir, req, res).catch(() => sendText(res, 500, 'Could not read the file.'));
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_LINE_BYTES });
  wss.on('headers', (headers, req) => {
    const fresh = (req as IncomingMessage & { syNewSession?: string }).syNewSession;
    if (fresh) headers.push(`Set-Cookie: ${cookieName}=${fresh}; HttpOnly; SameSite=Strict; Path=/api`);
  });

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const refuse = (status: number, text: string, reason: string) => {
      socket.end(
        `HTTP/1.1 ${status} ${text}\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n` +
          `Content-Length: ${Buffer.byteLength(reason) + 1}\r\n\r\n${reason}\n`,
      );
    };
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname !== '/api') return refuse(404, 'Not Found', 'The API is at /api.');
    if (!hosts().includes(req.headers.host ?? ''))
      return refuse(421, 'Misdirected Request', `Host must be ${hosts().join(' or ')}.`);
    if (!origins().includes(req.headers.origin ?? '')) {
      return refuse(403, 'Forbidden', 'Only pages served by this bridge may use its API (wrong Origin).');
    }
    const presented = url.searchParams.get('token') ?? '';
    if (!sameSecret(presented, token)) {
      return refuse(
        401,
        'Unauthorized',
        'Missing or wrong token; open the link printed by "switchyard web".',
      );
    }
    if (boundSession) {
      const cookie = cookieValue(req.headers.cookie, cookieName) ?? '';
      if (!sameSecret(cookie, boundSession)) {
        return refuse(
          403,
          'Forbidden',
          'This link is already in use by another browser session; run "switchyard web" again for a new link.',
        );
      }
    } else {
      boundSession = randomBytes(32).toString('base64url');
      (req as IncomingMessage & { syNewSession?: string }).syNewSession = boundSession;
    }
    wss.handleUpgrade(req, socket, head, (ws) => startSession(ws));
  });

  function send(ws: WebSocket, message: unknown): void {
    if (ws.readyState !== ws.OPEN) return;
    if (ws.bufferedAmount > MAX_BUFFERED_BYTES)
      return void ws.close(CLOSE_POLICY, 'the page does not read its messages; reload it');
    ws.send(JSON.stringify(message));
  }

  function startSession(ws: WebSocket): void {
    sockets.add(ws);
    let topics: string[] | undefined;
    let pending = 0;
    const wants = (event: string) => !topics || topics.some((t) => t === event || event.startsWith(`${t}.`));
    const offEvent = helper.onEvent((env: EventEnvelope) => {
      if (wants(env.event)) send(ws, env);
    });
    const sendConnection = (c: HelperConnection) => {
      if (wants('shell.connection'))
        send(ws, { event: 'shell.connection', seq: 0, time: new Date().toISOString(), data: c });
    };
    const offConnection = helper.onConnection(sendConnection);
    sendConnection(helper.connection());
    ws.on('close', () => {
      sockets.delete(ws);
      offEvent();
      offConnection();
    });
    ws.on('error', () => ws.terminate());

    const garbage = (message: string, id: number | null = null) => {
      send(ws, { id, error: { code: 'BAD_REQUEST', message } });
      ws.close(CLOSE_GARBAGE, message.slice(0, 120));
    };

    ws.on('message', (data, isBinary) => {
      if (isBinary) return garbage('messages must be JSON text, not binary');
      let raw: unknown;
      try {
        raw = JSON.parse(data.toString());
      } catch {
        return garbage('message is not valid JSON');
      }
      const env = RequestEnvelope.safeParse(raw);
      if (!env.success) {
        const id = typeof (raw as { id?: unknown })?.id === 'number' ? (raw as { id: number }).id : null;
        return garbage(`malformed request: ${describeZodError(env.error)}`, id);
      }
      const { id, method, params } = env.data;
      if (pending >= MAX_PENDING_CALLS) {
        return send(ws, {
          id,
          error: {
            code: 'UNAVAILABLE',
            message: `more than ${MAX_PENDING_CALLS} calls in flight; wait for answers`,
          },
        });
      }
      pending++;
      dispatchCall({ helper, shell, subscribe: (t) => (topics = t) }, method, params)
        .then(
          (result) => send(ws, { id, result }),
          (err: unknown) => {
            const e = err instanceof ApiError ? err : new ApiError('INTERNAL', String(err));
            send(ws, { id, error: e.toBody() });
          },
        )
        .finally(() => pending--);
    });
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        new Error(
          err.code === 'EADDRINUSE'
            ? `port ${opts.port} on ${LOOPBACK} is in use; pick another port or 0 for any free one`
            : `the web bridge cannot listen on ${LOOPBACK}:${opts.port ?? 0}: ${err.message}`,
        ),
      ),
    );
    // Loopback only, always: the bridge has no option to listen anywhere else.
    server.listen(opts.port ?? 0, LOOPBACK, () => resolve());
  });
  const address = server.address();
  if (!address || typeof address === 'string' || address.address !== LOOPBACK) {
    server.close();
    throw new Error('the web bridge did not bind to 127.0.0.1; refusing to serve');
  }
  port = address.port;
  cookieName = `sy_session_${port}`;
  helper.start();

  const origin = `http://${LOOPBACK}:${port}`;
  return {
    url: `${origin}/#token=${token}`,
    origin,
    port,
    sessions: () => sockets.size,
    async close() {
      helper.stop();
      for (const ws of sockets) ws.close(1001, 'the bridge is shutting down');
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
