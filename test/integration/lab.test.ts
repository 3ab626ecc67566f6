// The lab itself: it comes up and goes away cleanly, every uplink really reaches the internet (and
// the servers see which one), uplinks go down and up, tbf limits, and the sample apps make traffic.
import { ensureBpffs } from '../../native-helper/src/mechanism/bpf/bpffs.ts';
import { mkdir, readdir, readFile, readlink, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { output, run } from '../../native-helper/src/mechanism/exec.ts';
import { cgroupRoot, labNamespaces, mountPoints } from '../lab/cleanup.ts';
import { Lab, type LabUplink, type TrafficRecord } from '../lab/lab.ts';
import { isAlive, LAB_DIR, labArgv } from '../lab/processes.ts';
import { encodeQuery, parseResponse, TYPE } from '../lab/servers/dns-wire.ts';
import { stateDir } from '../lab/state.ts';

const isRoot = process.getuid?.() === 0;
if (!isRoot) {
  console.warn(
    '\n!!! SKIPPING test/integration/lab.test.ts: the lab needs root (network namespaces). Run as root. !!!\n',
  );
}

type Family = 4 | 6;
const FAMILIES: Family[] = [4, 6];

function addressOf(u: LabUplink, family: Family): string {
  return family === 4 ? u.v4.address : u.v6.address;
}

function serverUrl(lab: Lab, family: Family, path = '/'): string {
  return family === 4 ? `http://${lab.servers.v4}${path}` : `http://[${lab.servers.v6}]${path}`;
}

/** HTTP through one uplink (SO_BINDTODEVICE), returning the client address the server saw. */
async function httpVia(lab: Lab, ifname: string, family: Family): Promise<string> {
  const body = await lab.exec('desktop', [
    'curl',
    '-sS',
    '-m',
    '5',
    `-${family}`,
    '--interface',
    ifname,
    serverUrl(lab, family),
  ]);
  return (JSON.parse(body) as { clientAddress: string }).clientAddress;
}

/** Send one UDP datagram bound to a device and return the reply, in and out as base64 (DNS is binary). */
async function udpVia(
  lab: Lab,
  ifname: string,
  family: Family,
  port: number,
  payload: Buffer,
): Promise<Buffer> {
  const server = family === 4 ? lab.servers.v4 : `[${lab.servers.v6}]`;
  const script = `printf %s "$1" | base64 -d | socat -T 3 - UDP${family}:${server}:${port},so-bindtodevice=${ifname} | base64 -w0`;
  const out = await lab.exec('desktop', ['sh', '-c', script, 'udp', payload.toString('base64')]);
  return Buffer.from(out.trim(), 'base64');
}

async function dnsVia(lab: Lab, ifname: string, family: Family, name: string, type: number) {
  const id = 0x1234;
  const reply = parseResponse(
    await udpVia(lab, ifname, family, lab.servers.dnsPort, encodeQuery(id, name, type)),
  );
  expect(reply.id).toBe(id);
  return reply;
}

async function netnsInodes(lab: Lab): Promise<Set<string>> {
  const inodes = new Set<string>();
  for (const ns of await labNamespaces(lab.prefix))
    inodes.add(`net:[${(await stat(join('/run/netns', ns))).ino}]`);
  return inodes;
}

async function pidsInNetns(inodes: Set<string>): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const ns = await readlink(`/proc/${entry}/ns/net`).catch(() => null);
    if (ns && inodes.has(ns)) pids.push(Number(entry));
  }
  return pids;
}

async function hostLinkNames(): Promise<string[]> {
  return (JSON.parse(await output(['ip', '-j', 'link', 'show'])) as Array<{ ifname: string }>)
    .map((l) => l.ifname)
    .sort();
}

async function waitFor<T>(what: string, probe: () => Promise<T | null>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await probe();
    if (value !== null) return value;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`Timed out waiting for ${what}.`);
}

