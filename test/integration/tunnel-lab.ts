// A three-namespace lab for the tunnel suites: client --veth-- gateway --veth-- server.
// Names are `syt` + random, everything is removed on close, failure or signal.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run, output } from '../../native-helper/src/mechanism/exec.ts';
import { runGateway, type RunningGateway } from '../../native-helper/src/gateway/gateway.ts';
import type { GatewayConfigInput } from '../../native-helper/src/gateway/config.ts';
import { runTunnel, type RunningTunnel } from '../../native-helper/src/tunnel/tunnel.ts';
import type { TunnelConfigInput } from '../../native-helper/src/tunnel/config.ts';
import { genkey, pubkey } from '../../native-helper/src/tunnel/keys.ts';
import type { TunnelTimers } from '../../native-helper/src/tunnel/timers.ts';

export const ADDR = {
  clientWan: '198.18.91.1',
  gatewayWan: '198.18.91.2',
  gatewayLan: '198.18.92.1',
  server: '198.18.92.2',
  gatewayTun: '198.19.77.1',
  clientTun: '198.19.77.2',
  otherTun: '198.19.77.3',
} as const;

export const TAG = 0x1234;
export const OTHER_TAG = 0x0777;
export const POLICY = 4242;
export const markFor = (tag: number, slot = 1) => ((0x5a << 24) | (slot << 16) | tag) >>> 0;

export interface TunnelLab {
  ns: { client: string; gateway: string; server: string };
  keys: { gateway: string; client: string; other: string };
  gateway: RunningGateway;
  tunnel: RunningTunnel;
  sh(
    ns: string,
    argv: string[],
    opts?: { input?: string; allowFailure?: boolean; timeoutMs?: number },
  ): Promise<{ code: number | null; stdout: string; stderr: string }>;
  /** A long-running process in a namespace, killed by PID on close (exec.ts runs to completion only). */
  spawn(ns: string, argv: string[]): ChildProcess;
  close(): Promise<void>;
}

const open = new Set<TunnelLab>();
let hooked = false;
function hookSignals() {
  if (hooked) return;
  hooked = true;
  for (const sig of ['SIGINT', 'SIGTERM'] as const)
    process.once(sig, () => {
      void Promise.allSettled([...open].map((l) => l.close())).then(() => process.exit(130));
    });
}

export interface LabOptions {
  gateway?: Partial<GatewayConfigInput>;
  tunnel?: Partial<TunnelConfigInput>;
  timers?: Partial<TunnelTimers>;
  /** Apps the client's peer entry at the gateway may claim. */
  allowedTags?: { tag: number; allow: string[]; uplink?: string }[];
  /** Runs once the three namespaces are wired, before the gateway starts (extra uplinks, routes). */
  beforeGateway?: (ns: TunnelLab['ns']) => Promise<void>;
}

