// Policy routing against the real kernel: two namespaces joined by two veth "uplinks", the helper's
// rules/routes/nft applied in the host-side namespace, and real marked traffic (ping -m sets SO_MARK)
// counted on the peer side to prove which uplink carried it — and that nothing leaks.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run, type RunResult } from '../../native-helper/src/mechanism/exec.ts';
import {
  readInterfaces,
  readRoutes,
  readRules,
  startTicks,
  watch,
} from '../../native-helper/src/mechanism/netlink/index.ts';
import { applyScript, listTable, readCounters } from '../../native-helper/src/mechanism/nft/index.ts';
import { compile } from '../../native-helper/src/policy/compile.ts';
import { evaluate, explain } from '../../native-helper/src/policy/evaluate.ts';
import { kernelRouteGet } from '../../native-helper/src/mechanism/netlink/route-get.ts';
import {
  addApp,
  emptyPolicy,
  ensureEgressTables,
  type PolicyDocument,
} from '../../native-helper/src/policy/model.ts';
import {
  hex,
  isOurPriority,
  isOurTable,
  layoutFor,
  markFor,
} from '../../native-helper/src/layout/kernel-layout.ts';
import { Reconciler, ReconcileError } from '../../native-helper/src/reconcile/reconciler.ts';
import { readSysctls, writeSysctls } from '../../native-helper/src/reconcile/sysctl.ts';
import type { DesiredState } from '../../native-helper/src/reconcile/types.ts';

const id = randomBytes(3).toString('hex');
const H = `syt${id}-h`; // where the helper works
const P = `syt${id}-p`; // the uplinks' far side and the "internet" address
const layout = layoutFor(`syt${id}`);
const V4 = '198.18.200.1';
const V6 = 'fd5a:200::1';
let work = '';
let reconciler: Reconciler;
let policy: PolicyDocument;

const M = {
  ks: markFor(layout, 1), // [up2] + kill switch
  fo: markFor(layout, 2), // [up2, up1], no kill switch
  bl: markFor(layout, 3), // block
  df: markFor(layout, 4), // default
};

const ip = (ns: string, ...args: string[]) => run(['ip', '-n', ns, ...args]);
const inNs = (ns: string, argv: string[], allowFailure = false): Promise<RunResult> =>
  run(['ip', 'netns', 'exec', ns, ...argv], { allowFailure });

async function deleteNamespaces(): Promise<void> {
  for (const ns of [H, P]) await run(['ip', 'netns', 'del', ns], { allowFailure: true });
}
const onSignal = () => void deleteNamespaces().finally(() => process.exit(130));

async function ping(mark: number | null, dst: string, count = 2): Promise<boolean> {
  const argv = [
    'ping',
    '-n',
    '-q',
    '-c',
    String(count),
    '-i',
    '0.2',
    '-W',
    '1',
    ...(mark === null ? [] : ['-m', String(mark)]),
    dst,
  ];
  return (await inNs(H, argv, true)).code === 0;
}

/** Echo requests the far side received per uplink and family. */
async function echoes(): Promise<Record<string, number>> {
  const c = await readCounters('sytpeer', { netns: P });
  return Object.fromEntries([...c].map(([k, v]) => [k, v.packets]));
}

async function routeGet(dst: string, mark: number | null) {
  const r = await run(
    ['ip', '-n', H, '-j', 'route', 'get', dst, ...(mark === null ? [] : ['mark', hex(mark)])],
    { allowFailure: true },
  );
  if (r.code !== 0) return { ok: false as const, error: r.stderr };
  const [x] = JSON.parse(r.stdout) as { dev: string; prefsrc: string }[];
  return { ok: true as const, dev: x!.dev, src: x!.prefsrc };
}

async function desiredNow(doc = policy): Promise<DesiredState> {
  return compile(doc, await readInterfaces({ netns: H }), layout);
}

