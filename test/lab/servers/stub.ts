// The lab desktop's stand-in for systemd-resolved's stub: it listens on 127.0.0.53:53 (UDP and TCP)
// in the desktop namespace and forwards each query, from its own unmarked socket, to the resolver of
// the DEFAULT uplink, as resolved does with the default link's DNS servers. In the lab an ISP's
// resolver sits on its gateway address, so "the default uplink's resolver" is the gateway of the
// IPv4 default route with the lowest metric that is up.
// Usage: stub.ts [--listen=127.0.0.53] [--port=53]
import { execFile } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { parseArgs } from 'node:util';
import { askTcp, listenTcp } from './dns-tcp.ts';

const { values } = parseArgs({
  options: { listen: { type: 'string', default: '127.0.0.53' }, port: { type: 'string', default: '53' } },
});
const listen = values.listen;
const port = Number(values.port);

interface Route {
  gateway?: string;
  metric?: number;
  flags?: string[];
}

let cached: { at: number; upstream: string | null } | null = null;

/** The default uplink's resolver, read from the routing table at most every 500 ms. */
async function upstream(): Promise<string | null> {
  if (cached && Date.now() - cached.at < 500) return cached.upstream;
  const text = await new Promise<string>((resolve) =>
    execFile('ip', ['-j', '-4', 'route', 'show', 'default'], (err, out) => resolve(err ? '[]' : out)),
  );
  const routes = (JSON.parse(text || '[]') as Route[])
    .filter((r) => r.gateway && !r.flags?.includes('linkdown'))
    .sort((a, b) => (a.metric ?? 0) - (b.metric ?? 0));
  cached = { at: Date.now(), upstream: routes[0]?.gateway ?? null };
  return cached.upstream;
}

function askUdp(host: string, msg: Buffer, timeoutMs = 2000): Promise<Buffer> {
  const socket = createSocket('udp4');
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.close();
      reject(new Error(`no answer from ${host}`));
    }, timeoutMs);
    socket.on('message', (answer) => {
      clearTimeout(timer);
      socket.close();
      resolve(answer);
    });
    socket.on('error', (e) => {
      clearTimeout(timer);
      socket.close();
      reject(e);
    });
    socket.send(msg, 53, host);
  });
}

async function forward(msg: Buffer, transport: 'udp' | 'tcp'): Promise<Buffer | null> {
  const to = await upstream();
  console.log(JSON.stringify({ kind: 'stub-forward', upstream: to, transport }));
  if (!to) return null; // no default route: no answer, as resolved without a link
  return (transport === 'udp' ? askUdp(to, msg) : askTcp(to, 53, msg)).catch(() => null);
}

try {
  const udp = createSocket('udp4');
  udp.on('message', (msg, r) => {
    void forward(msg, 'udp').then((answer) => answer && udp.send(answer, r.port, r.address));
  });
  await new Promise<void>((resolve, reject) => {
    udp.once('error', reject);
    udp.bind(port, listen, () => resolve());
  });
  await listenTcp(listen, port, (msg) => forward(msg, 'tcp'));
} catch (err) {
  console.error(`lab-stub: could not listen: ${(err as Error).message}`);
  process.exit(1);
}
process.on('SIGTERM', () => process.exit(0));
console.log('lab-stub ready');
