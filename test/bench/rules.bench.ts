// Encryption rules (issue 11): what they cost a connect(), and what applying 1,000 of them costs, each
// against an anchor measured in this same run.
//   connect(): a tiny C client (compiled here with cc) times connect() to its own listener on loopback
//   in a private namespace, from a tagged app cgroup with the tagger and the flow classifier attached
//   (bpf/flow_rules.bpf.c). The app's list holds N entries that pass every check but the destination
//   (so the scan reads all N), then the listener's port is clear. The anchor is the same client in an
//   untagged cgroup outside the subtree, where no program runs.
//   apply: 1,000 rules through the real Reconciler (ip rules, nft table, classifier lists) into a
//   namespace, against the floor of `nft -f` applying the same rendered table there; and a 1-rule
//   change on top of 1,000 rules, against `nft -f` replacing the table with the changed one; in wall
//   time and in CPU time (steadier on a shared machine), with the reconciler's reads timed alone.
// Everything lives in a namespace and cgroups named after the run, removed via ctx.defer.
import { writeFile } from 'node:fs/promises';
import type { RuleInput } from '../../native-helper/src/api/rules-model.ts';
import { ensureBpffs } from '../../native-helper/src/mechanism/bpf/bpffs.ts';
import {
  Classifier,
  classifierPinDirFor,
  type ClassifierEntry,
  type ClassifierList,
} from '../../native-helper/src/mechanism/bpf/classifier.ts';
import { Tagger, pinDirFor } from '../../native-helper/src/mechanism/bpf/tagger.ts';
import {
  cgroupId,
  ensureCgroup,
  findCgroup2Mount,
  removeCgroupTree,
} from '../../native-helper/src/mechanism/cgroup/index.ts';
import { run } from '../../native-helper/src/mechanism/exec.ts';
import { readInterfaces } from '../../native-helper/src/mechanism/netlink/read.ts';
import { renderReplace } from '../../native-helper/src/mechanism/nft/spec.ts';
import { deleteTable, listTable, readCounters } from '../../native-helper/src/mechanism/nft/table.ts';
import { percentiles } from '../../native-helper/src/mechanism/proc/latency.ts';
import { layoutFor, markFor, type Layout } from '../../native-helper/src/layout/kernel-layout.ts';
import { compile } from '../../native-helper/src/policy/compile.ts';
import { neededClasses, planFlows } from '../../native-helper/src/policy/flow-plan.ts';
import {
  addApp,
  emptyPolicy,
  ensureEgressTables,
  ensureFlowClasses,
  type PolicyDocument,
} from '../../native-helper/src/policy/model.ts';
import { addRule } from '../../native-helper/src/policy/rules.ts';
import { Reconciler, type ApplyResult } from '../../native-helper/src/reconcile/reconciler.ts';
import type { DesiredState } from '../../native-helper/src/reconcile/types.ts';
import {
  FRESH_MOUNTS_ENV,
  median,
  ownAndChildrenCpuSeconds,
  type BenchContext,
  type BenchRow,
} from './harness.ts';

const CONNECT_GROUP = 'encryption rules: connect()';
const APPLY_GROUP = 'encryption rules: apply';
/** The listener's port in the client's namespace; every generated rule names it too. */
export const LISTEN_PORT = 7443;
const TUNNEL = 'sybt0';
const UPLINK = 'up1';

// ---------- the rules (pure) ----------

/**
 * n rules that never match a flow to loopback: each is TCP to LISTEN_PORT (so the classifier's family,
 * protocol and port checks pass) for one /32 in 198.18.128.0/17 (so only the destination check fails).
 * Round-robin over the apps; actions cycle encrypt, block, clear so the nft chains get every kind.
 */
export function benchRuleInputs(
  n: number,
  opts: { apps: readonly string[]; tunnel: string; port?: number },
): RuleInput[] {
  if (n > 32768) throw new Error(`at most 32768 bench rules fit in 198.18.128.0/17; asked for ${n}.`);
  if (!opts.apps.length) throw new Error('benchRuleInputs needs at least one app.');
  const port = opts.port ?? LISTEN_PORT;
  const actions: RuleInput['action'][] = [
    { type: 'encrypt', tunnel: opts.tunnel },
    { type: 'block' },
    { type: 'clear' },
  ];
  return Array.from({ length: n }, (_, i) => ({
    match: {
      subject: { kind: 'app', app: opts.apps[i % opts.apps.length]! },
      destinations: [`198.18.${128 + (i >> 8)}.${i & 255}`],
      ports: [{ from: port, to: port }],
      protocol: 'tcp',
      network: 'any',
    },
    action: actions[i % actions.length]!,
  }));
}

