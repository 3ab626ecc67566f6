// A tunnel as an app's egress, in the lab, set up with nothing but the `switchyard` CLI: keys, a
// gateway in the lab's gateway namespace, a tunnel on the desktop, and an app routed into it.
// The internet's servers must see the gateway's address; the gateway must account the app's tag and
// policy id from the packets' metadata.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../native-helper/src/mechanism/exec.ts';
import { Lab } from '../lab/lab.ts';
import { SWITCHYARD, type RunningHelper, startHelper } from '../lab/switchyard-helper.ts';
import { type LabGateway, startLabGateway } from './lab-gateway.ts';
import { PROBE_MATCHER, probeAs } from './support.ts';

const isRoot = process.getuid?.() === 0;

describe.skipIf(!isRoot)('tunnel egress through the lab gateway', () => {
  let lab: Lab;
  let helper: RunningHelper;
  let gateway: LabGateway;
  let work: string;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'sy-tunnel-'));
    lab = await Lab.up({ prefix: Lab.randomPrefix() });
    helper = await startHelper(lab);
  });

  afterAll(async () => {
    if (process.env.SY_DEBUG) console.log(helper?.log());
    await gateway?.stop();
    await helper?.stop();
    await lab?.down();
    rmSync(work, { recursive: true, force: true });
  });

  it('carries an app through the gateway: the servers see the gateway, the gateway sees the app', async () => {
    // The app whose traffic goes into the tunnel, and its tag (the gateway lets the peer claim it).
    await helper.cli(['app', 'add', '--name', 'Probe', '--id', 'probe', '--cmdline', PROBE_MATCHER]);
    const tag = JSON.parse((await helper.cli(['app', 'show', 'probe', '--json'])).stdout).tag as number;

    // The gateway, in the lab's gateway namespace.
    gateway = await startLabGateway(lab, work, { port: 51900, apps: [{ tag, allow: ['0.0.0.0/0'] }] });
    const { gatewayPub, desktopPub } = gateway;

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
      (await run([SWITCHYARD, 'gateway', 'stats', '--json', '--socket', gateway.socket])).stdout,
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
