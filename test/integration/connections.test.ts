// The connection history (issue 17) with the real helper and real packets: what the helper lists for
// an app is checked against what a server in the lab's internet counted for the same connections, the
// egress against the address the server saw, and the history's bound under 10,000 short connections.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Connection, ConnectionList } from '../../native-helper/src/api/schema.ts';
import { Lab } from '../lab/lab.ts';
import { REPO, SWITCHYARD, type RunningHelper, startHelper } from '../lab/switchyard-helper.ts';
import { NODE, eventually } from './support.ts';

const isRoot = process.getuid?.() === 0;
const SERVER = join(REPO, 'test/integration/fixtures/conn-server.ts');
const CLIENT = join(REPO, 'test/integration/fixtures/conn-client.ts');
const PORT = 18181;
/** IP + TCP header bytes per packet: at least (no options), at most (a full 40 bytes of options). */
const HEADERS = { 4: { min: 40, max: 80 }, 6: { min: 60, max: 100 } } as const;

interface ServerLine {
  client: string;
  clientPort: number;
  received: number;
  sent: number;
}

/** The helper's node process (the launcher may exec or fork it): its resident memory in bytes. */
function helperRss(rootPid: number): number {
  const children = new Map<number, number[]>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const ppid = Number(/^PPid:\s+(\d+)/m.exec(readFileSync(`/proc/${d}/status`, 'utf8'))![1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(d)]);
    } catch {
      // gone meanwhile
    }
  }
  let best = 0;
  const walk = (pid: number) => {
    try {
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      if (/^Name:\s+node/m.test(status))
        best = Math.max(best, Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? 0) * 1024);
    } catch {
      return;
    }
    for (const c of children.get(pid) ?? []) walk(c);
  };
  walk(rootPid);
  return best;
}