export interface BenchRulesPolicyOptions {
  apps: number;
  tunnel: string;
  /** The egress every app's traffic takes (kill-switched); default: the app's default route. */
  uplink?: string;
  port?: number;
  now?: Date;
}

export const benchAppId = (i: number) => `bench-app-${i}`;

/** A policy of `apps` apps and n rules (benchRuleInputs), with egress tables and flow classes numbered. */
export function benchRulesPolicy(n: number, opts: BenchRulesPolicyOptions): PolicyDocument {
  let doc = emptyPolicy();
  const ids = Array.from({ length: opts.apps }, (_, i) => benchAppId(i));
  for (const id of ids)
    doc = addApp(doc, {
      id,
      name: id,
      icon: null,
      source: 'manual',
      matchers: { exe: ['/usr/bin/true'] },
      choice: opts.uplink
        ? { mode: 'ordered', egresses: [opts.uplink], killSwitch: true }
        : { mode: 'default' },
    });
  return addBenchRules(
    doc,
    benchRuleInputs(n, { apps: ids, tunnel: opts.tunnel, port: opts.port }),
    opts.now,
  );
}

/** Adds the rules at the end of the user layer, then numbers egress tables and flow classes. */
export function addBenchRules(
  doc: PolicyDocument,
  inputs: readonly RuleInput[],
  now = new Date(),
): PolicyDocument {
  // addRule copies the list each time; building it directly keeps 1,000 rules linear.
  const rules = [...doc.rules];
  for (const input of inputs) {
    const { rule } = addRule({ ...doc, rules }, input, { now });
    rules.push(rule);
  }
  const withRules = ensureEgressTables({ ...doc, rules });
  return ensureFlowClasses(withRules, neededClasses(withRules, []));
}

/** The classifier entry a "TCP to `port`: clear" rule compiles to (planFlows): the flow the client makes. */
export function clearPortEntry(port = LISTEN_PORT): ClassifierEntry {
  return { family: 0, proto: 6, prefix: null, ports: [port, port], action: 'clear' };
}

/**
 * The one app's list for the connect() bench: the entries planFlows makes of n non-matching rules,
 * then the port's clear entry. Built here rather than by planFlows for the last entry, because
 * planFlows gives no list at all when every rule is clear (n = 0), and the bench wants the one-entry
 * scan there. `final` 'block' turns the last entry into a block, to prove the scan reaches it.
 */
export function connectBenchList(
  n: number,
  layout: Layout,
  opts: { final?: 'clear' | 'block'; port?: number } = {},
): ClassifierList {
  const doc = benchRulesPolicy(n, { apps: 1, tunnel: TUNNEL, port: opts.port });
  const app = doc.apps[0]!;
  const appMark = markFor(layout, app.tag);
  const plan = planFlows({ doc, managedRules: [], layout, trustOf: () => 'trusted' });
  const list = plan.lists.find((l) => l.appMark === appMark);
  if (n > 0 && list?.entries.length !== n)
    throw new Error(`planFlows made ${list?.entries.length ?? 0} entries of ${n} bench rules, not one each.`);
  const last = { ...clearPortEntry(opts.port), action: opts.final ?? 'clear' };
  return { marks: list?.marks ?? [appMark], appMark, entries: [...(list?.entries ?? []), last] };
}

// ---------- the connect() client ----------

/**
 * Listens on 127.0.0.1:PORT, then connect()s WARMUP + COUNT times, timing each connect() alone
 * (CLOCK_MONOTONIC around the syscall); accepts and closes both ends with an RST (SO_LINGER 0) so no
 * TIME_WAIT piles up. Prints "first mark M" (the first socket's SO_MARK) or "first errno E NAME"
 * (and stops), then one sample in ns per line.
 */
