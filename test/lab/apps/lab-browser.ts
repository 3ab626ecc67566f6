// Sample app "Lab Browser": GET http://<host>/ every second over one keep-alive TCP connection;
// the agent opens a new connection when the old one closes (uplink switch, server restart…).
import { Agent, request } from 'node:http';
import type { Socket } from 'node:net';
import { appOptions, errorText, every, logTraffic } from './traffic-log.ts';

const opts = appOptions();
const agent = new Agent({ keepAlive: true, maxSockets: 1 });
const seenSockets = new WeakSet<Socket>();
let connections = 0;

function fetchOnce(): Promise<void> {
  return new Promise((resolve) => {
    const req = request({ host: opts.host, port: 80, path: '/browse', agent, timeout: 3000 }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => {
        try {
          const reply = JSON.parse(body) as { clientAddress: string; clientPort: number };
          logTraffic({
            kind: 'http',
            ok: res.statusCode === 200,
            serverSawAddress: reply.clientAddress,
            clientPort: reply.clientPort,
            connection: connections,
          });
        } catch (err) {
          logTraffic({
            kind: 'http',
            ok: false,
            serverSawAddress: null,
            error: `bad reply: ${errorText(err)}`,
          });
        }
        resolve();
      });
    });
    req.on('socket', (socket) => {
      if (!seenSockets.has(socket)) {
        seenSockets.add(socket);
        connections += 1;
      }
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (err) => {
      logTraffic({ kind: 'http', ok: false, serverSawAddress: null, error: errorText(err) });
      resolve();
    });
    req.end();
  });
}

await every(opts, fetchOnce);
agent.destroy();