describe.skipIf(!isRoot)('connection history in the lab (real helper, real conntrack)', () => {
  let lab: Lab;
  let helper: RunningHelper;
  const served: ServerLine[] = [];

  const list = async (app?: string, limit = 1000): Promise<ConnectionList> =>
    JSON.parse(
      (await helper.cli(['connections', ...(app ? ['--app', app] : []), '--limit', String(limit), '--json']))
        .stdout,
    ) as ConnectionList;

  /** One run of the client as the app "conn", through `switchyard run`. */
  const client = async (args: string[]) =>
    JSON.parse(
      await lab.exec(
        'desktop',
        [SWITCHYARD, 'run', '--app', 'conn', '--socket', helper.socket, '--', ...NODE, CLIENT, '--managed']
          .concat(['--port', String(PORT)])
          .concat(args),
        { timeoutMs: 600_000 },
      ),
    ) as { ports: { host: string; localPort: number }[]; failed: number };

  beforeAll(async () => {
    lab = await Lab.up({ prefix: Lab.randomPrefix() });
    helper = await startHelper(lab);
    await helper.cli([
      'app',
      'add',
      '--name',
      'Conn',
      '--id',
      'conn',
      '--cmdline',
      'fixtures/conn-client\\.ts --managed',
    ]);
    const server = await lab.spawn('internet', [
      ...NODE,
      SERVER,
      '--host',
      lab.servers.v4,
      '--host',
      lab.servers.v6,
      '--port',
      String(PORT),
    ]);
    let partial = '';
    let listening = false;
    server.stdout!.setEncoding('utf8').on('data', (d: string) => {
      const lines = (partial + d).split('\n');
      partial = lines.pop() ?? '';
      for (const l of lines) {
        const j = JSON.parse(l) as ServerLine | { listening: string[] };
        if ('listening' in j) listening = true;
        else if (served.length < 100) served.push(j);
      }
    });
    await eventually('the byte-counting server to listen', async () => listening, Boolean);
  }, 180_000);

  afterAll(async () => {
    await helper?.stop();
    await lab?.down();
  });

  /** The connection the server logged for a client port. */
  const conn = (history: Connection[], line: ServerLine) =>
    history.find((c) => c.sourcePort === line.clientPort && c.source === line.client);

  it("lists an app's connections with the egress they left through and the bytes the server counted", async () => {
    const wifi = lab.uplink('wlan0');
    const ether = lab.uplink('enp3s0');
    await helper.cli(['egress', 'set', 'conn', 'wlan0']);
    const first = await client([
      '--to',
      lab.servers.v4,
      '--to',
      lab.servers.v6,
      '--send',
      '30000',
      '--reply',
      '120000',
    ]);
    await helper.cli(['egress', 'set', 'conn', 'enp3s0']);
    const second = await client(['--to', lab.servers.v4, '--send', '5000', '--reply', '7000']);
    expect(first.failed + second.failed).toBe(0);
    const ports = [...first.ports, ...second.ports].map((p) => p.localPort);
    const lines = await eventually(
      'the server to log the three connections',
      async () => served.filter((s) => ports.includes(s.clientPort)),
      (l) => l.length === 3,
    );

    const history = (
      await eventually(
        'the history to count the three connections',
        () => list('conn'),
        (h) => lines.every((l) => conn(h.connections, l)?.rxBytes != null),
      )
    ).connections;
    const expected = [
      { egress: 'wlan0', source: wifi.v4.address, family: 4 as const },
      { egress: 'wlan0', source: wifi.v6.address, family: 6 as const },
      { egress: 'enp3s0', source: ether.v4.address, family: 4 as const },
    ];
    for (const want of expected) {
      // The server saw the connection from the egress's own address: the path really was that one.
      const line = lines.find((l) => l.client === want.source)!;
      expect(line, `the server saw a connection from ${want.source}`).toBeDefined();
      const c = conn(history, line)!;
      expect(c).toMatchObject({
        app: 'conn',
        family: want.family,
        protocol: 'tcp',
        destination: want.family === 4 ? lab.servers.v4 : lab.servers.v6,
        port: PORT,
        egress: want.egress,
        name: null, // no lookup seen: never guessed
        decidedBy: { kind: 'egress-choice', name: 'egress choice' },
      });
      // Bytes at the IP layer: the server's payload plus each packet's headers.
      const h = HEADERS[want.family];
      expect(c.txBytes!).toBeGreaterThanOrEqual(line.received + c.txPackets! * h.min);
      expect(c.txBytes!).toBeLessThanOrEqual(line.received + c.txPackets! * h.max);
      expect(c.rxBytes!).toBeGreaterThanOrEqual(line.sent + c.rxPackets! * h.min);
      expect(c.rxBytes!).toBeLessThanOrEqual(line.sent + c.rxPackets! * h.max);
      expect(c.state).not.toBe('open'); // both sides closed it
      expect(Date.parse(c.endedAt!)).toBeGreaterThanOrEqual(Date.parse(c.startedAt));
    }

    // The kernel forgets them (as it would after TIME_WAIT): the final counts are the ones listed.
    await lab.exec('desktop', ['conntrack', '-D', '-p', 'tcp', '--dport', String(PORT)], {}).catch(() => '');
    const after = await eventually(
      'the history to see the entries go',
      () => list('conn'),
      (h) => lines.every((l) => conn(h.connections, l)?.state === 'gone'),
    );
    for (const l of lines) {
      const before = conn(history, l)!;
      const gone = conn(after.connections, l)!;
      expect([gone.txBytes, gone.rxBytes]).toEqual([before.txBytes, before.rxBytes]);
    }

    // The CLI's table names them in words.
    const text = (await helper.cli(['connections', '--app', 'Conn'])).stdout;
    expect(text).toMatch(/app\s+destination\s+port\s+egress\s+bytes ↑\/↓\s+when\s+rule/i);
    expect(text).toContain(`${PORT}/tcp`);
    expect(text).toContain('egress choice');
  }, 300_000);

  it("shows a lab app's real connection on the egress it was given", async () => {
    await helper.cli(['egress', 'set', 'lab-chat', 'wlan0']);
    const chat = await lab.startApp('lab-chat', {
      via: [SWITCHYARD, 'run', '--app', 'lab-chat', '--socket', helper.socket, '--'],
      args: ['--interval-ms', '300'],
    });
    try {
      const log = await eventually(
        'lab-chat to be answered through wlan0',
        () => chat.readLog(),
        (l) => l.filter((x) => x.ok).length >= 3,
      );
      // The lab's name resolves to either family: the server saw one of wlan0's own addresses.
      const wifi = lab.uplink('wlan0');
      const saw = log.filter((x) => x.ok).at(-1)!.serverSawAddress;
      expect([wifi.v4.address, wifi.v6.address]).toContain(saw);
      const h = await eventually(
        'lab-chat in the history with counted bytes',
        () => list('lab-chat'),
        (x) => x.connections.some((c) => c.port === lab.servers.udpEchoPort && (c.rxBytes ?? 0) > 0),
      );
      const c = h.connections.find((x) => x.port === lab.servers.udpEchoPort && x.source === saw)!;
      expect(c).toMatchObject({ app: 'lab-chat', protocol: 'udp', egress: 'wlan0', source: saw });
      expect([lab.servers.v4, lab.servers.v6]).toContain(c.destination);
      // One datagram each way per answered message, each at least its 28 bytes of headers.
      expect(c.txPackets!).toBeGreaterThanOrEqual(3);
      expect(c.rxBytes!).toBeGreaterThanOrEqual(c.rxPackets! * 28);
    } finally {
      await chat.stop();
    }
  }, 120_000);

  it('stays within its bound under 10,000 short connections', async () => {
    await helper.cli(['egress', 'set', 'conn', 'wlan0']);
    const pid = helper.pid!;
    const warm = await client([
      '--to',
      lab.servers.v4,
      '--send',
      '64',
      '--reply',
      '64',
      '--count',
      '2000',
      '--concurrency',
      '16',
    ]);
    expect(warm.failed).toBe(0);
    await list('conn');
    const rssWarm = helperRss(pid);
    const flood = await client([
      '--to',
      lab.servers.v4,
      '--send',
      '64',
      '--reply',
      '64',
      '--count',
      '8000',
      '--concurrency',
      '16',
    ]);
    expect(flood.failed).toBe(0);
    // The newest are kept: the history has caught up once a connection of the last batch is in it.
    const last = flood.ports.at(-1)!.localPort;
    const h = await eventually(
      'the history to catch up with the flood',
      () => list('conn'),
      (x) => x.connections.some((c) => c.sourcePort === last),
      120_000,
    );
    expect(h.connections).toHaveLength(200); // the per-app cap, out of 10,000+ of its connections
    const all = await list(undefined, 1000);
    expect(all.connections.length).toBeLessThanOrEqual(1000);
    expect(all.tracking).toBe(true);
    const rssAfter = helperRss(pid);
    expect(rssWarm).toBeGreaterThan(0);
    // 8,000 more connections (and ~50,000 conntrack events) keep the helper's memory about where it
    // was: a history that grew with them would hold 8,000 entries more.
    expect(rssAfter - rssWarm).toBeLessThan(48 * 1024 * 1024);
  }, 600_000);
});