export const CONNECT_CLIENT_C = String.raw`#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(int argc, char **argv) {
  if (argc != 4) { fprintf(stderr, "usage: %s PORT COUNT WARMUP\n", argv[0]); return 2; }
  int port = atoi(argv[1]), count = atoi(argv[2]), warmup = atoi(argv[3]);
  struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons(port) };
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int one = 1;
  struct linger reset = { .l_onoff = 1, .l_linger = 0 };
  int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (l < 0 || setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) ||
      bind(l, (struct sockaddr *)&addr, sizeof addr) || listen(l, 64)) { perror("listener"); return 1; }
  long long *samples = calloc(count > 0 ? count : 1, sizeof *samples);
  if (!samples) { perror("calloc"); return 1; }
  for (int i = 0; i < warmup + count; i++) {
    int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0) { perror("socket"); return 1; }
    long long t0 = now_ns();
    int r = connect(s, (struct sockaddr *)&addr, sizeof addr);
    long long t1 = now_ns();
    if (r != 0) {
      if (i == 0) { printf("first errno %d %s\n", errno, strerror(errno)); return 0; }
      perror("connect"); return 1;
    }
    if (i == 0) {
      unsigned mark = 0;
      socklen_t len = sizeof mark;
      if (getsockopt(s, SOL_SOCKET, SO_MARK, &mark, &len)) { perror("SO_MARK"); return 1; }
      printf("first mark %u\n", mark);
    }
    int a = accept(l, NULL, NULL);
    if (a < 0) { perror("accept"); return 1; }
    setsockopt(s, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
    setsockopt(a, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
    close(a);
    close(s);
    if (i >= warmup) samples[i - warmup] = t1 - t0;
  }
  for (int i = 0; i < count; i++) printf("%lld\n", samples[i]);
  return 0;
}
`;

export type FirstConnect = { mark: number } | { errno: number; name: string };

/** The client's output: how the first connect() went, and the samples (ns). */
export function parseClientOutput(text: string): { first: FirstConnect; samplesNs: number[] } {
  const [head = '', ...rest] = text.trim().split('\n');
  const mark = /^first mark (\d+)$/.exec(head);
  const err = /^first errno (\d+) (.*)$/.exec(head);
  if (!mark && !err)
    throw new Error(`the connect() client printed "${head}", not "first mark M" or "first errno E".`);
  const samplesNs = rest.map((l) => Number(l));
  const bad = rest.findIndex((l, i) => !/^\d+$/.test(l) || !Number.isFinite(samplesNs[i]));
  if (bad >= 0) throw new Error(`the connect() client printed "${rest[bad]}" where a sample in ns belongs.`);
  return {
    first: mark ? { mark: Number(mark[1]) } : { errno: Number(err![1]), name: err![2]! },
    samplesNs,
  };
}

// ---------- the kernel setup ----------

interface KernelSetup {
  ns: string;
  client: string;
  layout: Layout;
  classifier: Classifier;
  appCg: string;
  bareCg: string;
  appMark: number;
}