/** Addresses and main-table defaults of an uplink, as NetworkManager would restore them after a link flap. */
async function restoreUplink(dev: 'up1' | 'up2'): Promise<void> {
  const n = dev === 'up1' ? 1 : 2;
  await ip(H, '-6', 'addr', 'replace', `fd5a:${n}::2/64`, 'dev', dev, 'nodad');
  await ip(H, 'route', 'replace', 'default', 'via', `198.18.${n}.1`, 'dev', dev, 'metric', String(n * 100));
  await ip(
    H,
    '-6',
    'route',
    'replace',
    'default',
    'via',
    `fd5a:${n}::1`,
    'dev',
    dev,
    'metric',
    String(n * 100),
  );
}

async function outsideState(): Promise<string> {
  const rules = [...(await readRules(4, { netns: H })), ...(await readRules(6, { netns: H }))].filter(
    (r) => !isOurPriority(layout, r.priority),
  );
  const routes = [...(await readRoutes(4, { netns: H })), ...(await readRoutes(6, { netns: H }))].filter(
    (r) => !isOurTable(layout, r.table) && r.table !== 255,
  );
  return JSON.stringify({ rules, routes });
}

beforeAll(async () => {
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  work = await mkdtemp(join(tmpdir(), 'syt-routing-'));
  try {
    for (const ns of [H, P]) {
      await run(['ip', 'netns', 'add', ns]);
      await ip(ns, 'link', 'set', 'lo', 'up');
    }
    for (const n of [1, 2]) {
      await ip(H, 'link', 'add', 'name', `up${n}`, 'type', 'veth', 'peer', 'name', `pe${n}`, 'netns', P);
      await ip(H, 'addr', 'add', `198.18.${n}.2/24`, 'dev', `up${n}`);
      await ip(P, 'addr', 'add', `198.18.${n}.1/24`, 'dev', `pe${n}`);
      await ip(P, '-6', 'addr', 'add', `fd5a:${n}::1/64`, 'dev', `pe${n}`, 'nodad');
      await ip(H, 'link', 'set', `up${n}`, 'up');
      await ip(P, 'link', 'set', `pe${n}`, 'up');
      await restoreUplink(`up${n}` as 'up1' | 'up2');
    }
    await ip(P, 'addr', 'add', `${V4}/32`, 'dev', 'lo');
    await ip(P, '-6', 'addr', 'add', `${V6}/128`, 'dev', 'lo');
    // Strict reverse-path filtering, as on a hardened desktop: replies via the non-preferred uplink
    // must still pass.
    await inNs(H, [
      'sh',
      '-c',
      'for i in all default up1 up2; do echo 1 > /proc/sys/net/ipv4/conf/$i/rp_filter; done',
    ]);
    await applyScript(
      `table inet sytpeer {
        counter pe1_v4 {}
        counter pe2_v4 {}
        counter pe1_v6 {}
        counter pe2_v6 {}
        chain input {
          type filter hook input priority filter; policy accept;
          iifname "pe1" icmp type echo-request counter name pe1_v4
          iifname "pe2" icmp type echo-request counter name pe2_v4
          iifname "pe1" icmpv6 type echo-request counter name pe1_v6
          iifname "pe2" icmpv6 type echo-request counter name pe2_v6
        }
      }\n`,
      { netns: P },
    );
    const common = { icon: null, source: 'manual' as const, matchers: { exe: ['/bin/true'] } };
    let doc = emptyPolicy();
    doc = addApp(doc, {
      ...common,
      id: 'ks',
      name: 'Kill switched',
      choice: { mode: 'ordered', egresses: ['up2'], killSwitch: true },
    });
    doc = addApp(doc, {
      ...common,
      id: 'fo',
      name: 'Fail over',
      choice: { mode: 'ordered', egresses: ['up2', 'up1'], killSwitch: false },
    });
    doc = addApp(doc, { ...common, id: 'bl', name: 'Blocked', choice: { mode: 'block' } });
    doc = addApp(doc, { ...common, id: 'df', name: 'Default' });
    policy = ensureEgressTables(doc);
    reconciler = new Reconciler({ layout, netns: H, stateFile: join(work, 'state.json') });
    // Both uplinks answer before we start.
    expect(await ping(null, '198.18.2.1', 1)).toBe(true);
  } catch (err) {
    await deleteNamespaces();
    throw err;
  }
});

