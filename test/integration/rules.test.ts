// Encryption rules in the lab, with real packets. One app, at the same time: port A in clear (its
// marker is captured on its uplink's ISP side), port B encrypted through the tunnel (the marker is never
// on any ISP link; the server sees the gateway), port C blocked (nothing leaves). Then: the tunnel gone
// and the helper SIGKILLed never turn B into clear; a move to another network switches an
// untrusted-only rule on with no packet in clear; a rule with an expiry goes on time and says so.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HelperSocketClient } from '../../native-helper/src/api/client.ts';
import type { EventEnvelope, Network, RuleView } from '../../native-helper/src/api/schema.ts';
import { output, run } from '../../native-helper/src/mechanism/exec.ts';
import { Lab, type LabUplink } from '../lab/lab.ts';
import { REPO, SWITCHYARD, type RunningHelper, startHelper } from '../lab/switchyard-helper.ts';
import { MarkerCaptures } from './marker-captures.ts';
import { eventually } from './support.ts';

const isRoot = process.getuid?.() === 0;
const FIXTURES = join(REPO, 'test/integration/fixtures');
const [A, B, C, D, E] = [7101, 7102, 7103, 7104, 7105];
const TUNNEL = 'sy-tun0';

describe.skipIf(!isRoot)('encryption rules in the lab (real packets)', () => {
  let lab: Lab;
  let helper: RunningHelper;
  let api: HelperSocketClient;
  let gateway: ChildProcess;
  let work: string;
  let wlan: LabUplink;
  let captures: MarkerCaptures;
  const events: EventEnvelope[] = [];

  const sy = async (...args: string[]) => (await run([SWITCHYARD, ...args])).stdout.trim();

  /** One round of the client as the app: per family, protocol and port, what the server saw. */
  async function round(marker: string, ports = [A, B, C]): Promise<Record<string, string>> {
    const out = await lab.exec('desktop', [
      SWITCHYARD,
      'run',
      '--app',
      'rprobe',
      '--socket',
      helper.socket,
      '--',
      'python3',
      join(FIXTURES, 'port-client.py'),
      lab.servers.v4,
      lab.servers.v6,
      ports.join(','),
      marker,
    ]);
    return JSON.parse(out.trim().split('\n').pop()!) as Record<string, string>;
  }

  const seenOnIsps = (text: string) => captures.count(text);

  let gatewayPublicKey = '';
  async function addTunnel(): Promise<void> {
    await helper.cli([
      'tunnel',
      'add',
      TUNNEL,
      '--gateway',
      `${lab.servers.gatewayV4}:51901`,
      '--gateway-key',
      gatewayPublicKey,
      '--private-key-file',
      join(work, 'desktop.key'),
      '--address',
      '10.78.0.2/24',
      '--address',
      'fd78::2/64',
    ]);
    await eventually(
      'the tunnel up',
      async () => JSON.parse((await helper.cli(['tunnels', '--json'])).stdout) as { state: string }[],
      (t) => t[0]?.state === 'up',
      30_000,
    );
  }

  const addRule = (rule: object) => api.call('rules.add', { rule } as never) as Promise<RuleView>;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'sy-rules-'));
    lab = await Lab.up({ prefix: Lab.randomPrefix() });
    wlan = lab.uplinks.find((u) => u.ifname === 'wlan0')!;
    helper = await startHelper(lab);
    api = await helper.client();
    api.onEvent((e) => events.push(e));
    await api.subscribe(['rule.expired', 'networks.changed', 'rules.changed']);
    await lab.spawn('internet', [
      'python3',
      join(FIXTURES, 'port-echo.py'),
      [A, B, C, D, E].join(','),
      lab.servers.v4,
      lab.servers.v6,
    ]);
    captures = await MarkerCaptures.start(lab, work);

    // The gateway in the lab's gateway namespace, and the tunnel to it.
    const desktopKey = await sy('tunnel', 'keygen');
    writeFileSync(join(work, 'desktop.key'), desktopKey, { mode: 0o600 });
    const desktopPub = (await run([SWITCHYARD, 'tunnel', 'pubkey'], { input: desktopKey })).stdout.trim();
    const gatewayKey = await sy('tunnel', 'keygen');
    const gatewayPub = (await run([SWITCHYARD, 'tunnel', 'pubkey'], { input: gatewayKey })).stdout.trim();
    await helper.cli([
      'app',
      'add',
      '--name',
      'Rules probe',
      '--id',
      'rprobe',
      '--cmdline',
      'port-client\\.py',
    ]);
    const tag = JSON.parse((await helper.cli(['app', 'show', 'rprobe', '--json'])).stdout).tag as number;
    writeFileSync(
      join(work, 'gw.json'),
      JSON.stringify({
        instance: lab.prefix,
        privateKey: gatewayKey,
        listenPort: 51901,
        address: ['10.78.0.1/24', 'fd78::1/64'],
        uplinks: [{ name: 'internet', interface: 'eth0' }],
        peers: [
          {
            name: 'desktop',
            publicKey: desktopPub,
            addresses: ['10.78.0.2/32', 'fd78::2/128'],
            apps: [{ tag, allow: ['0.0.0.0/0', '::/0'] }],
            // The same app in key group "work": its own session, when a rule names the group.
            groups: [{ name: 'work', apps: [{ tag, allow: ['0.0.0.0/0', '::/0'] }] }],
          },
        ],
      }),
      { mode: 0o600 },
    );
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
        `/run/switchyard/${lab.prefix}-gwr.sock`,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let gwLog = '';
    gateway.stderr!.on('data', (d) => (gwLog += d));
    await eventually(
      'the gateway listening',
      async () => gwLog,
      (l) => l.includes('listening on UDP'),
      30_000,
    );
    gatewayPublicKey = gatewayPub;
    await addTunnel();
    // The app keeps to wlan0 (uplink a), and is held when wlan0 is gone.
    await helper.cli(['egress', 'set', 'rprobe', 'wlan0', '--kill-switch']);
    // The captures see the app's clear traffic before any rule exists (they may take a moment to start).
    await eventually(
      'the captures seeing the app',
      async () => {
        await round('WARM', [A]);
        return seenOnIsps(`WARM-v4-tcp-${A}`);
      },
      (n) => n > 0,
      20_000,
    );
  });

  afterAll(async () => {
    if (process.env.SY_DEBUG) console.log(helper?.log());
    api?.close();
    if (gateway && gateway.exitCode === null) {
      const done = new Promise((r) => gateway.once('exit', r));
      gateway.kill('SIGTERM');
      await done;
    }
    await helper?.stop();
    await lab?.down();
    rmSync(work, { recursive: true, force: true });
  });

  it('one app at once: port A in clear, B encrypted, C blocked (IPv4 and IPv6, TCP and UDP)', async () => {
    const clear = await addRule({
      match: { subject: { kind: 'app', app: 'rprobe' }, ports: [{ from: A, to: A }] },
      action: { type: 'clear' },
      name: 'A in clear',
    });
    const enc = await addRule({
      match: { subject: { kind: 'app', app: 'rprobe' }, ports: [{ from: B, to: B }] },
      action: { type: 'encrypt', tunnel: TUNNEL },
      name: 'B encrypted',
    });
    await addRule({
      match: { subject: { kind: 'app', app: 'rprobe' }, ports: [{ from: C, to: C }] },
      action: { type: 'block' },
      name: 'C blocked',
    });
    const r = await round('MARK1');
    const wlanV4 = wlan.v4.address;
    expect(r[`v4-tcp-${A}`]).toBe(wlanV4);
    expect(r[`v4-udp-${A}`]).toBe(wlanV4);
    expect(r[`v4-tcp-${B}`]).toBe(lab.servers.gatewayV4);
    expect(r[`v4-udp-${B}`]).toBe(lab.servers.gatewayV4);
    expect(r[`v4-tcp-${C}`]).toMatch(/^ERR/);
    expect(r[`v4-udp-${C}`]).toMatch(/^ERR/);
    expect(r[`v6-tcp-${A}`]).toBe(wlan.v6.address);
    expect(r[`v6-udp-${A}`]).toBe(wlan.v6.address);
    expect(r[`v6-tcp-${B}`]).toBe(lab.servers.gatewayV6);
    expect(r[`v6-udp-${B}`]).toBe(lab.servers.gatewayV6);
    expect(r[`v6-tcp-${C}`]).toMatch(/^ERR/);
    expect(r[`v6-udp-${C}`]).toMatch(/^ERR/);

    expect(await seenOnIsps(`MARK1-v4-tcp-${A}`)).toBeGreaterThan(0);
    expect(await seenOnIsps(`MARK1-v4-udp-${A}`)).toBeGreaterThan(0);
    expect(await seenOnIsps(`MARK1-v6-tcp-${A}`)).toBeGreaterThan(0);
    expect(await seenOnIsps(`MARK1-v6-udp-${A}`)).toBeGreaterThan(0);
    for (const p of [B, C])
      expect((await seenOnIsps(`MARK1-v4-tcp-${p}`)) + (await seenOnIsps(`MARK1-v6-tcp-${p}`))).toBe(0);
    expect(await seenOnIsps(`-udp-${B}`)).toBe(0);
    expect(await seenOnIsps(`-udp-${C}`)).toBe(0);

    // Each rule counted what it matched.
    const list = await eventually(
      'the rules counting',
      async () => (await api.call('rules.list', {})).rules,
      (rs) =>
        rs.find((x) => x.id === enc.id)!.stats.flows >= 2 &&
        rs.find((x) => x.id === clear.id)!.stats.bytes > 0,
      8_000,
    );
    expect(list.map((x) => x.layer)).toEqual(['user', 'user', 'user']);

    const why = await api.call('explain', {
      app: 'rprobe',
      destination: `${lab.servers.v4}:${B}`,
      protocol: 'tcp',
    });
    expect(why.rule).toMatchObject({ id: enc.id, layer: 'user', action: 'encrypt', tunnel: TUNNEL });
    expect(why.egress).toBe(TUNNEL);
  });

  it('with the tunnel gone, port B is blocked, not sent in clear', async () => {
    await helper.cli(['tunnel', 'rm', TUNNEL]);
    const r = await round('MARK2', [A, B]);
    expect(r[`v4-tcp-${A}`]).toBe(wlan.v4.address);
    expect(r[`v4-tcp-${B}`]).toMatch(/^ERR/);
    expect(r[`v4-udp-${B}`]).toMatch(/^ERR/);
    expect(r[`v6-tcp-${B}`]).toMatch(/^ERR/);
    expect(r[`v6-udp-${B}`]).toMatch(/^ERR/);
    expect(await seenOnIsps(`MARK2-v4-tcp-${B}`)).toBe(0);
    expect(await seenOnIsps(`MARK2-v4-udp-${B}`)).toBe(0);
    expect(await seenOnIsps(`MARK2-v6-tcp-${B}`)).toBe(0);
    expect(await seenOnIsps(`MARK2-v6-udp-${B}`)).toBe(0);
    const rules = (await api.call('rules.list', {})).rules;
    expect(rules.find((x) => x.name === 'B encrypted')!.problem).toMatch(/blocked/);
    // The helper's status says so too, as `switchyard status` and the tray show it.
    const status = await api.call('status.get', {});
    expect(status.health).toBe('degraded');
    expect(status.problems.join('\n')).toMatch(/rule "B encrypted" .*no tunnel sy-tun0/);
  });

  it('with the helper SIGKILLed, port B still never leaves in clear', async () => {
    await addTunnel(); // back up: B is encrypted again, then the helper dies
    await eventually(
      'the rule no longer a problem',
      async () => (await api.call('status.get', {})).problems.join('\n'),
      (p) => !p.includes('B encrypted'),
      5_000,
    );
    const ok = await round('MARK3a', [B]);
    expect(ok[`v4-tcp-${B}`]).toBe(lab.servers.gatewayV4);
    expect(ok[`v6-tcp-${B}`]).toBe(lab.servers.gatewayV6);
    const { cgroupRoot } = await api.call('status.get', {});
    api.close();
    await helper.kill();
    // A process of the app's (in its cgroup, as an adopted one would be) tries B with nobody steering.
    const procs = join(cgroupRoot, 'app-rprobe', 'cgroup.procs');
    const out = await output([
      'sh',
      '-c',
      `echo $$ > ${procs} && exec ip netns exec ${lab.nsName('desktop')} "$@"`,
      'sh',
      'python3',
      join(FIXTURES, 'port-client.py'),
      lab.servers.v4,
      lab.servers.v6,
      String(B),
      'MARK3',
    ]);
    const r = JSON.parse(out.trim().split('\n').pop()!) as Record<string, string>;
    expect(r[`v4-tcp-${B}`]).not.toBe(wlan.v4.address);
    expect(r[`v4-udp-${B}`]).not.toBe(wlan.v4.address);
    expect(r[`v6-tcp-${B}`]).not.toBe(wlan.v6.address);
    expect(r[`v6-udp-${B}`]).not.toBe(wlan.v6.address);
    expect(await seenOnIsps('MARK3-')).toBe(0);
    await helper.start();
    api = await helper.client();
    api.onEvent((e) => events.push(e));
    await api.subscribe(['rule.expired', 'networks.changed', 'rules.changed']);
  });

  it('a rule with an expiry disappears on time, and the event log says so', async () => {
    const r = await addRule({
      match: { subject: { kind: 'app', app: 'rprobe' }, ports: [{ from: D, to: D }] },
      action: { type: 'block' },
      name: 'short-lived',
      expiresIn: 2,
    });
    expect(r.expiresAt).not.toBeNull();
    const gone = await eventually(
      'the expiry',
      async () => events.find((e) => e.event === 'rule.expired' && (e.data as { id: string }).id === r.id),
      (e) => e !== undefined,
      10_000,
    );
    expect(Date.parse(gone!.time)).toBeGreaterThanOrEqual(Date.parse(r.expiresAt!));
    expect(Date.parse(gone!.time) - Date.parse(r.expiresAt!)).toBeLessThan(3000);
    expect((await api.call('rules.list', {})).rules.some((x) => x.id === r.id)).toBe(false);
    const history = await api.call('events.history', { limit: 500 });
    expect(history.some((e) => e.event === 'rule.expired' && (e.data as { id: string }).id === r.id)).toBe(
      true,
    );
  });

  it('moving to another network switches an untrusted-only rule on, with no packet in clear', async () => {
    // Port D is encrypted on untrusted networks only; wlan0's network is trusted.
    const nets = await eventually(
      "wlan0's network identified",
      async () => (await api.call('networks.list', {})).networks as Network[],
      (ns) => ns.some((n) => n.interfaces.includes('wlan0') && n.fingerprint.gatewayMac !== null),
      15_000,
    );
    const home = nets.find((n) => n.interfaces.includes('wlan0'))!;
    await api.call('networks.setTrust', { id: home.id, trust: 'trusted' });
    await addRule({
      match: { subject: { kind: 'app', app: 'rprobe' }, ports: [{ from: D, to: D }], network: 'untrusted' },
      action: { type: 'encrypt', tunnel: TUNNEL },
      name: 'D off home',
    });
    const before = await round('MARK4', [D]);
    expect(before[`v4-udp-${D}`]).toBe(wlan.v4.address); // trusted: clear

    const sender = spawn(
      'ip',
      [
        'netns',
        'exec',
        lab.nsName('desktop'),
        SWITCHYARD,
        'run',
        '--app',
        'rprobe',
        '--socket',
        helper.socket,
        '--',
        'python3',
        join(FIXTURES, 'port-client.py'),
        lab.servers.v4,
        lab.servers.v6,
        String(D),
        'MOVE',
        '--stream',
      ],
      { stdio: ['ignore', 'pipe', 'ignore'] },
    );
    let replies = '';
    sender.stdout!.on('data', (d) => (replies += d));
    try {
      await eventually(
        'the stream flowing in clear',
        async () => replies,
        (x) => x.includes(wlan.v4.address),
        10_000,
      );
      const { downAt: moved, upAt } = await lab.moveUplink(wlan.id);
      // In force: the server sees the stream come from the gateway.
      await eventually(
        'the stream through the tunnel',
        async () =>
          replies
            .split('\n')
            .filter((l) => Number(l.split(' ')[0]) >= moved && l.includes(lab.servers.gatewayV4)),
        (l) => l.length > 0,
        20_000,
      );
      const first = replies
        .split('\n')
        .find((l) => Number(l.split(' ')[0]) >= moved && l.includes(lab.servers.gatewayV4))!;
      const inForceMs = Number(first.split(' ')[0]) - upAt;
      await new Promise((r) => setTimeout(r, 1000));
      // Every MOVE datagram stamped after the old network was gone and seen on an ISP link left in clear.
      const sent = captures.sentTimes('MOVE');
      // The captures saw the stream in clear before the move (else counting after it proves nothing).
      expect(sent.filter((t) => t < moved).length).toBeGreaterThan(0);
      const leaked = sent.filter((t) => t >= moved).length;
      console.log(
        `network move: the rule in force ${inForceMs} ms after the uplink came up on the new network ` +
          `(it was down ${upAt - moved} ms); ${leaked} packet(s) in clear in between`,
      );
      expect(leaked).toBe(0);
      const nets2 = (await api.call('networks.list', {})).networks as Network[];
      const now = nets2.find((n) => n.interfaces.includes('wlan0'));
      expect(now?.id).not.toBe(home.id);
      expect(now?.effectiveTrust).toBe('untrusted');
    } finally {
      sender.kill('SIGTERM');
    }
  });

  it("a rule with a key group sends its flows in that group's own session", async () => {
    await addRule({
      match: { subject: { kind: 'app', app: 'rprobe' }, ports: [{ from: E, to: E }] },
      action: { type: 'encrypt', tunnel: TUNNEL, keyGroup: 'work' },
      name: 'E in group work',
    });
    const groups = await eventually(
      'the work session',
      async () => (await api.call('tunnels.list', {}))[0]?.groups ?? [],
      (g) => g.some((x) => x.name === 'work' && x.established),
      20_000,
    );
    expect(groups.map((g) => g.name)).toEqual(['work']);
    const r = await round('MARK5', [E]);
    expect(r[`v4-tcp-${E}`]).toBe(lab.servers.gatewayV4);
    expect(r[`v6-udp-${E}`]).toBe(lab.servers.gatewayV6);
    expect(await seenOnIsps('MARK5-')).toBe(0);
    // The gateway accounted them to the peer's "work" slot, not its default session.
    const stats = JSON.parse(
      (
        await run([
          SWITCHYARD,
          'gateway',
          'stats',
          '--json',
          '--socket',
          `/run/switchyard/${lab.prefix}-gwr.sock`,
        ])
      ).stdout,
    ) as { accounting: { peer: string; packets: number }[] };
    expect(stats.accounting.find((a) => a.peer === 'desktop/work')?.packets).toBeGreaterThan(0);
    expect((await helper.cli(['tunnels'])).stdout).toMatch(/work \(epoch \d+\)/);
    // The desktop counts the group's bytes apart from the tunnel's: they grew with the round, both ways.
    const before = groups.find((g) => g.name === 'work')!;
    const [after] = await api.call('tunnels.list', {});
    const work = after!.groups!.find((g) => g.name === 'work')!;
    expect(work.txBytes!).toBeGreaterThan(before.txBytes ?? 0);
    expect(work.rxBytes!).toBeGreaterThan(before.rxBytes ?? 0);
    expect(after!.txBytes!).toBeGreaterThanOrEqual(work.txBytes!); // the tunnel's sum holds the group's
  });

  it("the gateway's peers change at run time from the CLI, and the config file keeps them", async () => {
    const gw = ['--socket', `/run/switchyard/${lab.prefix}-gwr.sock`];
    const extraKey = (
      await run([SWITCHYARD, 'tunnel', 'pubkey'], { input: await sy('tunnel', 'keygen') })
    ).stdout.trim();
    const added = await run(
      [
        SWITCHYARD,
        'gateway',
        'peer',
        'add',
        'extra',
        '--key',
        extraKey,
        '--address',
        '10.78.0.9/32',
        '--app',
        '5=198.18.0.0/15',
        ...gw,
      ],
      { allowFailure: true },
    );
    expect(added.stderr).toBe('');
    expect(added.stdout).toMatch(/peer extra set \(1 app\)/);
    const listed = JSON.parse((await run([SWITCHYARD, 'gateway', 'peers', '--json', ...gw])).stdout) as {
      name: string;
    }[];
    expect(listed.map((p) => p.name)).toEqual(['desktop', 'extra']);
    const saved = JSON.parse(readFileSync(join(work, 'gw.json'), 'utf8')) as { peers: { name: string }[] };
    expect(saved.peers.map((p) => p.name)).toEqual(['desktop', 'extra']);
    const oddKey = (
      await run([SWITCHYARD, 'tunnel', 'pubkey'], { input: await sy('tunnel', 'keygen') })
    ).stdout.trim();
    const bad = await run(
      [
        SWITCHYARD,
        'gateway',
        'peer',
        'add',
        'odd',
        '--key',
        oddKey,
        '--address',
        '10.78.0.10/32',
        '--app',
        '5@nosuch',
        ...gw,
      ],
      { allowFailure: true },
    );
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/no uplink named nosuch/);
    const removed = await run([SWITCHYARD, 'gateway', 'peer', 'rm', 'extra', ...gw]);
    expect(removed.stdout).toMatch(/peer extra removed; 0 sessions ended/);
    expect(
      (await run([SWITCHYARD, 'gateway', 'peer', 'rm', 'extra', ...gw], { allowFailure: true })).stderr,
    ).toMatch(/no peer named extra/);
  });

  it('revoking key group work at the gateway: both ends audit it, and the desktop holds its flows', async () => {
    const gw = ['--socket', `/run/switchyard/${lab.prefix}-gwr.sock`];
    const revoked = await run([SWITCHYARD, 'gateway', 'group', 'revoke', 'desktop', 'work', ...gw]);
    expect(revoked.stdout).toMatch(/work/);
    // --json prints JSON Lines, one entry each.
    const gwAudit = (await run([SWITCHYARD, 'audit', '--json', ...gw])).stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { action: string; message: string });
    expect(gwAudit.find((e) => e.action === 'keygroup.revoked')?.message).toMatch(
      /key group work of peer desktop revoked: 1 session ended/,
    );
    // The desktop sees its work session go unanswered once its flows get no replies (WireGuard's
    // 15 s rule), and says so in its audit trail and on the rule; the flows stay out of the clear.
    const work = await eventually(
      'the desktop noticing the revocation',
      async () => {
        await round('MARK6', [E]).catch(() => ({}));
        return (await api.call('tunnels.list', {}))[0]!.groups!.find((g) => g.name === 'work')!;
      },
      (g) => !g.established,
      60_000,
    );
    expect(work.established).toBe(false);
    const audit = await api.call('audit.list', {});
    const down = audit.find((e) => e.action === 'keygroup.down');
    expect(down?.message).toMatch(/tunnel sy-tun0: key group work has no session \(no handshake response/);
    expect(await seenOnIsps('MARK6-')).toBe(0);
  });
});
