// A user's own WireGuard (wireguard-go, as wg-quick makes it on a kernel without the module) as an app's
// egress, with real packets in the lab: the servers see the WireGuard gateway's address; with wg0 down
// and the kill switch on, nothing of the app leaves by another interface; without the kill switch it
// fails over; explain names wg0; the API shows the peer and a recent handshake. A peer that stops
// answering (the gateway drops its UDP) makes wg0 not usable until it answers again; wireguard-go's own
// UDP never goes into wg0, neither from an app's cgroup nor in exclude mode via wg0.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Interface } from '../../native-helper/src/api/schema.ts';
import { queryUapi } from '../../native-helper/src/mechanism/wireguard/index.ts';
import { Lab } from '../lab/lab.ts';
import { SWITCHYARD, type RunningHelper, startHelper } from '../lab/switchyard-helper.ts';
import { run } from '../../native-helper/src/mechanism/exec.ts';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  WG_ADDRESS,
  WG_IFNAME,
  WG_PORT,
  type WireguardPair,
  uapiSet,
  wireguardPair,
} from '../lab/wireguard.ts';
import { PROBE_MATCHER, eventually, parseProbe, probeArgv, probeAs } from './support.ts';

const isRoot = process.getuid?.() === 0;

// Counts, on the desktop, the app's packets (those with a mark, but not the bypass mark that
// wireguard-go's own UDP and the helper's nudges carry: tag 0xffff) as they leave: by wg0, and by
// anything else but loopback. Priority 500: after every filter, so only what really goes out is counted.
const COUNTERS = `table inet sywgcount {
  counter via_wg {}
  counter elsewhere {}
  counter nudges {}
  chain out { type filter hook postrouting priority 500; policy accept;
    meta mark == 0 return
    meta mark & 0x0000ffff == 0x0000ffff oifname "${WG_IFNAME}" meta l4proto icmp counter name nudges
    meta mark & 0x0000ffff == 0x0000ffff return
    oifname "${WG_IFNAME}" counter name via_wg
    oifname != { "${WG_IFNAME}", "lo" } counter name elsewhere
  }
}`;