afterAll(async () => {
  await deleteNamespaces();
  if (work) await rm(work, { recursive: true, force: true });
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
});

describe('policy routing in a namespace', () => {
  let mainBefore = '';
  let sysctlsBefore: Record<string, string | null> = {};

  it('applies from empty and the kernel routes each mark through the right uplink and source', async () => {
    mainBefore = await outsideState();
    const desired = await desiredNow();
    sysctlsBefore = await readSysctls(Object.keys(desired.sysctls), { netns: H });
    expect(sysctlsBefore['net/ipv4/conf/up2/src_valid_mark']).toBe('0');
    const res = await reconciler.apply(desired);
    expect(res.operations.length).toBeGreaterThan(10);

    expect(await routeGet(V4, M.ks)).toEqual({ ok: true, dev: 'up2', src: '198.18.2.2' });
    expect(await routeGet(V6, M.ks)).toEqual({ ok: true, dev: 'up2', src: 'fd5a:2::2' });
    expect(await routeGet(V4, M.fo)).toEqual({ ok: true, dev: 'up2', src: '198.18.2.2' });
    expect(await routeGet(V4, M.df)).toEqual({ ok: true, dev: 'up1', src: '198.18.1.2' });
    expect(await routeGet(V4, null)).toEqual({ ok: true, dev: 'up1', src: '198.18.1.2' });
    expect(await routeGet(V6, null)).toEqual({ ok: true, dev: 'up1', src: 'fd5a:1::2' });
    const blocked = await routeGet(V4, M.bl);
    expect(blocked.ok).toBe(false);
    expect((await routeGet(V6, M.bl)).ok).toBe(false);
    // Nothing outside our priorities and tables changed.
    expect(await outsideState()).toBe(mainBefore);
    expect(
      (await readSysctls(['net/ipv4/conf/up2/src_valid_mark'], { netns: H }))[
        'net/ipv4/conf/up2/src_valid_mark'
      ],
    ).toBe('1');
  });

  it('real marked traffic leaves via its uplink, passes strict rp_filter, and is counted per app', async () => {
    const before = await echoes();
    expect(await ping(M.ks, V4, 3)).toBe(true);
    expect(await ping(M.ks, V6, 3)).toBe(true);
    expect(await ping(null, V4, 2)).toBe(true);
    const after = await echoes();
    expect(after.pe2_v4! - before.pe2_v4!).toBe(3);
    expect(after.pe2_v6! - before.pe2_v6!).toBe(3);
    expect(after.pe1_v4! - before.pe1_v4!).toBe(2); // the unmarked pings
    expect(after.pe1_v6).toBe(before.pe1_v6);
    const counters = await readCounters(layout.nftTable, { netns: H });
    expect(counters.get('tx_1')!.packets).toBeGreaterThanOrEqual(6);
    expect(counters.get('rx_1')!.packets).toBeGreaterThanOrEqual(6);
    expect(counters.get('tx_4')!.packets).toBe(0);
    // The control: without src_valid_mark, strict rp_filter drops the replies that arrive on up2.
    await writeSysctls({ 'net/ipv4/conf/up2/src_valid_mark': '0' }, { netns: H });
    expect(await ping(M.ks, V4, 1)).toBe(false);
    await writeSysctls({ 'net/ipv4/conf/up2/src_valid_mark': '1' }, { netns: H });
    expect(await ping(M.ks, V4, 1)).toBe(true);
    // A blocked app sends nothing at all.
    const beforeBlocked = await echoes();
    expect(await ping(M.bl, V4, 1)).toBe(false);
    expect(await echoes()).toEqual(beforeBlocked);
  });

  it('re-applying changes nothing, and a restarted helper finds no duplicates', async () => {
    const desired = await desiredNow();
    const tableBefore = await listTable(layout.nftTable, { netns: H });
    expect((await reconciler.apply(desired)).operations).toEqual([]);
    const restarted = new Reconciler({ layout, netns: H, stateFile: join(work, 'state.json') });
    expect(await restarted.plan(desired)).toEqual([]);
    expect((await restarted.apply(desired)).operations).toEqual([]);
    const ours = (await readRules(4, { netns: H })).filter((r) => isOurPriority(layout, r.priority));
    expect(ours).toHaveLength(desired.rules.filter((r) => r.family === 4).length);
    // The nft table was not replaced (its counters would have been rewritten).
    expect(await listTable(layout.nftTable, { netns: H })).toBe(tableBefore);
  });

  it('a helper SIGKILLed right after applying leaves the kernel enforcing its policy (fail closed)', async () => {
    await reconciler.teardown();
    expect(await routeGet(V4, M.ks)).toMatchObject({ ok: true, dev: 'up1' }); // unmanaged again
    const script = join(work, 'killed-helper.mts');
    const src = (m: string) =>
      JSON.stringify(new URL(`../../native-helper/src/${m}`, import.meta.url).pathname);
    await writeFile(
      script,
      `import { readInterfaces } from ${src('mechanism/netlink/read.ts')};
import { compile } from ${src('policy/compile.ts')};
import { layoutFor } from ${src('layout/kernel-layout.ts')};
import { Reconciler } from ${src('reconcile/reconciler.ts')};
const policy = JSON.parse(process.argv[2]);
const layout = layoutFor(${JSON.stringify(layout.instance)});
const r = new Reconciler({ layout, netns: ${JSON.stringify(H)}, stateFile: ${JSON.stringify(join(work, 'state.json'))} });
await r.apply(compile(policy, await readInterfaces({ netns: ${JSON.stringify(H)} }), layout));
process.kill(process.pid, 'SIGKILL');
`,
    );
    const child = await run(['node', '--import', 'tsx', script, JSON.stringify(policy)], {
      allowFailure: true,
    });
    expect(child.stderr).toBe('');
    expect(child.code).toBeNull(); // killed by the signal, not exited
    expect(await routeGet(V4, M.ks)).toEqual({ ok: true, dev: 'up2', src: '198.18.2.2' });
    expect((await routeGet(V4, M.bl)).ok).toBe(false);
    // A new helper adopts the leftovers without adding anything.
    expect(await reconciler.plan(await desiredNow())).toEqual([]);
    expect((await reconciler.apply(await desiredNow())).operations).toEqual([]);
  });

  it('explains with the kernel: egress and source for a routed app, block for a blocked one', async () => {
    const ifs = await readInterfaces({ netns: H });
    const ctx = {
      layout,
      paused: false,
      override: null,
      routeGet: (a: string, m: number, p: 'tcp' | 'udp', port: number) =>
        kernelRouteGet(a, m, p, port, { netns: H }),
    };
    const app = (tag: number) => policy.apps.find((a) => a.tag === tag)!;
    const dest = { host: V4, address: V4, port: 443, protocol: 'tcp' as const };
    const e = await explain(app(1), dest, ifs, ctx);
    expect(e).toMatchObject({ verdict: 'egress', egress: 'up2', sourceAddress: '198.18.2.2' });
    expect(e.steps.some((s) => s.includes('kernel routes it out of up2'))).toBe(true);
    expect((await explain(app(3), dest, ifs, ctx)).verdict).toBe('block');
    expect(await explain(app(4), { ...dest, address: V6, host: V6 }, ifs, ctx)).toMatchObject({
      verdict: 'default',
      egress: 'up1',
      sourceAddress: 'fd5a:1::2',
    });
  });

  it('uplink down: the kill switch holds in the kernel before the helper reacts; the other app fails over', async () => {
    await ip(H, 'link', 'set', 'up2', 'down');
    const before = await echoes();
    // No re-apply yet: the kernel alone must already do the right thing.
    expect((await routeGet(V4, M.ks)).ok).toBe(false);
    expect((await routeGet(V6, M.ks)).ok).toBe(false);
    expect(await routeGet(V4, M.fo)).toEqual({ ok: true, dev: 'up1', src: '198.18.1.2' });
    expect(await routeGet(V6, M.fo)).toEqual({ ok: true, dev: 'up1', src: 'fd5a:1::2' });
    expect(await ping(M.ks, V4, 3)).toBe(false);
    expect(await ping(M.ks, V6, 3)).toBe(false);
    expect(await echoes()).toEqual(before); // not one echo leaked out of up1
    expect(await ping(M.fo, V4, 2)).toBe(true);
    expect((await echoes()).pe1_v4! - before.pe1_v4!).toBe(2);

    // Now the helper reacts.
    const ifs = await readInterfaces({ netns: H });
    expect(ifs.find((i) => i.name === 'up2')!.usable).toBe(false);
    const sw = { paused: false, override: null };
    expect(evaluate(policy.apps[0]!.choice, ifs, sw)).toEqual({ state: 'killed', active: null });
    expect(evaluate(policy.apps[1]!.choice, ifs, sw)).toEqual({ state: 'failed-over', active: 'up1' });
    await reconciler.apply(compile(policy, ifs, layout));
    const mid = await echoes();
    expect(await ping(M.ks, V4, 2)).toBe(false);
    expect(await echoes()).toEqual(mid);
  });

  it('nft is a second line of defence: without the kill rule, marked packets are dropped and counted', async () => {
    // Simulate a broken routing layer: remove the kill rules behind the helper's back.
    for (const f of ['-4', '-6'])
      await ip(H, f, 'rule', 'del', 'priority', String(layout.priorities.kill), 'fwmark', hex(M.ks));
    expect(await routeGet(V4, M.ks)).toMatchObject({ ok: true, dev: 'up1' }); // the kernel would now leak…
    const before = await echoes();
    const killBefore = (await readCounters(layout.nftTable, { netns: H })).get('kill_1')!.packets;
    expect(await ping(M.ks, V4, 2)).toBe(false);
    expect(await ping(M.ks, V6, 2)).toBe(false);
    expect(await echoes()).toEqual(before); // …but nft drops it
    expect((await readCounters(layout.nftTable, { netns: H })).get('kill_1')!.packets).toBeGreaterThanOrEqual(
      killBefore + 4,
    );
    // Reconciling puts the rules back.
    const desired = await desiredNow();
    const ops = await reconciler.plan(desired);
    expect(ops.map((o) => o.op)).toEqual(['rule-add', 'rule-add']);
    await reconciler.apply(desired);
    expect((await routeGet(V4, M.ks)).ok).toBe(false);
  });

  it('uplink back: the helper fails back to it', async () => {
    await ip(H, 'link', 'set', 'up2', 'up');
    await restoreUplink('up2'); // IPv6 addresses go with the link; NetworkManager would put them back
    await reconciler.apply(await desiredNow());
    expect(await routeGet(V4, M.ks)).toEqual({ ok: true, dev: 'up2', src: '198.18.2.2' });
    expect(await routeGet(V6, M.fo)).toEqual({ ok: true, dev: 'up2', src: 'fd5a:2::2' });
    const before = await echoes();
    expect(await ping(M.fo, V4, 2)).toBe(true);
    expect((await echoes()).pe2_v4! - before.pe2_v4!).toBe(2);
  });

  it('paused lifts block and kill switch in the kernel but keeps routing; resuming restores them', async () => {
    await reconciler.apply(await desiredNow({ ...policy, paused: true }));
    expect(await routeGet(V4, M.bl)).toMatchObject({ ok: true, dev: 'up1' });
    expect(await routeGet(V4, M.ks)).toEqual({ ok: true, dev: 'up2', src: '198.18.2.2' });
    const rules = await readRules(4, { netns: H });
    expect(rules.some((r) => r.priority === layout.priorities.kill)).toBe(false);
    expect(await listTable(layout.nftTable, { netns: H })).not.toMatch(/drop/);
    await reconciler.apply(await desiredNow());
    expect((await routeGet(V4, M.bl)).ok).toBe(false);
    expect(
      (await readRules(4, { netns: H })).filter((r) => r.priority === layout.priorities.kill),
    ).toHaveLength(1);
  });

  it('DNS to the loopback stub follows the app onto its egress resolver; others are untouched', async () => {
    await ip(P, 'addr', 'add', '198.18.200.53/32', 'dev', 'lo');
    await ip(P, 'addr', 'add', '198.18.200.54/32', 'dev', 'lo');
    // A tiny resolver stand-in: answers with the address it was asked on and who asked.
    const server = `import socket, selectors
sel = selectors.DefaultSelector()
for a in ('198.18.200.53', '198.18.200.54'):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind((a, 53)); sel.register(s, selectors.EVENT_READ)
print('ready', flush=True)
while True:
    for k, _ in sel.select():
        data, peer = k.fileobj.recvfrom(512)
        k.fileobj.sendto(('%s<-%s' % (k.fileobj.getsockname()[0], peer[0])).encode(), peer)`;
    const log = join(work, 'dns.log');
    const started = await run(
      [
        'sh',
        '-c',
        '"$@" >"$LOG" 2>&1 </dev/null & echo $!',
        'sh',
        'timeout',
        '60',
        'ip',
        'netns',
        'exec',
        P,
        'python3',
        '-c',
        server,
      ],
      {
        env: { ...process.env, LOG: log },
      },
    );
    const pid = Number(started.stdout.trim());
    try {
      const query = (mark: number | null) =>
        inNs(H, [
          'python3',
          '-c',
          `import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
${mark === null ? '' : `s.setsockopt(socket.SOL_SOCKET, 36, ${mark})`}
s.settimeout(1)
try:
    s.sendto(b'q', ('127.0.0.53', 53)); print(s.recvfrom(512)[0].decode())
except Exception as e:
    print('no answer', type(e).__name__)`,
        ]);
      await ip(P, 'route', 'get', '198.18.200.53'); // the far side exists
      const resolvers = { up2: ['fd5a:200::53', '198.18.200.53'], up1: ['198.18.200.54'] };
      expect(await ping(M.ks, V4, 1)).toBe(true);
      const txBefore = (await readCounters(layout.nftTable, { netns: H })).get('tx_1')!;
      expect(txBefore.packets).toBeGreaterThan(0);
      const res = await reconciler.apply(
        compile(policy, await readInterfaces({ netns: H }), layout, { dnsResolvers: resolvers }),
      );
      expect(res.operations.some((o) => o.op === 'nft-replace')).toBe(true);
      // The table was replaced, the per-app counters were carried over.
      expect((await readCounters(layout.nftTable, { netns: H })).get('tx_1')).toEqual(txBefore);
      for (let i = 0; i < 50 && !(await readFile(log, 'utf8').catch(() => '')).includes('ready'); i++)
        await new Promise((r) => setTimeout(r, 100));
      expect((await query(M.fo)).stdout.trim()).toBe('198.18.200.53<-198.18.2.2');
      expect((await query(M.ks)).stdout.trim()).toBe('198.18.200.53<-198.18.2.2');
      expect((await query(null)).stdout.trim()).toMatch(/^no answer/); // nothing listens on the stub here
      expect((await query(M.df)).stdout.trim()).toMatch(/^no answer/); // a default app keeps the system's DNS
      // Failover moves the app's DNS with it.
      await ip(H, 'link', 'set', 'up2', 'down');
      await reconciler.apply(
        compile(policy, await readInterfaces({ netns: H }), layout, { dnsResolvers: resolvers }),
      );
      expect((await query(M.fo)).stdout.trim()).toBe('198.18.200.54<-198.18.1.2');
      expect((await query(M.ks)).stdout.trim()).toMatch(/^no answer/); // killed: no DNS leak either
      await ip(H, 'link', 'set', 'up2', 'up');
      await restoreUplink('up2');
      await reconciler.apply(await desiredNow());
      expect((await query(M.fo)).stdout.trim()).toMatch(/^no answer/); // redirect gone with the option
    } finally {
      if (Number.isInteger(pid) && pid > 1) process.kill(pid, 'SIGTERM');
    }
  });

  it('a failing apply rolls back to the state before it', async () => {
    const good = await desiredNow();
    const common = { icon: null, source: 'manual' as const, matchers: { exe: ['/bin/false'] } };
    const doc = ensureEgressTables(
      addApp(policy, {
        ...common,
        id: 'new',
        name: 'New',
        choice: { mode: 'ordered', egresses: ['up1'], killSwitch: true },
      }),
    );
    const bad = compile(doc, await readInterfaces({ netns: H }), layout);
    // An IPv6 gateway that is not on-link: the IPv4 batch (new rules) succeeds, the IPv6 one fails.
    const t = bad.routes.find((r) => r.dev === 'up1' && r.family === 6)!.table;
    bad.routes.push({
      family: 6,
      table: t,
      dst: 'fd5a:77::/64',
      via: 'fd5a:99::1',
      dev: 'up1',
      metric: 1024,
    });
    const err = await reconciler.apply(bad).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ReconcileError);
    expect((err as ReconcileError).rolledBack).toBe(true);
    expect((err as Error).message).toMatch(
      /rolled back.*ip -6 batch failed at line \d+ \("route replace fd5a:77::\/64/,
    );
    expect(await reconciler.plan(good)).toEqual([]);
    expect((await readCounters(layout.nftTable, { netns: H })).has('tx_5')).toBe(false);
    expect((await routeGet(V4, markFor(layout, 5))).dev).toBe('up1'); // new app's rules are gone: main table
  });

  it('watch() reports link changes and restarts a dead monitor', async () => {
    const w = await watch({ netns: H, debounceMs: 50, healthMs: 200 });
    try {
      const changed = new Promise<void>((resolve) => w.on('changed', resolve));
      await ip(H, 'addr', 'add', '198.18.3.2/24', 'dev', 'up1');
      await expect(
        Promise.race([
          changed.then(() => 'changed'),
          new Promise((r) => setTimeout(() => r('timeout'), 3000)),
        ]),
      ).resolves.toBe('changed');
      const old = w.pid!;
      const restarted = new Promise<void>((resolve) => w.on('restarted', resolve));
      process.kill(old, 'SIGKILL');
      await expect(
        Promise.race([
          restarted.then(() => 'restarted'),
          new Promise((r) => setTimeout(() => r('timeout'), 3000)),
        ]),
      ).resolves.toBe('restarted');
      expect(w.pid).not.toBe(old);
      const again = new Promise<void>((resolve) => w.on('changed', resolve));
      await ip(H, 'addr', 'del', '198.18.3.2/24', 'dev', 'up1');
      await expect(
        Promise.race([again.then(() => 'changed'), new Promise((r) => setTimeout(() => r('timeout'), 3000))]),
      ).resolves.toBe('changed');
    } finally {
      const pid = w.pid;
      await w.stop();
      expect(pid).not.toBeNull();
      expect(await startTicks(pid!)).toBeNull(); // the monitor process is gone
    }
  });

  it('teardown leaves nothing in the instance ranges and restores sysctls', async () => {
    await reconciler.teardown();
    const rules = [...(await readRules(4, { netns: H })), ...(await readRules(6, { netns: H }))];
    expect(rules.filter((r) => isOurPriority(layout, r.priority))).toEqual([]);
    const routes = [...(await readRoutes(4, { netns: H })), ...(await readRoutes(6, { netns: H }))];
    expect(routes.filter((r) => isOurTable(layout, r.table))).toEqual([]);
    expect(await listTable(layout.nftTable, { netns: H })).toBeNull();
    expect(await readSysctls(Object.keys(sysctlsBefore), { netns: H })).toEqual(sysctlsBefore);
    expect(await outsideState()).toBe(mainBefore);
    expect(await kernelRouteGet(V4, M.ks, 'tcp', 443, { netns: H })).toMatchObject({ ok: true, dev: 'up1' });
    // Tearing down twice is fine.
    await reconciler.teardown();
  });
});