export async function createTunnelLab(opts: LabOptions = {}): Promise<TunnelLab> {
  hookSignals();
  const id = randomBytes(3).toString('hex');
  const ns = { client: `syt${id}c`, gateway: `syt${id}g`, server: `syt${id}s` };
  const keys = { gateway: genkey(), client: genkey(), other: genkey() };
  let gateway: RunningGateway | undefined;
  let tunnel: RunningTunnel | undefined;
  const sh = (
    n: string,
    argv: string[],
    o: { input?: string; allowFailure?: boolean; timeoutMs?: number } = {},
  ) => run(['ip', 'netns', 'exec', n, ...argv], o);
  const children: ChildProcess[] = [];
  const lab = {
    ns,
    keys,
    sh,
    spawn(n: string, argv: string[]) {
      const c = spawn('ip', ['netns', 'exec', n, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
      children.push(c);
      return c;
    },
    async close() {
      open.delete(lab as TunnelLab);
      for (const c of children)
        if (c.exitCode === null && c.signalCode === null && c.pid) {
          const gone = new Promise((r) => c.once('exit', r));
          c.kill('SIGKILL');
          await gone;
        }
      await tunnel?.stop().catch(() => {});
      await gateway?.stop().catch(() => {});
      for (const n of Object.values(ns)) await run(['ip', 'netns', 'del', n], { allowFailure: true });
    },
  } as TunnelLab;
  open.add(lab);
  try {
    for (const n of Object.values(ns)) {
      await run(['ip', 'netns', 'add', n]);
      await run(['ip', '-n', n, 'link', 'set', 'lo', 'up']);
    }
    await run([
      'ip',
      'link',
      'add',
      'c0',
      'netns',
      ns.client,
      'type',
      'veth',
      'peer',
      'name',
      'g0',
      'netns',
      ns.gateway,
    ]);
    await run([
      'ip',
      'link',
      'add',
      'g1',
      'netns',
      ns.gateway,
      'type',
      'veth',
      'peer',
      'name',
      's0',
      'netns',
      ns.server,
    ]);
    const batch = (n: string, lines: string[]) =>
      run(['ip', '-n', n, '-batch', '-'], { input: lines.join('\n') + '\n' });
    await batch(ns.client, [`addr add ${ADDR.clientWan}/24 dev c0`, 'link set c0 up']);
    await batch(ns.gateway, [
      `addr add ${ADDR.gatewayWan}/24 dev g0`,
      'link set g0 up',
      `addr add ${ADDR.gatewayLan}/24 dev g1`,
      'link set g1 up',
    ]);
    await batch(ns.server, [`addr add ${ADDR.server}/24 dev s0`, 'link set s0 up']);
    await sh(ns.client, [
      'sysctl',
      '-q',
      '-w',
      'net.ipv4.conf.all.rp_filter=0',
      'net.ipv4.conf.default.rp_filter=0',
    ]);
    await opts.beforeGateway?.(ns);

    gateway = await runGateway(
      {
        instance: `t${id}`,
        privateKey: keys.gateway,
        listenPort: 51820,
        tunName: 'sygw0',
        address: `${ADDR.gatewayTun}/24`,
        uplinks: [{ name: 'lan', interface: 'g1' }],
        netns: ns.gateway,
        peers: [
          {
            name: 'client',
            publicKey: pubkey(keys.client),
            addresses: [`${ADDR.clientTun}/32`],
            apps: opts.allowedTags ?? [{ tag: TAG, allow: [`${ADDR.server}/32`] }],
          },
          {
            name: 'other',
            publicKey: pubkey(keys.other),
            addresses: [`${ADDR.otherTun}/32`],
            apps: [{ tag: OTHER_TAG, allow: ['0.0.0.0/0'] }],
          },
        ],
        ...opts.gateway,
      },
      opts.timers,
    );
    tunnel = await runTunnel(
      {
        name: 'sytun0',
        privateKey: keys.client,
        gateway: { host: ADDR.gatewayWan, port: gateway.port },
        gatewayPublicKey: pubkey(keys.gateway),
        address: `${ADDR.clientTun}/32`,
        apps: [
          { tag: TAG, policyId: POLICY, trafficClass: 1 },
          { tag: OTHER_TAG, policyId: 7, trafficClass: 0 },
        ],
        netns: ns.client,
        ...opts.tunnel,
      },
      opts.timers,
    );
    // Policy routing as the policy engine would install it: marked sockets go into the tunnel.
    await batch(ns.client, [
      `rule add fwmark ${markFor(TAG)} lookup 100 pref 100`,
      `rule add fwmark ${markFor(OTHER_TAG)} lookup 100 pref 101`,
      'route add default dev sytun0 table 100',
    ]);
    await sh(ns.client, ['sysctl', '-q', '-w', 'net.ipv4.conf.sytun0.rp_filter=0']);
    await tunnel.established(15_000);
    Object.assign(lab, { gateway, tunnel });
    return lab;
  } catch (e) {
    Object.assign(lab, { gateway, tunnel });
    await lab.close();
    throw e;
  }
}

export const SOMARK = resolve(
  dirname(fileURLToPath(import.meta.url)),
  '../../native-helper/native/datapath/build/libsomark.so',
);

/** argv prefix that makes every socket of the program carry `mark` (what the tagger does per app). */
export function withMark(mark: number): string[] {
  return mark ? ['env', `LD_PRELOAD=${SOMARK}`, `SY_MARK=${mark}`] : [];
}

/** TCP to the server's echo-your-address service from a socket carrying `mark`. */
export async function askServerWhoAmI(lab: TunnelLab, mark: number, payload = 'hello'): Promise<string> {
  const r = await lab.sh(
    lab.ns.client,
    [...withMark(mark), 'socat', '-t', '5', '-T', '5', '-', `TCP:${ADDR.server}:7000,connect-timeout=3`],
    {
      input: payload,
      allowFailure: true,
      timeoutMs: 8000,
    },
  );
  return r.stdout.trim();
}

export async function startWhoAmIServer(lab: TunnelLab): Promise<void> {
  // SOCAT_PEERADDR is the address the server saw; it reads the whole request first (closing with
  // unread data would reset the connection and lose the answer), answers with it and closes.
  lab.spawn(lab.ns.server, [
    'socat',
    'TCP-LISTEN:7000,reuseaddr,fork',
    'SYSTEM:cat >/dev/null; echo $SOCAT_PEERADDR',
  ]);
  for (let i = 0; i < 50; i++) {
    const ss = await output(['ip', 'netns', 'exec', lab.ns.server, 'ss', '-ltn']);
    if (ss.includes(':7000')) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('the who-am-i server did not start');
}

// Sends hex datagrams (one per stdin line) to HOST:PORT and prints how many replies came back.
const SENDER = `
const d = require('dgram').createSocket('udp4');
const [host, port, waitMs] = process.argv.slice(-3);
let input = '', replies = 0;
process.stdin.on('data', (c) => (input += c));
process.stdin.on('end', () => d.bind(0, async () => {
  d.on('message', () => replies++);
  for (const h of input.split('\\n').filter(Boolean))
    await new Promise((r) => d.send(Buffer.from(h, 'hex'), Number(port), host, r));
  setTimeout(() => { console.log(replies); d.close(); }, Number(waitMs));
}));`;

/** Sends raw datagrams from the client namespace to the gateway; returns how many replies came. */
export async function sendDatagrams(
  lab: TunnelLab,
  packets: Buffer[],
  port: number,
  waitMs = 300,
): Promise<number> {
  const r = await lab.sh(
    lab.ns.client,
    ['node', '-e', SENDER, ADDR.gatewayWan, String(port), String(waitMs)],
    {
      input: packets.map((p) => p.toString('hex')).join('\n') + '\n',
    },
  );
  return Number(r.stdout.trim());
}