/** The namespace, the cgroups (tagged app under the subtree; a bare one beside it) and the programs. */
async function setUp(ctx: BenchContext): Promise<KernelSetup> {
  for (const tool of ['cc', 'nsenter', 'nft']) {
    const found = await run(['sh', '-c', 'command -v "$1"', 'sh', tool], { allowFailure: true });
    if (found.code !== 0)
      throw new Error(
        `${tool} is not installed; the rules bench needs it (Debian: gcc, util-linux, nftables).`,
      );
  }
  const client = `${ctx.tmpdir}/connect-latency`;
  await writeFile(`${client}.c`, CONNECT_CLIENT_C);
  await run(['cc', '-O2', '-Wall', '-o', client, `${client}.c`]);

  const ns = ctx.uniqueName('rl');
  ctx.defer(`delete namespace ${ns}`, () => run(['ip', 'netns', 'del', ns], { allowFailure: true }));
  await run(['ip', 'netns', 'add', ns]);
  await run(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);

  const instance = ns;
  const layout = layoutFor(instance);
  // Pins go to bpffs; inside fresh-mounts.sh (run.ts) that is the run's own, mounted here and gone
  // with the run. Outside it, mounting one would leave a mount on the host.
  if (process.env[FRESH_MOUNTS_ENV] !== '1')
    throw new Error(
      'the rules bench pins BPF objects; run it through `npm run bench`, which runs inside test/lab/fresh-mounts.sh.',
    );
  if (ensureBpffs()) ctx.log('mounted bpffs at /sys/fs/bpf (private to this run)');
  const mount = await findCgroup2Mount();
  const root = `${mount}/switchyard.${instance}`;
  const appCg = `${root}/app`;
  const bareCg = `${mount}/switchyard.${instance}-bare`;
  // Registered first so it runs last: the programs are detached before the cgroups go.
  ctx.defer(`remove cgroups ${root} and ${bareCg}`, async () => {
    await removeCgroupTree(root, { moveTo: mount });
    await removeCgroupTree(bareCg, { moveTo: mount });
  });
  for (const cg of [root, appCg, bareCg]) await ensureCgroup(cg);
  const tagger = new Tagger({ cgroupPath: root, pinDir: pinDirFor(instance) });
  ctx.defer('detach the tagger', () => tagger.detach());
  tagger.attach();
  const classifier = new Classifier({
    cgroupPath: root,
    pinDir: classifierPinDirFor(pinDirFor(instance)),
  });
  ctx.defer('detach the classifier', () => classifier.detach());
  classifier.attach();
  const appMark = connectBenchList(0, layout).appMark;
  tagger.set(cgroupId(appCg), appMark);
  return { ns, client, layout, classifier, appCg, bareCg, appMark };
}

/** Runs the client in a cgroup and the namespace; the cgroup is joined before exec, so socket() is tagged. */
async function runClient(
  s: KernelSetup,
  cgroup: string,
  count: number,
  warmup: number,
): Promise<{ first: FirstConnect; samplesNs: number[] }> {
  const { stdout } = await run(
    [
      'sh', '-c', 'echo $$ > "$0/cgroup.procs" && exec nsenter --net="/run/netns/$1" "$2" "$3" "$4" "$5"',
      cgroup, s.ns, s.client, String(LISTEN_PORT), String(count), String(warmup),
    ], // prettier-ignore
    { timeoutMs: 120_000 },
  );
  return parseClientOutput(stdout);
}

function describeFirst(f: FirstConnect): string {
  return 'mark' in f ? `mark ${f.mark}` : `errno ${f.errno} (${f.name})`;
}

// ---------- connect() ----------

interface ConnectConfig {
  name: string;
  cgroup: 'bare' | 'app';
  /** Rules in the app's list before the clear entry; null: no list at all (an app without rules). */
  rules: number | null;
}

const us = (ns: number) => ns / 1000;