async function iperfMbit(lab: Lab, ifname: string, reverse: boolean): Promise<number> {
  const argv = [
    'iperf3',
    '-c',
    lab.servers.v4,
    '-p',
    String(lab.servers.iperf3Port),
    '--bind-dev',
    ifname,
    '-t',
    '2',
    '-J',
  ];
  let error = '';
  // iperf3 -s serves one test at a time and may still be finishing the previous one.
  for (let attempt = 0; attempt < 10; attempt++) {
    const result = await lab.run('desktop', reverse ? [...argv, '-R'] : argv, {
      allowFailure: true,
      timeoutMs: 30_000,
    });
    const report = JSON.parse(result.stdout || '{}') as {
      error?: string;
      end?: { sum_received?: { bits_per_second: number } };
    };
    const bps = report.end?.sum_received?.bits_per_second;
    if (result.code === 0 && bps !== undefined) return bps / 1e6;
    error = report.error ?? result.stderr;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`iperf3 through ${ifname} failed: ${error}`);
}

describe.skipIf(!isRoot)('lab lifecycle', () => {
  it('up then down leaves no namespace, interface, process, mount, cgroup, bpf pin or state behind', async () => {
    const hostLinksBefore = await hostLinkNames();
    const lab = await Lab.up({ prefix: Lab.randomPrefix(), startApps: true });
    const prefix = lab.prefix;
    expect((await labNamespaces(prefix)).sort()).toEqual(
      ['desktop', 'gateway', 'internet', 'isp-a', 'isp-b'].map((r) => `${prefix}-${r}`).sort(),
    );
    expect(await hostLinkNames()).toEqual(hostLinksBefore); // veths are created inside namespaces only

    // Leftovers of a helper instance named like the lab: a cgroup with a process in it, and a bpf pin dir.
    const cgRoot = await cgroupRoot();
    expect(cgRoot).not.toBeNull();
    const appCgroup = join(cgRoot!, `switchyard.${prefix}`, 'app-1');
    await mkdir(appCgroup, { recursive: true });
    const strayPid = Number((await output(['sh', '-c', 'sleep 600 >/dev/null 2>&1 & echo $!'])).trim());
    await writeFile(join(appCgroup, 'cgroup.procs'), String(strayPid));
    ensureBpffs(); // as the helper would, so down's pin clean-up is exercised on a fresh machine too
    const bpffs = (await mountPoints('bpf'))[0];
    const pinDir = bpffs ? join(bpffs, `switchyard-${prefix}`) : null;
    if (pinDir) await mkdir(pinDir);

    const sleeper = await lab.spawn('gateway', ['sleep', '600']);

    const inodes = await netnsInodes(lab);
    expect(inodes.size).toBe(5);
    const labPids = await pidsInNetns(inodes);
    expect(labPids.length).toBeGreaterThanOrEqual(5); // servers, iperf3 and three apps
    const recorded = (await lab.status()).processes;
    expect(recorded.map((p) => p.name).sort()).toEqual([
      'iperf3',
      'lab-browser',
      'lab-chat',
      'lab-servers',
      'lab-stub',
      'lab-updater',
      'resolver-a',
      'resolver-b',
      'resolver-gw',
      'sleep',
    ]);
    expect(recorded.every((p) => p.running)).toBe(true);

    const report = await lab.down();
    expect(report.namespaces).toHaveLength(5);
    // A process may exit on its own while its parent is being killed (tsx's esbuild child, an app whose
    // launcher went first), so the report need not list every one; but none may survive, and the two that
    // can only end by `down` (the long sleep and the stray process in the helper's cgroup) are in it.
    expect(report.killed).toEqual(expect.arrayContaining([sleeper.pid, strayPid]));
    expect(recorded.filter((p) => isAlive(p.pid))).toEqual([]);
    expect(recorded.find((p) => p.name === 'sleep')?.pid).toBe(sleeper.pid);

    expect(await labNamespaces(prefix)).toEqual([]);
    expect((await readdir('/etc/netns').catch(() => [])).filter((d) => d.startsWith(`${prefix}-`))).toEqual(
      [],
    );
    expect(await readFile('/proc/self/mountinfo', 'utf8')).not.toContain(prefix);
    expect(await hostLinkNames()).toEqual(hostLinksBefore);
    expect(await pidsInNetns(inodes)).toEqual([]);
    expect(labPids.filter((pid) => isAlive(pid))).toEqual([]);
    expect(isAlive(strayPid)).toBe(false);
    await expect(stat(join(cgRoot!, `switchyard.${prefix}`))).rejects.toThrow(/ENOENT/);
    if (pinDir) await expect(stat(pinDir)).rejects.toThrow(/ENOENT/);
    await expect(stat(stateDir(prefix))).rejects.toThrow(/ENOENT/);

    // Idempotent, and fine when nothing exists.
    const again = await lab.down();
    expect(again).toEqual({ killed: [], namespaces: [], cgroups: [], bpfPins: [], stateDirRemoved: false });
  });

  it('has a CLI that brings a lab up, shows it, and takes it down', async () => {
    const prefix = Lab.randomPrefix();
    const cli = (...args: string[]) =>
      run(labArgv(['{node}', join(LAB_DIR, 'cli.ts'), ...args, '--prefix', prefix]), { allowFailure: true });
    try {
      const up = await cli('up', '--uplinks', '3');
      expect(up.code).toBe(0);
      expect(up.stdout).toContain(`Lab "${prefix}" is up`);
      const status = await cli('status');
      expect(status.code).toBe(0);
      for (const text of [
        'wlan0',
        'enp3s0',
        'wwan0',
        '198.18.3.2/24',
        'fd5a:2::2/64',
        'running  server lab-servers',
        `${prefix}-gateway`,
      ]) {
        expect(status.stdout).toContain(text);
      }
      const again = await cli('up');
      expect(again.code).toBe(1);
      expect(again.stderr.trim()).toMatch(new RegExp(`^lab: A lab named "${prefix}" already exists`));
    } finally {
      expect((await cli('down')).stdout).toContain(`Lab "${prefix}" is down: 6 namespaces`);
    }
    expect(await labNamespaces(prefix)).toEqual([]);
    const downAgain = await cli('down');
    expect([downAgain.code, downAgain.stdout.trim()]).toEqual([0, `Nothing to remove for lab "${prefix}".`]);
    const statusDown = await cli('status');
    expect([statusDown.code, statusDown.stderr.trim()]).toEqual([
      1,
      `lab: No lab named "${prefix}" is up; start one with "lab up --prefix ${prefix}".`,
    ]);
  });

  it.each(['throw', 'sigterm', 'sigint', 'exit'])(
    'cleans up when the owning process dies (%s)',
    async (how) => {
      const prefix = Lab.randomPrefix();
      const fixture = join(LAB_DIR, 'testing', 'up-then-die.ts');
      const result = await run(labArgv(['{node}', fixture, prefix, how]), {
        allowFailure: true,
        timeoutMs: 60_000,
      });
      expect(result.stdout).toContain(`up ${prefix}`); // it really was up
      expect(await labNamespaces(prefix)).toEqual([]);
      await expect(stat(stateDir(prefix))).rejects.toThrow(/ENOENT/);
      await expect(stat(join('/etc/netns', `${prefix}-desktop`))).rejects.toThrow(/ENOENT/);
    },
  );

  it('removes a lab whose owner was killed outright with `down --stale`', async () => {
    const prefix = Lab.randomPrefix();
    const result = await run(
      labArgv(['{node}', join(LAB_DIR, 'testing', 'up-then-die.ts'), prefix, 'sigkill']),
      {
        allowFailure: true,
        timeoutMs: 60_000,
      },
    );
    expect(result.stdout).toContain(`up ${prefix}`);
    expect(await labNamespaces(prefix)).toHaveLength(4); // nothing could clean up after SIGKILL
    const stale = await run(labArgv(['{node}', join(LAB_DIR, 'cli.ts'), 'down', '--stale']));
    expect(stale.stdout).toContain(prefix);
    expect(await labNamespaces(prefix)).toEqual([]);
    await expect(stat(stateDir(prefix))).rejects.toThrow(/ENOENT/);
  });
});

