// Per-app egress in the lab, with real packets: the servers in the lab's internet say which uplink
// an app's traffic came from. The default route of the lab desktop is enp3s0 (Ethernet); apps are
// sent to wlan0 (Wi-Fi), so every pass below is something the default routing would not do.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../native-helper/src/mechanism/exec.ts';
import { Lab } from '../lab/lab.ts';
import { SWITCHYARD, type RunningHelper, startHelper } from '../lab/switchyard-helper.ts';
import { PROBE_MATCHER, addresses, eventually, parseProbe, probeArgv, probeAs } from './support.ts';

const isRoot = process.getuid?.() === 0;

describe.skipIf(!isRoot)('per-app egress in the lab (real packets)', () => {
  let lab: Lab;
  let helper: RunningHelper;
  let wifi: { v4: string; v6: string };
  let ether: { v4: string; v6: string };

  const probe = (app: string, timeout = 2000) => probeAs(lab, helper, app, timeout);
  const onWifi = (a: string | null | undefined) => a === wifi.v4 || a === wifi.v6;
  const onEther = (a: string | null | undefined) => a === ether.v4 || a === ether.v6;

  beforeAll(async () => {
    lab = await Lab.up({ prefix: Lab.randomPrefix() });
    const a = lab.uplink('wlan0');
    const b = lab.uplink('enp3s0');
    wifi = { v4: a.v4.address, v6: a.v6.address };
    ether = { v4: b.v4.address, v6: b.v6.address };
    helper = await startHelper(lab);
    await helper.cli(['app', 'add', '--name', 'Probe', '--id', 'probe', '--cmdline', PROBE_MATCHER]);
  });

  afterAll(async () => {
    await helper?.stop();
    await lab?.down();
  });

  it('leaves an app on the default egress alone (control)', async () => {
    const r = await probe('probe');
    expect(addresses(r)).toEqual([ether.v4, ether.v4, ether.v6, ether.v6, ether.v4]);
  });

  it('sends an app set to wlan0 out of wlan0: TCP, UDP, IPv4, IPv6 and its DNS', async () => {
    await helper.cli(['egress', 'set', 'probe', 'wlan0']);
    const r = await probe('probe');
    expect(addresses(r)).toEqual([wifi.v4, wifi.v4, wifi.v6, wifi.v6, wifi.v4]);
    const other = parseProbe(await lab.exec('desktop', probeArgv(lab)));
    expect(other.httpV4.address).toBe(ether.v4); // a process outside the app is untouched
  });

  it('explains the choice with the address the kernel will use', async () => {
    const out = JSON.parse(
      (await helper.cli(['explain', '--app', 'probe', '--dst', `${lab.servers.v4}:80`, '--json'])).stdout,
    );
    expect(out).toMatchObject({ verdict: 'egress', egress: 'wlan0', sourceAddress: wifi.v4 });
  });

  it('adopts a matching process started outside `run` and routes its new connections', async () => {
    await helper.cli(['egress', 'set', 'lab-chat', 'wlan0']);
    const chat = await lab.startApp('lab-chat', { args: ['--interval-ms', '300'] });
    try {
      const apps = await eventually(
        'lab-chat to be adopted',
        async () =>
          JSON.parse((await helper.cli(['apps', '--json'])).stdout) as { id: string; pids: number[] }[],
        (list) => list.some((a) => a.id === 'lab-chat' && a.pids.includes(chat.pid)),
      );
      expect(apps.find((a) => a.id === 'lab-chat')!.pids).toContain(chat.pid);
      const log = await eventually(
        'lab-chat traffic through wlan0',
        () => chat.readLog(),
        (l) => l.length >= 3 && l.slice(-3).every((x) => x.ok && onWifi(x.serverSawAddress)),
      );
      expect(onWifi(log.at(-1)!.serverSawAddress)).toBe(true);
    } finally {
      await chat.stop();
    }
  });

  it('moves new and existing connections when the egress changes', async () => {
    await helper.cli(['egress', 'set', 'lab-browser', 'wlan0']);
    const browser = await lab.startApp('lab-browser', {
      via: [SWITCHYARD, 'run', '--app', 'lab-browser', '--socket', helper.socket, '--'],
      args: ['--interval-ms', '300'],
    });
    try {
      const before = await eventually(
        'lab-browser on wlan0',
        () => browser.readLog(),
        (l) => l.filter((x) => x.ok).length >= 3,
      );
      const connectionBefore = before.at(-1)!.connection as number;
      expect(onWifi(before.at(-1)!.serverSawAddress)).toBe(true);
      await helper.cli(['egress', 'set', 'lab-browser', 'enp3s0']);
      const after = await eventually(
        'lab-browser on enp3s0',
        () => browser.readLog(),
        (l) => onEther(l.at(-1)?.serverSawAddress),
      );
      // The keep-alive connection was moved by closing it: the app opened a new one.
      expect(after.at(-1)!.connection as number).toBeGreaterThan(connectionBefore);
    } finally {
      await browser.stop();
    }
  });

  it('with the kill switch, never leaks out of enp3s0 while wlan0 is down, and recovers', async () => {
    await helper.cli(['egress', 'set', 'probe', 'wlan0', '--kill-switch']);
    const isp = lab.uplink('enp3s0').ispNs;
    // Count every packet from the desktop's uplink addresses arriving at the Ethernet ISP.
    await run(['ip', 'netns', 'exec', isp, 'nft', '-f', '-'], {
      input: `table inet syleak { counter leaked {}
        chain watch { type filter hook prerouting priority -300; ip saddr ${wifi.v4} counter name leaked; ip6 saddr ${wifi.v6} counter name leaked; }
      }
`,
    });
    const leaked = async () => {
      const j = JSON.parse(
        await lab.exec(lab.uplink('enp3s0').ispRole, [
          'nft',
          '-j',
          'list',
          'counter',
          'inet',
          'syleak',
          'leaked',
        ]),
      );
      return j.nftables.find((x: { counter?: { packets: number } }) => x.counter)!.counter.packets as number;
    };
    await lab.setUplink('wlan0', 'down');
    await eventually(
      'the helper to see wlan0 down',
      async () => JSON.parse((await helper.cli(['apps', '--json'])).stdout),
      (l: { id: string; egress: { state: string } }[]) =>
        l.find((a) => a.id === 'probe')?.egress.state === 'killed',
    );
    const r = await probe('probe', 1000);
    expect(addresses(r)).toEqual([null, null, null, null, null]);
    expect(await leaked()).toBe(0);
    const other = parseProbe(await lab.exec('desktop', probeArgv(lab)));
    expect(other.httpV4.address).toBe(ether.v4); // the rest of the machine still has its network

    await lab.setUplink('wlan0', 'up');
    const back = await eventually(
      'traffic back on wlan0',
      () => probe('probe', 1000),
      (x) => x.httpV4.address === wifi.v4,
    );
    expect(addresses(back)).toEqual([wifi.v4, wifi.v4, wifi.v6, wifi.v6, wifi.v4]);
    expect(await leaked()).toBe(0);
  });

  it('without the kill switch, fails over to the next egress and fails back', async () => {
    await helper.cli(['egress', 'set', 'probe', 'wlan0,enp3s0']);
    expect(addresses(await probe('probe'))).toEqual([wifi.v4, wifi.v4, wifi.v6, wifi.v6, wifi.v4]);
    await lab.setUplink('wlan0', 'down');
    const over = await eventually(
      'failover to enp3s0',
      () => probe('probe', 1000),
      (x) => x.httpV4.address === ether.v4,
    );
    expect(addresses(over)).toEqual([ether.v4, ether.v4, ether.v6, ether.v6, ether.v4]);
    await lab.setUplink('wlan0', 'up');
    const back = await eventually(
      'fail-back to wlan0',
      () => probe('probe', 1000),
      (x) => x.httpV4.address === wifi.v4,
    );
    expect(back.udpV6.address).toBe(wifi.v6);
    const events = (await helper.cli(['events', '--no-follow', '--history', '200', '--json'])).stdout;
    expect(events).toContain('"egress.failover"');
    expect(events).toContain('"egress.restored"');
  });

  it('lists a running program with an internet socket and no desktop file, and adopts it', async () => {
    const prog = await lab.spawn('desktop', [
      'setpriv',
      '--reuid=1000',
      '--regid=1000',
      '--clear-groups',
      'socat',
      'UDP-LISTEN:5555',
      '-',
    ]);
    const apps = await eventually(
      'socat in the catalog',
      async () =>
        JSON.parse((await helper.cli(['apps', '--rescan', '--json'])).stdout) as {
          id: string;
          source: string;
          pids: number[];
        }[],
      (l) => l.some((a) => a.source === 'process' && a.pids.includes(prog.pid)),
    );
    expect(apps.find((a) => a.pids.includes(prog.pid))).toMatchObject({ id: 'socat', source: 'process' });
    prog.kill();
  });

  it('blocks an app set to block', async () => {
    await helper.cli(['egress', 'set', 'probe', 'block']);
    expect(addresses(await probe('probe', 1000))).toEqual([null, null, null, null, null]);
    await helper.cli(['egress', 'set', 'probe', 'default']);
    expect((await probe('probe')).httpV4.address).toBe(ether.v4);
  });
});