async function benchConnect(ctx: BenchContext, s: KernelSetup): Promise<BenchRow[]> {
  const configs: ConnectConfig[] = [
    { name: 'untagged process', cgroup: 'bare', rules: null },
    { name: 'tagged app, no rules (no list)', cgroup: 'app', rules: null },
    ...[0, 100, 1000].map((n): ConnectConfig => ({
      name: `tagged app, ${n} rules`,
      cgroup: 'app',
      rules: n,
    })),
  ];
  const lists = new Map<number, ClassifierList>();
  for (const c of configs) if (c.rules !== null) lists.set(c.rules, connectBenchList(c.rules, s.layout));
  const cgroupOf = (c: ConnectConfig) => (c.cgroup === 'app' ? s.appCg : s.bareCg);
  const install = (c: ConnectConfig) => s.classifier.replace(c.rules === null ? [] : [lists.get(c.rules)!]);
  const markOf = (c: ConnectConfig) => (c.cgroup === 'app' ? s.appMark : 0);

  // Each config once, checked: the marks are the ones expected, and with the last entry a block the
  // connect() fails, so the scan did reach the end of the list.
  for (const c of configs) {
    install(c);
    const { first } = await runClient(s, cgroupOf(c), 0, 1);
    if (!('mark' in first) || first.mark !== markOf(c))
      throw new Error(`${c.name}: the first connect() gave ${describeFirst(first)}, not mark ${markOf(c)}.`);
    if (c.rules !== null) {
      s.classifier.replace([connectBenchList(c.rules, s.layout, { final: 'block' })]);
      const blocked = (await runClient(s, cgroupOf(c), 0, 1)).first;
      if (!('errno' in blocked) || blocked.name !== 'Operation not permitted')
        throw new Error(
          `${c.name}: with the port's entry a block, connect() gave ${describeFirst(blocked)}, not EPERM; the classifier did not scan to the end.`,
        );
    }
  }

  // Rounds over every config, each round in a rotated order, so drift on a shared machine spreads over
  // all of them instead of landing on one.
  const rounds = ctx.quick ? 3 : 10;
  const count = ctx.quick ? 1000 : 3000;
  const warmup = 300;
  const samples = new Map<string, number[]>(configs.map((c) => [c.name, []]));
  const roundMedians = new Map<string, number[]>(configs.map((c) => [c.name, []]));
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < configs.length; k++) {
      if (ctx.signal.aborted) throw new Error('interrupted');
      const c = configs[(r + k) % configs.length]!;
      install(c);
      const { first, samplesNs } = await runClient(s, cgroupOf(c), count, warmup);
      if (!('mark' in first) || first.mark !== markOf(c))
        throw new Error(
          `${c.name}: the first connect() gave ${describeFirst(first)}, not mark ${markOf(c)}.`,
        );
      if (samplesNs.length !== count)
        throw new Error(`${c.name}: the client printed ${samplesNs.length} samples, not ${count}.`);
      samples.get(c.name)!.push(...samplesNs);
      roundMedians.get(c.name)!.push(median(samplesNs));
    }
    ctx.log(
      `connect() round ${r + 1}/${rounds}: medians ${configs.map((c) => `${c.name} ${us(roundMedians.get(c.name)!.at(-1)!).toFixed(1)} µs`).join(', ')}`,
    );
  }
  s.classifier.replace([]);

  const stats = new Map(configs.map((c) => [c.name, percentiles(samples.get(c.name)!)]));
  const anchor = stats.get(configs[0]!.name)!;
  const rows: BenchRow[] = [];
  for (const c of configs) {
    const p = stats.get(c.name)!;
    const perRound = roundMedians.get(c.name)!;
    const spread = `round medians ${us(Math.min(...perRound)).toFixed(1)}–${us(Math.max(...perRound)).toFixed(1)} µs`;
    const isAnchor = c === configs[0];
    const entries =
      c.rules === null ? '' : `; the list holds ${c.rules} entries that do not match, then the port's clear`;
    rows.push(
      {
        group: CONNECT_GROUP,
        name: `${c.name}, median`,
        value: us(p.p50),
        unit: 'µs',
        ratio: isAnchor ? undefined : { against: 'untagged process, median', value: p.p50 / anchor.p50 },
        note: `${isAnchor ? 'anchor: no program runs; ' : ''}${p.count} connect()s over ${rounds} rounds, ${spread}${entries}`,
        status: 'ok',
      },
      {
        group: CONNECT_GROUP,
        name: `${c.name}, p99`,
        value: us(p.p99),
        unit: 'µs',
        ratio: isAnchor ? undefined : { against: 'untagged process, p99', value: p.p99 / anchor.p99 },
        status: 'ok',
      },
    );
  }
  // What one entry costs the scan: the slope between 0 and 1,000 rules, on medians.
  const p0 = stats.get('tagged app, 0 rules')!.p50;
  const p1000 = stats.get('tagged app, 1000 rules')!.p50;
  rows.push({
    group: CONNECT_GROUP,
    name: 'classifier scan, per entry',
    value: (p1000 - p0) / 1000,
    unit: 'ns',
    note: '(median with 1,000 rules − median with 0) / 1,000; each entry passes family, protocol and port and fails on the destination',
    status: 'ok',
  });
  return rows;
}

// ---------- apply ----------

/** Wall and CPU milliseconds of a step (CPU: this process and the commands it ran to completion). */
async function timed<T>(fn: () => Promise<T> | T): Promise<{ value: T; ms: number; cpuMs: number }> {
  const c0 = await ownAndChildrenCpuSeconds();
  const t0 = performance.now();
  const value = await fn();
  const ms = performance.now() - t0;
  return { value, ms, cpuMs: ((await ownAndChildrenCpuSeconds()) - c0) * 1000 };
}