describe.skipIf(!isRoot)('lab network', () => {
  let lab: Lab;

  beforeAll(async () => {
    lab = await Lab.up({ prefix: Lab.randomPrefix(), uplinks: 2 });
  });
  afterAll(async () => {
    await lab?.down();
  });

  it('describes wlan0 and enp3s0 with Ethernet preferred by metric', async () => {
    expect(lab.uplinks.map((u) => u.ifname)).toEqual(['wlan0', 'enp3s0']);
    const routes = JSON.parse(await lab.exec('desktop', ['ip', '-j', 'route', 'show', 'default'])) as Array<{
      dev: string;
      metric: number;
    }>;
    expect(routes.map((r) => [r.dev, r.metric]).sort()).toEqual([
      ['enp3s0', 100],
      ['wlan0', 600],
    ]);
  });

  it('reaches the servers over HTTP, UDP and DNS on IPv4 and IPv6 through each uplink, and the servers see that uplink', async () => {
    for (const u of lab.uplinks) {
      for (const family of FAMILIES) {
        const mine = addressOf(u, family);
        expect(await httpVia(lab, u.ifname, family)).toBe(mine);

        const echo = JSON.parse(
          (await udpVia(lab, u.ifname, family, lab.servers.udpEchoPort, Buffer.from('ping'))).toString(),
        ) as {
          clientAddress: string;
          echo: string;
        };
        expect(echo).toMatchObject({ clientAddress: mine, echo: 'ping' });

        const whoami = await dnsVia(lab, u.ifname, family, 'whoami.lab', TYPE.TXT);
        expect(whoami.answers).toEqual([{ type: TYPE.TXT, text: mine }]);
        const server = await dnsVia(lab, u.ifname, family, 'server.lab', family === 4 ? TYPE.A : TYPE.AAAA);
        expect(server.answers).toEqual([
          { type: server.answers[0]?.type, address: family === 4 ? lab.servers.v4 : lab.servers.v6 },
        ]);

        const gateway = family === 4 ? lab.servers.gatewayV4 : lab.servers.gatewayV6;
        await lab.exec('desktop', ['ping', `-${family}`, '-c', '1', '-W', '3', '-I', u.ifname, gateway]);
      }
    }
  });

  it('answers unknown names with NXDOMAIN and whoami A only for an IPv4 asker', async () => {
    const wlan0 = lab.uplink('a');
    expect((await dnsVia(lab, 'wlan0', 4, 'nope.lab', TYPE.A)).rcode).toBe(3);
    expect((await dnsVia(lab, 'wlan0', 4, 'whoami.lab', TYPE.A)).answers).toEqual([
      { type: TYPE.A, address: wlan0.v4.address },
    ]);
    expect((await dnsVia(lab, 'wlan0', 4, 'whoami.lab', TYPE.AAAA)).answers).toEqual([]);
    expect((await dnsVia(lab, 'wlan0', 6, 'gateway.lab', TYPE.AAAA)).answers).toEqual([
      { type: TYPE.AAAA, address: lab.servers.gatewayV6 },
    ]);
  });

  it('uses the lab DNS through /etc/netns resolv.conf and the preferred (Ethernet) uplink by default', async () => {
    const hosts = await lab.exec('desktop', ['getent', 'ahosts', 'server.lab']);
    expect(hosts).toContain(lab.servers.v4);
    expect(hosts).toContain(lab.servers.v6);
    const seen = JSON.parse(
      await lab.exec('desktop', ['curl', '-sS', '-m', '5', '-4', 'http://server.lab/']),
    ) as { clientAddress: string };
    expect(seen.clientAddress).toBe(lab.uplink('enp3s0').v4.address);
  });

  it('drops packets that claim one uplink’s address but leave through another (ISP source validation)', async () => {
    const spoofed = await lab.run(
      'desktop',
      ['curl', '-sS', '-m', '2', '--interface', lab.uplink('a').v4.address, serverUrl(lab, 4)],
      {
        allowFailure: true,
      },
    );
    expect(spoofed.code).not.toBe(0); // the main table sends it out of enp3s0, whose ISP drops it
  });

  it('takes an uplink down (unreachable, traffic moves to the other) and brings it back', async () => {
    const ethernet = lab.uplink('enp3s0');
    const wifi = lab.uplink('wlan0');
    await lab.setUplink(ethernet.id, 'down');
    try {
      const viaDown = await lab.run(
        'desktop',
        ['curl', '-sS', '-m', '2', '-4', '--interface', ethernet.ifname, serverUrl(lab, 4)],
        { allowFailure: true },
      );
      expect(viaDown.code).not.toBe(0);
      const fallback = JSON.parse(
        await lab.exec('desktop', ['curl', '-sS', '-m', '5', '-6', serverUrl(lab, 6)]),
      ) as { clientAddress: string };
      expect(fallback.clientAddress).toBe(wifi.v6.address);
      expect((await lab.status()).uplinks.find((u) => u.id === ethernet.id)).toMatchObject({
        admin: 'down',
        operstate: 'DOWN',
      });
    } finally {
      await lab.setUplink(ethernet.id, 'up');
    }
    for (const family of FAMILIES)
      expect(await httpVia(lab, ethernet.ifname, family)).toBe(addressOf(ethernet, family));
    const preferred = JSON.parse(
      await lab.exec('desktop', ['curl', '-sS', '-m', '5', '-6', serverUrl(lab, 6)]),
    ) as { clientAddress: string };
    expect(preferred.clientAddress).toBe(ethernet.v6.address);
  });

  it('limits an uplink with tbf in both directions and lifts the limit', async () => {
    const rate = 10;
    const wifi = lab.uplink('wlan0');
    const unlimited = await iperfMbit(lab, wifi.ifname, false);
    expect(unlimited).toBeGreaterThan(2 * rate); // otherwise the limit below would prove nothing
    await lab.rateLimit(wifi.id, rate);
    try {
      const up = await iperfMbit(lab, wifi.ifname, false);
      const down = await iperfMbit(lab, wifi.ifname, true);
      expect(up).toBeGreaterThan(0);
      expect(up).toBeLessThan(2 * rate);
      expect(down).toBeGreaterThan(0);
      expect(down).toBeLessThan(2 * rate);
      expect((await lab.status()).uplinks.find((u) => u.id === wifi.id)?.rateMbit).toBe(rate);
    } finally {
      await lab.rateLimit(wifi.id, null);
    }
    expect(await lab.exec('desktop', ['tc', 'qdisc', 'show', 'dev', wifi.ifname])).not.toContain('tbf');
    expect(await iperfMbit(lab, wifi.ifname, false)).toBeGreaterThan(2 * rate);
  });

  it('adds an uplink to the running lab', async () => {
    const added = await lab.addUplink();
    expect(added).toMatchObject({ id: 'c', ifname: 'wwan0', ispNs: `${lab.prefix}-isp-c` });
    for (const family of FAMILIES)
      expect(await httpVia(lab, added.ifname, family)).toBe(addressOf(added, family));
    const attached = await Lab.attach(lab.prefix);
    expect(attached.uplinks.map((u) => u.ifname)).toEqual(['wlan0', 'enp3s0', 'wwan0']);
  });

  it('writes desktop entries with names and SVG icons for the sample apps', async () => {
    for (const name of lab.appNames) {
      const entry = await readFile(join(lab.dataDir, 'applications', `${name}.desktop`), 'utf8');
      expect(entry).toMatch(/^Name=Lab /m);
      expect(entry).toContain(`Icon=${name}`);
      expect(entry).toMatch(new RegExp(`^Exec=.*apps/${name}\\.ts$`, 'm'));
      expect(
        await readFile(join(lab.dataDir, 'icons/hicolor/scalable/apps', `${name}.svg`), 'utf8'),
      ).toContain('<svg');
    }
  });

  it('runs the sample apps, each recognisable by its command line, with successful traffic out of the preferred uplink', async () => {
    const ethernet = lab.uplink('enp3s0');
    const ethernetAddresses = [ethernet.v4.address, ethernet.v6.address];
    const apps = [
      await lab.startApp('lab-browser'),
      await lab.startApp('lab-chat'),
      await lab.startApp('lab-updater', { args: ['--interval-ms', '1000'] }),
      // Through a launcher prefix, as `switchyard run … --` will be used.
      await lab.startApp('lab-chat', { via: ['env', 'LAB_LAUNCHED=1'] }),
    ];
    for (const app of apps) {
      const cmdline = (await readFile(`/proc/${app.pid}/cmdline`, 'utf8')).split('\0').join(' ');
      expect(cmdline).toContain(`apps/${app.name}.ts`);
    }
    const expectedKinds: Record<string, TrafficRecord['kind'][]> = {
      'lab-browser': ['http'],
      'lab-chat': ['udp'],
      'lab-updater': ['dns', 'http'],
    };
    for (const app of apps) {
      const records = await waitFor(`${app.name} traffic`, async () => {
        const log = await app.readLog();
        const okKinds = expectedKinds[app.name]!.every(
          (k) => log.filter((r) => r.kind === k && r.ok).length >= 2,
        );
        return okKinds ? log : null;
      });
      for (const r of records.filter((x) => x.ok)) expect(ethernetAddresses).toContain(r.serverSawAddress);
    }
    // The browser keeps one connection: every answer came on the same client port.
    const browserPorts = new Set((await apps[0]!.readLog()).filter((r) => r.ok).map((r) => r.clientPort));
    expect(browserPorts.size).toBe(1);
    for (const app of apps) await app.stop();
    expect(apps.filter((a) => isAlive(a.pid))).toEqual([]);
  });
});
