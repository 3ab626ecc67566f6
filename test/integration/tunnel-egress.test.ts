// A tunnel as an app's egress, in the lab, set up with nothing but the `switchyard` CLI: keys, a
// gateway in the lab's gateway namespace, a tunnel on the desktop, and an app routed into it.
// The internet's servers must see the gateway's address; the gateway must account the app's tag and
// policy id from the packets' metadata.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../native-helper/src/mechanism/exec.ts';
import { Lab } from '../lab/lab.ts';
import { SWITCHYARD, type RunningHelper, startHelper } from '../lab/switchyard-helper.ts';
import { PROBE_MATCHER, probeAs } from './support.ts';

const isRoot = process.getuid?.() === 0;
const sy = async (...args: string[]) => (await run([SWITCHYARD, ...args])).stdout.trim();

describe.skipIf(!isRoot)('tunnel egress through the lab gateway', () => {
  let lab: Lab;
  let helper: RunningHelper;
  let gateway: ChildProcess;
  let work: string;
  let gatewaySocket: string;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'sy-tunnel-'));
    lab = await Lab.up({ prefix: Lab.randomPrefix() });
    helper = await startHelper(lab);
    gatewaySocket = `/run/switchyard/${lab.prefix}-gw.sock`;
  });

  afterAll(async () => {
    if (process.env.SY_DEBUG) console.log(helper?.log());
    if (gateway && gateway.exitCode === null) {
      const done = new Promise((r) => gateway.once('exit', r));
      gateway.kill('SIGTERM');
      await done;
    }
    await helper?.stop();
    await lab?.down();
    rmSync(work, { recursive: true, force: true });
  });

  it('carries an app through the gateway: the servers see the gateway, the gateway sees the app', async () => {
    // Keys, on each side.
    const desktopKey = await sy('tunnel', 'keygen');
    writeFileSync(join(work, 'desktop.key'), desktopKey, { mode: 0o600 });
    const desktopPub = (await run([SWITCHYARD, 'tunnel', 'pubkey'], { input: desktopKey })).stdout.trim();
    const gatewayKey = await sy('tunnel', 'keygen');
    const gatewayPub = (await run([SWITCHYARD, 'tunnel', 'pubkey'], { input: gatewayKey })).stdout.trim();

    // The app whose traffic goes into the tunnel, and its tag (the gateway lets the peer claim it).
    await helper.cli(['app', 'add', '--name', 'Probe', '--id', 'probe', '--cmdline', PROBE_MATCHER]);
    const tag = JSON.parse((await helper.cli(['app', 'show', 'probe', '--json'])).stdout).tag as number;

    // The gateway, in the lab's gateway namespace.
    const config = {
      instance: lab.prefix,
      privateKey: gatewayKey,
      listenPort: 51900,
      address: '10.77.0.1/24',
      uplinks: [{ name: 'internet', interface: 'eth0' }],
      peers: [
        {
          name: 'desktop',
          publicKey: desktopPub,
          addresses: ['10.77.0.2/32'],
          apps: [{ tag, allow: ['0.0.0.0/0'] }],
        },
      ],
    };
    writeFileSync(join(work, 'gw.json'), JSON.stringify(config), { mode: 0o600 });
    gateway = spawn(
      'nsenter',
      [
        `--net=/run/netns/${lab.nsName('gateway')}`,
        '--',
        SWITCHYARD,
        'gateway',
        '--config',
        join(work, 'gw.json'),
        '--state-dir',
        work,
        '--socket',
        gatewaySocket,
      ],
      {
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    let gwLog = '';
    gateway.stderr!.on('data', (d) => (gwLog += d));
    const deadline = Date.now() + 30_000;
    while (!gwLog.includes('listening on UDP') && Date.now() < deadline) {
      if (gateway.exitCode !== null) throw new Error(`the gateway exited: ${gwLog}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(gwLog).toContain('listening on UDP 51900');

    // The tunnel egress on the desktop, then the app into it with a kill switch.
    const added = await helper.cli([
      'tunnel',
      'add',
      'sy-tun0',
      '--gateway',
      `${lab.servers.gatewayV4}:51900`,
      '--gateway-key',
      gatewayPub,
      '--private-key-file',
      join(work, 'desktop.key'),
      '--address',
      '10.77.0.2/24',
    ]);
    expect(added.stdout).toContain(desktopPub);
    const up = Date.now() + 30_000;
    let tunnels = JSON.parse((await helper.cli(['tunnels', '--json'])).stdout) as { state: string }[];
    while (tunnels[0]?.state !== 'up' && Date.now() < up) {
      await new Promise((r) => setTimeout(r, 300));
      tunnels = JSON.parse((await helper.cli(['tunnels', '--json'])).stdout);
    }
    expect(tunnels[0]?.state).toBe('up');
    await helper.cli(['egress', 'set', 'probe', 'sy-tun0', '--kill-switch']);
    const iface = (
      JSON.parse((await helper.cli(['interfaces', '--json'])).stdout) as {
        name: string;
        kind: string;
        usable: boolean;
        apps: string[];
      }[]
    ).find((i) => i.name === 'sy-tun0');
    expect(iface).toMatchObject({ kind: 'tunnel', usable: true, apps: ['probe'] });

    const r = await probeAs(lab, helper, 'probe', 3000);
    expect(r.httpV4!.address).toBe(lab.servers.gatewayV4);
    expect(r.udpV4!.address).toBe(lab.servers.gatewayV4);
    expect(r.dns!.address).toBe(lab.servers.gatewayV4);
    // The tunnel carries IPv4 only: with the kill switch, IPv6 is blocked rather than leaked outside it.
    expect(r.httpV6!.address).toBeNull();

    const stats = JSON.parse(
      (await run([SWITCHYARD, 'gateway', 'stats', '--json', '--socket', gatewaySocket])).stdout,
    ) as {
      accounting: { peer: string; tag: number; policyId: number; packets: number }[];
    };
    const row = stats.accounting.find((a) => a.tag === tag);
    expect(row).toBeDefined();
    expect(row!.peer).toBe('desktop');
    expect(row!.packets).toBeGreaterThan(0);
    expect(row!.policyId).not.toBe(0);
  });
  it('removes a tunnel and adds it again at once, without a stale interface in the way', async () => {
    const args = (await helper.cli(['tunnels', '--json'])).stdout;
    const t = (JSON.parse(args) as { gateway: string; gatewayPublicKey: string; addresses: string[] }[])[0]!;
    await helper.cli(['tunnel', 'rm', 'sy-tun0']);
    const again = await helper.cli(
      [
        'tunnel',
        'add',
        'sy-tun0',
        '--gateway',
        t.gateway,
        '--gateway-key',
        t.gatewayPublicKey,
        '--private-key-file',
        join(work, 'desktop.key'),
        ...t.addresses.flatMap((a) => ['--address', a]),
      ],
      { allowFailure: true },
    );
    expect(again.stderr).toBe('');
    expect(again.code).toBe(0);
  });
});