/** The floor: the rendered table applied with one `nft -f` in the namespace. */
async function nftFloor(ns: string, desired: DesiredState): Promise<{ ms: number; cpuMs: number }> {
  const script = renderReplace(desired.nft!);
  return timed(() => run(['ip', 'netns', 'exec', ns, 'nft', '-f', '-'], { input: script }));
}

async function benchApply(ctx: BenchContext, s: KernelSetup): Promise<BenchRow[]> {
  const { ns, layout } = s;
  const ip = (...args: string[]) => run(['ip', '-n', ns, ...args]);
  // An uplink every app routes through, and a veth standing in for the tunnel the encrypt rules name
  // (a kernel without the dummy module is common in VMs).
  await ip('link', 'add', 'name', UPLINK, 'type', 'veth', 'peer', 'name', 'pe1');
  await ip('link', 'add', 'name', TUNNEL, 'type', 'veth', 'peer', 'name', 'pe2');
  await ip('addr', 'add', '198.18.1.2/24', 'dev', UPLINK);
  await ip('addr', 'add', '198.18.1.1/24', 'dev', 'pe1');
  await ip('addr', 'add', '198.18.2.1/24', 'dev', TUNNEL);
  for (const dev of [UPLINK, 'pe1', TUNNEL, 'pe2']) await ip('link', 'set', dev, 'up');
  await ip('route', 'add', 'default', 'via', '198.18.1.1', 'dev', UPLINK);

  // keepView as in the helper: applies read and verify only what they change.
  const reconciler = new Reconciler({
    layout,
    netns: ns,
    keepView: true,
    classifier: { replace: (l) => s.classifier.replace(l), read: () => s.classifier.read() },
  });
  const clear = async () => {
    await reconciler.teardown();
    s.classifier.replace([]);
  };
  ctx.defer('teardown of the rules bench instance', async () => {
    await clear();
    await reconciler.close();
  });
  const interfaces = await readInterfaces({ netns: ns });

  const N = 1000;
  const apps = 10;
  const doc = benchRulesPolicy(N, { apps, tunnel: TUNNEL, uplink: UPLINK });
  // What the helper computes on every apply (egress-loop.ts): the flow plan, then compile.
  const desiredOf = (d: PolicyDocument) =>
    compile(d, interfaces, layout, {
      flows: planFlows({ doc: d, managedRules: [], layout, trustOf: () => 'trusted' }),
    });
  const desired = desiredOf(doc);
  // One more rule for an app that has a flow class already: the change touches the nft table and
  // the classifier lists, not the ip rules.
  const changed = desiredOf(
    addBenchRules(doc, [
      {
        match: {
          subject: { kind: 'app', app: benchAppId(0) },
          destinations: ['198.19.0.1'],
          ports: [{ from: LISTEN_PORT, to: LISTEN_PORT }],
          protocol: 'tcp',
          network: 'any',
        },
        action: { type: 'block' },
      },
    ]),
  );
  const nftRules = desired.nft!.chains.reduce((n, c) => n + c.rules.length, 0);
  const entries = desired.classifier!.reduce((n, l) => n + l.entries.length, 0);
  const size = `${N} rules over ${apps} apps: ${nftRules} nft rules, ${entries} classifier entries, ${desired.rules.length} ip rules`;
  ctx.log(`apply: ${size}`);

  const runs = ctx.quick ? 2 : 9;
  const samples = {
    floor: [] as number[],
    floorCpu: [] as number[],
    apply: [] as number[],
    applyCpu: [] as number[],
    applyPhases: [] as [number, number, number][],
    changeFloor: [] as number[],
    changeFloorCpu: [] as number[],
    change: [] as number[],
    changeCpu: [] as number[],
    changePhases: [] as [number, number, number][],
    classifier: [] as number[],
    list: [] as number[],
    counters: [] as number[],
    classifierRead: [] as number[],
    plan: [] as number[],
  };
  const phases = (r: ApplyResult): [number, number, number] => [r.readMs, r.applyMs, r.verifyMs];
  for (let r = 0; r < runs; r++) {
    if (ctx.signal.aborted) throw new Error('interrupted');
    samples.plan.push((await timed(() => desiredOf(doc))).ms);

    await clear();
    const floor = await nftFloor(ns, desired);
    samples.floor.push(floor.ms);
    samples.floorCpu.push(floor.cpuMs);
    await deleteTable(layout.nftTable, { netns: ns });
    const { value: res, ms: applyMs, cpuMs: applyCpu } = await timed(() => reconciler.apply(desired));
    samples.apply.push(applyMs);
    samples.applyCpu.push(applyCpu);
    samples.applyPhases.push(phases(res));
    if (!res.operations.some((o) => o.op === 'classifier-replace'))
      throw new Error('the apply from empty did not write the classifier lists; the instance was not empty.');
    if ((await reconciler.plan(desired)).length)
      throw new Error(`after applying ${N} rules the kernel still differs from the desired state.`);

    // The two reads of the table the reconciler makes around a change: the table (read and verify)
    // and its counters (carried over into the new table).
    samples.list.push((await timed(() => listTable(layout.nftTable, { netns: ns }))).ms);
    samples.counters.push((await timed(() => readCounters(layout.nftTable, { netns: ns }))).ms);
    samples.classifierRead.push((await timed(() => s.classifier.read())).ms);

    // The floor of the change: nft replacing the 1,000-rule table with the changed one.
    const changeFloor = await nftFloor(ns, changed);
    samples.changeFloor.push(changeFloor.ms);
    samples.changeFloorCpu.push(changeFloor.cpuMs);
    await reconciler.apply(desired); // back to 1,000 (the floor's table has no content hash)
    const { value: res2, ms: changeMs, cpuMs: changeCpu } = await timed(() => reconciler.apply(changed));
    samples.change.push(changeMs);
    samples.changeCpu.push(changeCpu);
    samples.changePhases.push(phases(res2));
    const kinds = [...new Set(res2.operations.map((o) => o.op))].sort().join(',');
    if (kinds !== 'classifier-replace,nft-replace')
      throw new Error(
        `the 1-rule change ran ${kinds || 'nothing'}, not one nft replace and one classifier replace.`,
      );

    // The classifier's share: writing the same lists again, from empty.
    s.classifier.replace([]);
    samples.classifier.push((await timed(() => s.classifier.replace(changed.classifier!))).ms);
    ctx.log(
      `apply run ${r + 1}/${runs}: nft -f ${floor.ms.toFixed(0)} ms (CPU ${floor.cpuMs.toFixed(0)}), ` +
        `reconciler ${applyMs.toFixed(0)} ms (CPU ${applyCpu.toFixed(0)}) ` +
        `(read/apply/verify ${phases(res)
          .map((x) => x.toFixed(0))
          .join('/')}); ` +
        `change: nft -f ${changeFloor.ms.toFixed(0)} ms (CPU ${changeFloor.cpuMs.toFixed(0)}), ` +
        `reconciler ${changeMs.toFixed(0)} ms (CPU ${changeCpu.toFixed(0)}) ` +
        `(${phases(res2)
          .map((x) => x.toFixed(0))
          .join('/')}); nft list ${samples.list.at(-1)!.toFixed(0)} ms, ` +
        `counters ${samples.counters.at(-1)!.toFixed(0)} ms; classifier read ${samples.classifierRead.at(-1)!.toFixed(1)} ms, write ${samples.classifier.at(-1)!.toFixed(1)} ms; ` +
        `plan+compile ${samples.plan.at(-1)!.toFixed(0)} ms`,
    );
  }
  await clear();

  const med = (v: readonly number[]) => median(v);
  const medPhases = (v: readonly [number, number, number][]) =>
    [0, 1, 2].map((i) => med(v.map((p) => p[i]!)).toFixed(0)).join(', ');
  const all = (v: readonly number[]) => v.map((x) => x.toFixed(0)).join(' / ');
  const of = `median of ${runs}`;
  const floor = med(samples.floor);
  const changeFloor = med(samples.changeFloor);
  const floorName = `raw nft -f, ${N} rules`;
  const changeFloorName = `raw nft -f, ${N} → ${N + 1} rules`;
  const row = (
    name: string,
    value: number,
    note: string,
    against?: { name: string; value: number },
    unit = 'ms',
    target?: BenchRow['target'],
  ): BenchRow => ({
    group: APPLY_GROUP,
    name,
    value,
    unit,
    ratio: against ? { against: against.name, value: value / against.value } : undefined,
    ...(target ? { target } : {}),
    note,
    status: 'ok',
  });
  return [
    row(
      `apply ${N} rules from empty (read, diff, nft, ip -batch, classifier, verify)`,
      med(samples.apply),
      `${of}: ${all(samples.apply)}; read, apply, verify ${medPhases(samples.applyPhases)} ms; ${size}`,
      { name: floorName, value: floor },
      'ms',
      { max: 2, label: '≤ 2× raw nft -f (issue 16)' },
    ),
    row(
      floorName,
      floor,
      `floor: the rendered table applied with nft -f in the namespace; ${of}: ${all(samples.floor)}`,
    ),
    row(
      `1-rule change on top of ${N} rules`,
      med(samples.change),
      `${of}: ${all(samples.change)}; read, apply, verify ${medPhases(samples.changePhases)} ms; the whole table and every classifier list are rewritten`,
      { name: changeFloorName, value: changeFloor },
    ),
    row(
      changeFloorName,
      changeFloor,
      `floor: nft -f replacing the ${N}-rule table with the changed one; ${of}: ${all(samples.changeFloor)}`,
    ),
    // CPU time counts only the work done for the step, not the waiting for a core: on a shared machine
    // it moves less than wall time does.
    row(
      `apply ${N} rules from empty, CPU`,
      med(samples.applyCpu),
      `this process and every command it ran; ${of}: ${all(samples.applyCpu)}`,
      { name: `${floorName}, CPU`, value: med(samples.floorCpu) },
      'CPU ms',
    ),
    row(`${floorName}, CPU`, med(samples.floorCpu), `${of}: ${all(samples.floorCpu)}`, undefined, 'CPU ms'),
    row(
      `1-rule change on top of ${N} rules, CPU`,
      med(samples.changeCpu),
      `${of}: ${all(samples.changeCpu)}`,
      { name: `${changeFloorName}, CPU`, value: med(samples.changeFloorCpu) },
      'CPU ms',
    ),
    row(
      `${changeFloorName}, CPU`,
      med(samples.changeFloorCpu),
      `${of}: ${all(samples.changeFloorCpu)}`,
      undefined,
      'CPU ms',
    ),
    row(
      `nft list table, ${N} rules`,
      med(samples.list),
      `what the reconciler reads before every apply (its kept view verifies without it); ${of}: ${all(samples.list)}`,
      { name: floorName, value: floor },
    ),
    row(
      `nft -j list counters, ${N} rules`,
      med(samples.counters),
      `what the helper's counter sampling reads; the reconciler carries counters from its read instead; ${of}: ${all(samples.counters)}`,
      { name: floorName, value: floor },
    ),
    row(
      `classifier lists written, ${N + 1} rules`,
      med(samples.classifier),
      `Classifier.replace() alone (bpf map updates, generation flip); ${of}`,
      { name: floorName, value: floor },
    ),
    row(
      `classifier lists read, ${N + 1} rules`,
      med(samples.classifierRead),
      `Classifier.read() (dumps of both generations' maps), in the reconciler's read and verify; ${of}`,
      { name: floorName, value: floor },
    ),
    row(
      `plan and compile, ${N} rules (pure)`,
      med(samples.plan),
      `planFlows + compile, as the helper runs them before every apply; in this process; ${of}: ${all(samples.plan)}`,
      { name: floorName, value: floor },
    ),
  ];
}

/**
 * Rows: connect() latency per rule count against an untagged process, then the apply numbers; a part
 * that fails becomes a failed row of its group and the other part still reports.
 */
export async function benchRules(ctx: BenchContext): Promise<BenchRow[]> {
  const s = await setUp(ctx);
  const rows: BenchRow[] = [];
  for (const [group, part] of [
    [CONNECT_GROUP, benchConnect],
    [APPLY_GROUP, benchApply],
  ] as const) {
    try {
      rows.push(...(await part(ctx, s)));
    } catch (err) {
      if (ctx.signal.aborted) throw err;
      ctx.log(`${group} failed: ${(err as Error).stack ?? String(err)}`);
      rows.push({ group, name: group, value: NaN, unit: '', note: (err as Error).message, status: 'failed' });
    }
  }
  return rows;
}
