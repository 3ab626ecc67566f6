// Exclude mode in the lab, with real packets: everything not in an app goes through the tunnel (the
// servers see the gateway's address), an app with its own choice keeps it, and with the tunnel gone
// the global kill switch lets no packet of an unmanaged process out of any uplink.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Lab } from '../lab/lab.ts';
import { type RunningHelper, startHelper } from '../lab/switchyard-helper.ts';
import { addDesktopTunnel, type LabGateway, startLabGateway } from './lab-gateway.ts';
import { PROBE_MATCHER, parseProbe, probeArgv, probeAs } from './support.ts';

const isRoot = process.getuid?.() === 0;

describe.skipIf(!isRoot)('exclude mode through a tunnel (real packets)', () => {
  let lab: Lab;
  let helper: RunningHelper;
  let gateway: LabGateway;
  let work: string;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'sy-exclude-'));
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

  it('sends unmanaged traffic through the tunnel, keeps excluded apps on their egress, and holds the rest when it is gone', async () => {
    // The app whose traffic goes into the tunnel, and its tag (the gateway lets the peer claim it).
    await helper.cli(['app', 'add', '--name', 'Probe', '--id', 'probe', '--cmdline', PROBE_MATCHER]);
    const tag = JSON.parse((await helper.cli(['app', 'show', 'probe', '--json'])).stdout).tag as number;
    // An app left on default: not excluded, so it goes through the tunnel too (with its own tag).
    await helper.cli(['app', 'add', '--name', 'Plain', '--id', 'plain', '--cmdline', 'no-such-program-here']);
    const plainTag = JSON.parse((await helper.cli(['app', 'show', 'plain', '--json'])).stdout).tag as number;

    // The gateway, in the lab's gateway namespace.
    gateway = await startLabGateway(lab, work, {
      port: 51900,
      apps: [
        { tag, allow: ['0.0.0.0/0'] },
        { tag: plainTag, allow: ['0.0.0.0/0'] },
        { tag: 0, allow: ['0.0.0.0/0'] },
      ],
    });

    // The tunnel egress on the desktop, then the app into it with a kill switch.
    expect(await addDesktopTunnel(helper, lab, gateway)).toContain(gateway.desktopPub);
    const wifi = lab.uplink('wlan0').v4.address;
    await helper.cli(['egress', 'set', 'probe', 'wlan0']);
    const shown = await helper.cli(['mode', 'exclude', '--via', 'SY-TUN0']);
    expect(shown.stdout).toContain('exclude mode: via sy-tun0');
    const wrong = await helper.cli(['mode', 'exclude', '--via', 'sy-tnu0'], { allowFailure: true });
    expect(wrong.code).not.toBe(0);
    expect(wrong.stderr).toContain('Did you mean');
    const status = JSON.parse((await helper.cli(['status', '--json'])).stdout) as { mode: unknown };
    expect(status.mode).toEqual({ kind: 'exclude', via: 'sy-tun0', killSwitch: true });
    // explain says it: a process in no app goes through the tunnel, the app keeps its own choice.
    const server = `${lab.servers.v4}:80`;
    const viaTunnel = (await helper.cli(['explain', '--unmanaged', server])).stdout;
    expect(viaTunnel).toContain('verdict: egress via sy-tun0');
    expect(viaTunnel).toContain(
      'Exclude mode via sy-tun0: a process in no app goes through sy-tun0; with sy-tun0 down it is held by the global kill switch.',
    );
    const own = (await helper.cli(['explain', 'probe', server])).stdout;
    expect(own).toContain('verdict: egress via wlan0');
    expect(own).toMatch(
      /Probe (is in Switchyard|has an egress choice of its own), so it is excluded and keeps it/,
    );

    // A process in no app: through the tunnel; its own UDP still flows (the tunnel stays up).
    const unmanaged = parseProbe(await lab.exec('desktop', probeArgv(lab, { timeoutMs: 3000 })));
    expect(unmanaged.httpV4.address).toBe(lab.servers.gatewayV4);
    expect(unmanaged.udpV4.address).toBe(lab.servers.gatewayV4);
    // The excluded app keeps its own egress.
    const excluded = await probeAs(lab, helper, 'probe', 3000);
    expect(excluded.httpV4!.address).toBe(wifi);
    // The app on default goes through the tunnel, and explain and the app's state say so.
    const plain = await probeAs(lab, helper, 'plain', 3000, false);
    expect([plain.httpV4.address, plain.udpV4.address]).toEqual([
      lab.servers.gatewayV4,
      lab.servers.gatewayV4,
    ]);
    expect((await helper.cli(['explain', 'plain', server])).stdout).toContain(
      'Plain is on default, so it goes through sy-tun0.',
    );
    const plainApp = JSON.parse((await helper.cli(['app', 'show', 'plain', '--json'])).stdout) as {
      egress: unknown;
    };
    expect(plainApp.egress).toEqual({ state: 'routed', active: 'sy-tun0' });

    // The tunnel gone: not one packet of an unmanaged process leaves by any uplink. Counted where each
    // uplink's ISP receives packets for the servers (an interface's own counters also see the kernel's
    // neighbour probes).
    await helper.cli(['tunnel', 'rm', 'sy-tun0']);
    const heldWhy = (await helper.cli(['explain', '--unmanaged', server])).stdout;
    expect(heldWhy).toContain('verdict: block');
    expect(heldWhy).toContain('sy-tun0 is down, so the global kill switch holds every process in no app.');
    const { v4, v6 } = lab.servers;
    for (const u of lab.uplinks)
      await lab.exec(u.ispRole, ['nft', '-f', '-'], {
        input: `table inet syexcl { counter to_servers {}
          chain watch { type filter hook prerouting priority -300; ip daddr ${v4} counter name to_servers; ip6 daddr ${v6} counter name to_servers; }
        }\n`,
      });
    const txPackets = async () =>
      Promise.all(
        lab.uplinks.map(async (u) => {
          const out = await lab.exec(u.ispRole, [
            'nft',
            '-j',
            'list',
            'counter',
            'inet',
            'syexcl',
            'to_servers',
          ]);
          return (JSON.parse(out) as { nftables: { counter?: { packets: number } }[] }).nftables.find(
            (x) => x.counter,
          )!.counter!.packets;
        }),
      );
    const before = await txPackets();
    const held = parseProbe(await lab.exec('desktop', probeArgv(lab, { timeoutMs: 1500 })));
    const plainHeld = await probeAs(lab, helper, 'plain', 1500, false);
    const after = await txPackets();
    for (const r of [held, plainHeld])
      expect([r.httpV4.address, r.udpV4.address, r.httpV6.address, r.udpV6.address]).toEqual([
        null,
        null,
        null,
        null,
      ]);
    expect(after).toEqual(before);
    // The counters see what does go out: the excluded app's packets to the servers, by wlan0's ISP.
    await probeAs(lab, helper, 'probe', 3000);
    const wifiAt = lab.uplinks.findIndex((u) => u.ifname === 'wlan0');
    expect((await txPackets())[wifiAt]).toBeGreaterThan(after[wifiAt]!);

    // An uplink that goes down and comes back gets its default route again while the global kill
    // switch holds: the kernel checks the new gateway with an unmarked lookup, which must find the
    // uplink's subnet (main without default routes), not the kill switch's unreachable.
    await lab.setUplink('enp3s0', 'down');
    await lab.setUplink('enp3s0', 'up');
    const routes = await lab.exec('desktop', ['ip', '-4', 'route', 'show', 'default', 'dev', 'enp3s0']);
    expect(routes).toContain(`via ${lab.uplink('enp3s0').v4.gateway}`);
    expect((await helper.cli(['mode'])).stdout).toContain('kill switch on');
  });
});