describe.skipIf(!isRoot)('an existing WireGuard (wireguard-go) as an egress', () => {
  let lab: Lab;
  let wg: WireguardPair;
  let helper: RunningHelper;

  const counters = async () => {
    const out = JSON.parse(
      await lab.exec('desktop', ['nft', '-j', 'list', 'counters', 'table', 'inet', 'sywgcount']),
    );
    const byName: Record<string, number> = {};
    for (const o of out.nftables as { counter?: { name: string; packets: number } }[])
      if (o.counter) byName[o.counter.name] = o.counter.packets;
    return { viaWg: byName.via_wg ?? 0, elsewhere: byName.elsewhere ?? 0 };
  };
  /** The helper's nudges into wg0 (ICMP echoes with the bypass mark) since the last reset. */
  const nudges = async () => {
    const out = JSON.parse(
      await lab.exec('desktop', ['nft', '-j', 'list', 'counter', 'inet', 'sywgcount', 'nudges']),
    );
    return (out.nftables as { counter?: { packets: number } }[]).find((o) => o.counter)!.counter!.packets;
  };
  const resetCounters = () => lab.exec('desktop', ['nft', 'reset', 'counters', 'table', 'inet', 'sywgcount']);
  const interfaces = async () =>
    JSON.parse((await helper.cli(['interfaces', '--json'])).stdout) as Interface[];

  beforeAll(async () => {
    lab = await Lab.up({ prefix: Lab.randomPrefix() });
    wg = await wireguardPair(lab);
    helper = await startHelper(lab, { wrap: wg.helperWrap });
    await lab.exec('desktop', ['nft', '-f', '-'], { input: COUNTERS });
    await helper.cli(['app', 'add', '--name', 'Probe', '--id', 'probe', '--cmdline', PROBE_MATCHER]);
  }, 120_000);

  afterAll(async () => {
    if (process.env.SY_DEBUG) console.log(helper?.log());
    await helper?.stop();
    await lab?.down();
  });

  it('shows wg0 as a usable WireGuard with its peer', async () => {
    const wg0 = await eventually(
      'wg0 listed as a usable WireGuard',
      async () => (await interfaces()).find((i) => i.name === WG_IFNAME),
      (i) => i?.kind === 'wireguard' && i.usable,
    );
    // A /32 and no IPv6 but the tun's own link-local address.
    expect(wg0!.addresses.filter((a) => !a.address.startsWith('fe80:'))).toEqual([
      { family: 4, address: WG_ADDRESS.desktop, prefixLength: 32 },
    ]);
    expect(wg0!.gateways).toEqual([]);
    expect(wg0!.wireguard).toMatchObject({
      publicKey: wg.keys.desktopPublic,
      listenPort: WG_PORT.desktop,
      peers: [
        {
          publicKey: wg.keys.gatewayPublic,
          endpoint: `${lab.servers.gatewayV4}:${WG_PORT.gateway}`,
          allowedIps: ['0.0.0.0/0', '::/0'],
        },
      ],
    });
    const text = (await helper.cli(['interfaces'])).stdout;
    expect(text).toMatch(/^wg0 +wireguard +\S*usable/m);
    expect(text).toContain(`peer ${wg.keys.gatewayPublic}`);
  });

  it("carries the app through wg0: the servers see the WireGuard gateway's address", async () => {
    await helper.cli(['egress', 'set', 'probe', WG_IFNAME, '--kill-switch']);
    await resetCounters();
    const r = await probeAs(lab, helper, 'probe', 3000);
    expect(r.httpV4.address).toBe(lab.servers.gatewayV4);
    expect(r.udpV4.address).toBe(lab.servers.gatewayV4);
    // wg0 has no IPv6 address: under the kill switch the app's IPv6 is held, not sent around it.
    expect(r.httpV6.address).toBeNull();
    const c = await counters();
    expect(c.viaWg).toBeGreaterThan(0);
    expect(c.elsewhere).toBe(0);

    // The API has the handshake that carried it, just now.
    const peer = (await interfaces()).find((i) => i.name === WG_IFNAME)!.wireguard!.peers[0]!;
    expect(peer.latestHandshake).not.toBeNull();
    expect(Date.now() - Date.parse(peer.latestHandshake!)).toBeLessThan(120_000);
    expect((await helper.cli(['interfaces'])).stdout).toMatch(/latest handshake \d+ s ago/);

    const why = JSON.parse(
      (await helper.cli(['explain', '--app', 'probe', '--dst', `${lab.servers.v4}:80`, '--json'])).stdout,
    ) as { verdict: string; egress: string; sourceAddress: string | null; reason: string };
    expect(why).toMatchObject({ verdict: 'egress', egress: WG_IFNAME, sourceAddress: WG_ADDRESS.desktop });
    expect(why.reason).toContain(WG_IFNAME);
  });

  it('with wg0 down and the kill switch on, the app sends 0 packets anywhere else', async () => {
    await wg.setDesktop('down');
    await eventually(
      'wg0 reported down',
      async () => (await interfaces()).find((i) => i.name === WG_IFNAME),
      (i) => i !== undefined && !i.usable,
    );
    await resetCounters();
    const r = await probeAs(lab, helper, 'probe', 2000);
    expect([r.httpV4.address, r.udpV4.address, r.httpV6.address, r.udpV6.address]).toEqual([
      null,
      null,
      null,
      null,
    ]);
    expect(await counters()).toEqual({ viaWg: 0, elsewhere: 0 });
    const why = JSON.parse(
      (await helper.cli(['explain', '--app', 'probe', '--dst', `${lab.servers.v4}:80`, '--json'])).stdout,
    ) as { verdict: string; reason: string; steps: string[] };
    expect(why.verdict).toBe('block');
    expect(why.reason).toMatch(/kill switch/);
    expect(why.steps).toContain(`${WG_IFNAME} is not usable.`);
  });

  it('without the kill switch it fails over to the next egress, and comes back when wg0 does', async () => {
    const enp3s0 = lab.uplinks.find((u) => u.ifname === 'enp3s0')!;
    await helper.cli(['egress', 'set', 'probe', WG_IFNAME, 'enp3s0']);
    const r = await probeAs(lab, helper, 'probe', 3000);
    expect(r.httpV4.address).toBe(enp3s0.v4.address);
    expect(r.udpV4.address).toBe(enp3s0.v4.address);

    await wg.setDesktop('up');
    await eventually(
      'wg0 usable again',
      async () => (await interfaces()).find((i) => i.name === WG_IFNAME),
      (i) => i?.usable === true,
    );
    const back = await probeAs(lab, helper, 'probe', 3000);
    expect(back.httpV4.address).toBe(lab.servers.gatewayV4);
    // IPv6 has no way through wg0, so it takes the next egress.
    expect(back.httpV6.address).toBe(enp3s0.v6.address);
  });

  it('a peer that stops answering: the app fails over (kill switch off) or is held (on), and is back when it answers', async () => {
    const enp3s0 = lab.uplinks.find((u) => u.ifname === 'enp3s0')!;
    const wg0 = async () => (await interfaces()).find((i) => i.name === WG_IFNAME);
    await helper.cli(['egress', 'set', 'probe', WG_IFNAME, 'enp3s0']);
    expect((await probeAs(lab, helper, 'probe', 3000)).httpV4.address).toBe(lab.servers.gatewayV4);

    await wg.setGatewayAnswering(false);
    let answering = false;
    try {
      // The app keeps sending, as apps do: data that nothing answers is what tells (an idle wg0 is not judged).
      const dead = await eventually(
        'wg0 not usable while its peer does not answer',
        async () => {
          await probeAs(lab, helper, 'probe', 1000);
          return wg0();
        },
        (i) => i?.usable === false,
        120_000,
      );
      expect(dead!.up).toBe(true); // the interface itself never went down
      expect(dead!.wireguard?.problem).toMatch(/^wg0: peer not answering since \d\d:\d\d$/);
      const status = JSON.parse((await helper.cli(['status', '--json'])).stdout) as { problems: string[] };
      expect(status.problems).toContain(dead!.wireguard!.problem);
      expect((await helper.cli(['interfaces'])).stdout).toContain('peer not answering since');
      const over = await probeAs(lab, helper, 'probe', 3000);
      expect(over.httpV4.address).toBe(enp3s0.v4.address);
      expect(over.udpV4.address).toBe(enp3s0.v4.address);

      // With the kill switch: held, not one packet out of an uplink.
      await helper.cli(['egress', 'set', 'probe', WG_IFNAME, '--kill-switch']);
      await resetCounters();
      const held = await probeAs(lab, helper, 'probe', 2000);
      expect([held.httpV4.address, held.udpV4.address, held.httpV6.address, held.udpV6.address]).toEqual([
        null,
        null,
        null,
        null,
      ]);
      expect(await counters()).toEqual({ viaWg: 0, elsewhere: 0 });
      // Meanwhile the helper nudges wg0 (every 10 s), so that it keeps shaking hands.
      await eventually('a nudge into wg0', nudges, (n) => n > 0, 30_000);

      // The peer answers again: the helper's nudges bring a handshake, and the app goes through wg0.
      await wg.setGatewayAnswering(true);
      answering = true;
      const alive = await eventually('wg0 usable again', wg0, (i) => i?.usable === true, 120_000);
      expect(alive!.wireguard?.problem ?? null).toBeNull();
      expect(helper.log()).toMatch(/wg0: the peer answers again/);
      await resetCounters();
      const back = await probeAs(lab, helper, 'probe', 3000);
      expect(back.httpV4.address).toBe(lab.servers.gatewayV4);
      expect(back.udpV4.address).toBe(lab.servers.gatewayV4);
      expect((await counters()).elsewhere).toBe(0);
    } finally {
      // The next cases need the peer.
      if (!answering) await wg.setGatewayAnswering(true);
    }
  }, 400_000);

  it("never puts wireguard-go into an app, so its own UDP never takes an app's route into wg0", async () => {
    // An app whose pattern matches wireguard-go, sent into wg0 with its kill switch: adopted, its UDP
    // would loop through wg0 (or be held) once it binds a new socket.
    await helper.cli([
      'app',
      'add',
      '--name',
      'WG daemon',
      '--id',
      'wgd',
      '--cmdline',
      'wireguard-go -f wg0',
    ]);
    await helper.cli(['egress', 'set', 'wgd', WG_IFNAME, '--kill-switch']);
    // A new listen port: wireguard-go opens new sockets now, after the app exists.
    await uapiSet(join(wg.dirs.desktop, `${WG_IFNAME}.sock`), ['listen_port=51829']);
    const app = JSON.parse((await helper.cli(['app', 'show', 'wgd', '--json'])).stdout) as { pids: number[] };
    expect(app.pids).toEqual([]);
    const r = await probeAs(lab, helper, 'probe', 3000);
    expect(r.httpV4.address).toBe(lab.servers.gatewayV4);
    // The gateway hears the desktop from the new port, on the uplink's address: not through wg0.
    const enp3s0 = lab.uplinks.find((u) => u.ifname === 'enp3s0')!;
    const gw = await queryUapi(join(wg.dirs.gateway, `${WG_IFNAME}.sock`));
    expect(gw.peers[0]!.endpoint).toBe(`${enp3s0.v4.address}:51829`);
    const wg0 = (await interfaces()).find((i) => i.name === WG_IFNAME)!;
    expect(wg0.wireguard?.listenPort).toBe(51829);
  });

  it("in exclude mode via wg0, wireguard-go's own UDP (unmarked until the guard marks it) goes around wg0, not into it", async () => {
    const enp3s0 = lab.uplinks.find((u) => u.ifname === 'enp3s0')!;
    await helper.cli(['mode', 'exclude', '--via', WG_IFNAME]);
    try {
      // New sockets opened now carry no mark: exclude mode would send them into wg0 itself.
      await uapiSet(join(wg.dirs.desktop, `${WG_IFNAME}.sock`), ['listen_port=51832']);
      await eventually(
        'the gateway hearing the desktop from the new port on the uplink',
        async () => (await queryUapi(join(wg.dirs.gateway, `${WG_IFNAME}.sock`))).peers[0]!.endpoint,
        (e) => e === `${enp3s0.v4.address}:51832`,
        30_000,
      );
      expect(helper.log()).toMatch(
        /gave WireGuard's own UDP socket \(pid \d+, port 51832\) the bypass mark:/,
      );
      // A process in no app goes through wg0: the servers see the WireGuard gateway.
      const unmanaged = await eventually(
        'an unmanaged process through wg0',
        async () => parseProbe(await lab.exec('desktop', probeArgv(lab, { timeoutMs: 3000 }))),
        (r) => r.httpV4.address === lab.servers.gatewayV4,
        60_000,
      );
      expect(unmanaged.udpV4.address).toBe(lab.servers.gatewayV4);
    } finally {
      await helper.cli(['mode', 'include']);
    }
  }, 200_000);

  it("gives wireguard-go's UDP the bypass mark instead of an app's when it runs inside that app's cgroup (started from it)", async () => {
    // As when wg-quick is run from a terminal that is an app sent into wg0: the cgroup is inherited.
    const lines = await lab.exec('desktop', [
      SWITCHYARD,
      'run',
      '--app',
      'wgd',
      '--socket',
      helper.socket,
      '--',
      'cat',
      '/proc/self/cgroup',
    ]);
    const cgroup = lines
      .split('\n')
      .find((l) => l.startsWith('0::'))!
      .slice(3);
    const mount = (await run(['findmnt', '-t', 'cgroup2', '-n', '-o', 'TARGET'])).stdout
      .split('\n')[0]!
      .trim();
    const inDesktop = new Set(
      (await lab.exec('desktop', ['ip', 'netns', 'pids', lab.nsName('desktop')])).split('\n'),
    );
    const pid = (await run(['pgrep', '-x', 'wireguard-go'])).stdout
      .split('\n')
      .find((p) => inDesktop.has(p))!;
    writeFileSync(`${mount}${cgroup}/cgroup.procs`, pid);
    // Its new sockets are marked by the app's tag from the start.
    await uapiSet(join(wg.dirs.desktop, `${WG_IFNAME}.sock`), ['listen_port=51830']);
    const enp3s0 = lab.uplinks.find((u) => u.ifname === 'enp3s0')!;
    await eventually(
      'the gateway hearing the desktop from the new port on the uplink',
      async () => (await queryUapi(join(wg.dirs.gateway, `${WG_IFNAME}.sock`))).peers[0]!.endpoint,
      (e) => e === `${enp3s0.v4.address}:51830`,
      30_000,
    );
    expect(helper.log()).toMatch(
      /gave WireGuard's own UDP socket \(pid \d+, port 51830\) the bypass mark instead of an app mark/,
    );
    // Until the guard marked them (2 s at most), the new sockets' packets looped through wg0, and the
    // gateway may have taken the inner address for the desktop's: it roams back on the next packet.
    await eventually(
      'the app through wg0 again',
      () => probeAs(lab, helper, 'probe', 3000),
      (r) => r.httpV4.address === lab.servers.gatewayV4,
      60_000,
    );
  });
});
