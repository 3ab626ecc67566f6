// A `switchyard gateway` in the lab's gateway namespace with fresh keys for it and for the desktop, as
// the helper tests that tunnel through it set it up: the desktop's private key is in
// WORK/desktop.key, and its peer entry lets the desktop (10.77.0.2) claim the given app tags. It offers
// its peers the resolver the lab runs on its own address (`switchyard gateway --dns`), as a real
// gateway offers its DNS; the desktop's tunnel learns it in the handshake.
// addDesktopTunnel: the desktop's tunnel to it, added with the CLI as a user would.
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../../native-helper/src/mechanism/exec.ts';
import type { Lab } from '../lab/lab.ts';
import { type RunningHelper, SWITCHYARD } from '../lab/switchyard-helper.ts';
import { eventually } from './support.ts';

export interface LabGateway {
  process: ChildProcess;
  /** Where the desktop's private key is (for `switchyard tunnel add --private-key-file`). */
  desktopKeyFile: string;
  desktopPub: string;
  gatewayPub: string;
  /** The gateway's API socket (`switchyard gateway stats --socket …`). */
  socket: string;
  port: number;
  log(): string;
  /** SIGTERM, and wait for it to exit; nothing if it has exited already. */
  stop(): Promise<void>;
}

async function keypair(): Promise<{ key: string; pub: string }> {
  const key = (await run([SWITCHYARD, 'tunnel', 'keygen'])).stdout.trim();
  return { key, pub: (await run([SWITCHYARD, 'tunnel', 'pubkey'], { input: key })).stdout.trim() };
}

export async function startLabGateway(
  lab: Lab,
  work: string,
  opts: {
    port: number;
    apps: { tag: number; allow: string[] }[];
    /** The resolvers it offers; the lab's resolver on the gateway's address when not given. */
    dns?: string[];
  },
): Promise<LabGateway> {
  const desktop = await keypair();
  const gw = await keypair();
  const desktopKeyFile = join(work, 'desktop.key');
  writeFileSync(desktopKeyFile, desktop.key, { mode: 0o600 });
  const config = {
    instance: lab.prefix,
    privateKey: gw.key,
    listenPort: opts.port,
    address: '10.77.0.1/24',
    uplinks: [{ name: 'internet', interface: 'eth0' }],
    peers: [{ name: 'desktop', publicKey: desktop.pub, addresses: ['10.77.0.2/32'], apps: opts.apps }],
  };
  writeFileSync(join(work, 'gw.json'), JSON.stringify(config), { mode: 0o600 });
  const socket = `/run/switchyard/${lab.prefix}-gw.sock`;
  const dns = opts.dns ?? [lab.servers.gatewayV4];
  const child = spawn(
    'nsenter',
    [`--net=/run/netns/${lab.nsName('gateway')}`, '--', SWITCHYARD, 'gateway'].concat([
      '--config',
      join(work, 'gw.json'),
      '--state-dir',
      work,
      '--socket',
      socket,
      ...(dns.length ? ['--dns', dns.join(',')] : []),
    ]),
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  child.stderr!.on('data', (d) => (log += d));
  const gateway: LabGateway = {
    process: child,
    desktopKeyFile,
    desktopPub: desktop.pub,
    gatewayPub: gw.pub,
    socket,
    port: opts.port,
    log: () => log,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const done = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await done;
    },
  };
  for (const deadline = Date.now() + 30_000; !log.includes(`listening on UDP ${opts.port}`);) {
    if (child.exitCode !== null) throw new Error(`the gateway exited: ${log}`);
    if (Date.now() > deadline) {
      await gateway.stop();
      throw new Error(`the gateway did not listen on UDP ${opts.port} within 30 s: ${log}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return gateway;
}

/**
 * `switchyard tunnel add NAME` on the desktop to this gateway (address 10.77.0.2/24, the desktop's
 * key file), then waits until the tunnel is up. Returns what the CLI printed.
 */
export async function addDesktopTunnel(
  helper: RunningHelper,
  lab: Lab,
  gateway: LabGateway,
  name = 'sy-tun0',
): Promise<string> {
  const added = await helper.cli([
    'tunnel',
    'add',
    name,
    '--gateway',
    `${lab.servers.gatewayV4}:${gateway.port}`,
    '--gateway-key',
    gateway.gatewayPub,
    '--private-key-file',
    gateway.desktopKeyFile,
    '--address',
    '10.77.0.2/24',
  ]);
  await eventually(
    `tunnel ${name} up`,
    async () =>
      JSON.parse((await helper.cli(['tunnels', '--json'])).stdout) as { name: string; state: string }[],
    (t) => t.find((x) => x.name === name)?.state === 'up',
    30_000,
  );
  return added.stdout;
}
