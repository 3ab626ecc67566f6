// DNS through the system resolver, with real packets in the lab (issue 17, docs/dns.md). The desktop's
// resolv.conf names the resolved-like stub at 127.0.0.53, which forwards to the default uplink's
// (enp3s0's) ISP resolver; every ISP resolver logs each question it gets. Each lookup asks a name of
// its own, so a resolver's log says exactly who saw which query. Per-link servers are told the way
// a desktop without resolved does: the user's settings (`switchyard dns set`).
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../native-helper/src/mechanism/exec.ts';
import { Lab } from '../lab/lab.ts';
import { REPO, SWITCHYARD, type RunningHelper, startHelper } from '../lab/switchyard-helper.ts';
import { NODE, eventually } from './support.ts';

const isRoot = process.getuid?.() === 0;
const ASK = `${REPO}/test/integration/fixtures/dns-ask.ts`;
const ASK_MATCHER = 'fixtures/dns-ask\\.ts --managed';

interface Answer {
  rcode?: number;
  answers?: { type: number; text?: string; address?: string }[];
  error?: string;
}

describe.skipIf(!isRoot)('DNS through the system resolver (real packets in the lab)', () => {
  let lab: Lab;
  let helper: RunningHelper;

  const fresh = () => `q${randomBytes(5).toString('hex')}.lab`;

  /** One lookup of name through the stub (or --server), as the app or as an unmanaged process. */
  async function ask(
    name: string,
    opts: { app?: string; tcp?: boolean; server?: string; type?: string; timeoutMs?: number } = {},
  ): Promise<Answer> {
    const argv = [
      ...NODE,
      ASK,
      ...(opts.app ? ['--managed'] : []),
      ...(opts.tcp ? ['--tcp'] : []),
      ...(opts.server ? [`--server=${opts.server}`] : []),
      `--type=${opts.type ?? 'TXT'}`,
      `--timeout=${opts.timeoutMs ?? 3000}`,
      name,
    ];
    const full = opts.app
      ? [SWITCHYARD, 'run', '--app', opts.app, '--socket', helper.socket, '--', ...argv]
      : argv;
    const out = await lab.exec('desktop', full);
    return JSON.parse(out.trim().split('\n').pop()!) as Answer;
  }

  /** Which ISP resolvers saw a question for name, and how. */
  async function seenBy(name: string): Promise<string[]> {
    const seen: string[] = [];
    for (const u of lab.uplinks)
      for (const q of await lab.resolverQueries(u.id))
        if (q.name === name) seen.push(`${q.resolver} ${q.client} ${q.transport}`);
    return seen.sort();
  }

  beforeAll(async () => {
    lab = await Lab.up({ prefix: Lab.randomPrefix() });
    await lab.setSystemResolver('stub');
    helper = await startHelper(lab);
    await helper.cli(['app', 'add', '--name', 'Asker', '--id', 'asker', '--cmdline', ASK_MATCHER]);
    for (const u of lab.uplinks) await helper.cli(['dns', 'set', u.ifname, u.v4.gateway, u.v6.gateway]);
  });

  afterAll(async () => {
    await helper?.stop();
    await lab?.down();
  });

  it('shows each egress its servers, from the settings, and refuses what is not an address', async () => {
    const shown = JSON.parse((await helper.cli(['dns', 'show', '--json'])).stdout) as {
      egresses: { egress: string; servers: string[]; source: string; redirected: boolean }[];
    };
    expect(shown.egresses.find((e) => e.egress === 'wlan0')).toMatchObject({
      servers: ['198.18.1.1', 'fd5a:1::1'],
      source: 'settings',
      redirected: true,
    });
    const bad = await helper.cli(['dns', 'set', 'wlan0', 'resolver.example'], { allowFailure: true });
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('"resolver.example" is not an IPv4 or IPv6 address');
    const loop = await helper.cli(['dns', 'set', 'wlan0', '127.0.0.53'], { allowFailure: true });
    expect(loop.code).not.toBe(0);
    expect(loop.stderr).toContain('loopback address');
    expect(loop.stderr).not.toContain('dns.set');
  });

  it("an unmanaged process's lookups go to the default uplink's resolver (the stub's), UDP and TCP", async () => {
    for (const tcp of [false, true]) {
      const name = fresh();
      const r = await ask(name, { tcp });
      expect(r.rcode).toBe(3); // NXDOMAIN from a resolver: answered
      expect(await seenBy(name)).toEqual([`isp-b 198.18.2.2 ${tcp ? 'tcp' : 'udp'}`]);
    }
  });

  it("an app pinned to wlan0 resolves through wlan0's ISP resolver only, UDP and TCP", async () => {
    await helper.cli(['egress', 'set', 'asker', 'wlan0']);
    for (const tcp of [false, true]) {
      const name = fresh();
      expect((await ask(name, { app: 'asker', tcp })).rcode).toBe(3);
      expect(await seenBy(name)).toEqual([`isp-a 198.18.1.2 ${tcp ? 'tcp' : 'udp'}`]);
      const who = await ask('whoami.lab', { app: 'asker', tcp });
      expect(who.answers).toEqual([{ type: 16, text: 'resolver=isp-a client=198.18.1.2' }]);
    }
    // The rest of the machine still asks the default uplink's resolver.
    expect((await ask('whoami.lab')).answers).toEqual([
      { type: 16, text: 'resolver=isp-b client=198.18.2.2' },
    ]);
  });

  it("an app asking its egress's resolver over IPv6 (UDP and TCP) leaves by wlan0", async () => {
    for (const tcp of [false, true]) {
      const name = fresh();
      expect((await ask(name, { app: 'asker', tcp, server: 'fd5a:1::1' })).rcode).toBe(3);
      expect(await seenBy(name)).toEqual([`isp-a fd5a:1::2 ${tcp ? 'tcp' : 'udp'}`]);
    }
  });

  it('moves the lookups with the app: set to enp3s0, they go to its resolver', async () => {
    await helper.cli(['egress', 'set', 'asker', 'enp3s0']);
    const name = fresh();
    expect((await ask(name, { app: 'asker' })).rcode).toBe(3);
    expect(await seenBy(name)).toEqual(['isp-b 198.18.2.2 udp']);
  });

  it("an egress with IPv6 servers only: the app's stub lookups reach them through the helper's forwarder", async () => {
    await helper.cli(['dns', 'set', 'wlan0', 'fd5a:1::1']);
    await helper.cli(['egress', 'set', 'asker', 'wlan0']);
    try {
      for (const tcp of [false, true]) {
        const name = fresh();
        expect((await ask(name, { app: 'asker', tcp })).rcode).toBe(3);
        // The forwarder asks as the app asked (UDP or TCP), from a socket with the app's mark: out of
        // wlan0, over IPv6.
        expect(await seenBy(name)).toEqual([`isp-a fd5a:1::2 ${tcp ? 'tcp' : 'udp'}`]);
      }
      expect((await ask('whoami.lab', { app: 'asker', tcp: true })).answers).toEqual([
        { type: 16, text: 'resolver=isp-a client=fd5a:1::2' },
      ]);
      // An answer too big for UDP comes back truncated; the forwarder asks again over TCP and hands the
      // app the whole answer over UDP.
      const big = `big-${randomBytes(4).toString('hex')}.lab`;
      expect((await ask(big, { app: 'asker' })).answers).toHaveLength(6);
      expect(await seenBy(big)).toEqual(['isp-a fd5a:1::2 tcp', 'isp-a fd5a:1::2 udp']);
      // Unmanaged lookups still go through the stub to the default uplink.
      const name = fresh();
      await ask(name);
      expect(await seenBy(name)).toEqual(['isp-b 198.18.2.2 udp']);
    } finally {
      await helper.cli(['dns', 'set', 'wlan0', '198.18.1.1', 'fd5a:1::1']);
    }
  });

  it('a kill-switched app with wlan0 down gets no answer and sends no query anywhere', async () => {
    await helper.cli(['egress', 'set', 'asker', 'wlan0', '--kill-switch']);
    // Every DNS packet arriving at any ISP, whatever its source.
    for (const u of lab.uplinks)
      await run(['ip', 'netns', 'exec', u.ispNs, 'nft', '-f', '-'], {
        input: `table inet sydns { counter queries {}
          chain watch { type filter hook prerouting priority -300; meta l4proto { udp, tcp } th dport 53 counter name queries; }
        }
`,
      });
    const queries = async () => {
      let n = 0;
      for (const u of lab.uplinks) {
        const j = JSON.parse(
          await lab.exec(u.ispRole, ['nft', '-j', 'list', 'counter', 'inet', 'sydns', 'queries']),
        ) as { nftables: { counter?: { packets: number } }[] };
        n += j.nftables.find((x) => x.counter)!.counter!.packets;
      }
      return n;
    };
    await lab.setUplink('wlan0', 'down');
    try {
      await eventually(
        'the helper to see wlan0 down',
        async () => JSON.parse((await helper.cli(['apps', '--json'])).stdout),
        (l: { id: string; egress: { state: string } }[]) =>
          l.find((a) => a.id === 'asker')?.egress.state === 'killed',
      );
      const before = await queries();
      const names: string[] = [];
      for (const tcp of [false, true]) {
        const name = fresh();
        names.push(name);
        const r = await ask(name, { app: 'asker', tcp, timeoutMs: 2000 });
        expect(r.error).toBeTruthy(); // no answer at all
        expect(r.answers).toBeUndefined();
      }
      for (const name of names) expect(await seenBy(name)).toEqual([]);
      expect(await queries()).toBe(before);
      // An unmanaged process still resolves, through the stub and enp3s0.
      expect((await ask('whoami.lab')).answers).toEqual([
        { type: 16, text: 'resolver=isp-b client=198.18.2.2' },
      ]);
    } finally {
      await lab.setUplink('wlan0', 'up');
    }
    await eventually(
      "the app's lookups back on wlan0",
      () => ask('whoami.lab', { app: 'asker', timeoutMs: 1500 }),
      (r) => r.answers?.[0]?.text === 'resolver=isp-a client=198.18.1.2',
    );
  });
});
