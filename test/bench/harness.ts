// The bench harness: context, result rows, statistics, CPU accounting, iperf3 and background processes.
// Every throughput number in `npm run bench` is measured through measureThroughput() so anchors and
// modules share one protocol (same runs, durations, CPU accounting).
import { readFile, stat } from 'node:fs/promises';
import { run, output } from '../../native-helper/src/mechanism/exec.ts';

// ---------- rows and context ----------

/** Set by run.ts in the copy of itself it runs inside test/lab/fresh-mounts.sh (a private mount namespace). */
export const FRESH_MOUNTS_ENV = 'SWITCHYARD_BENCH_FRESH_MOUNTS';

export interface BenchRow {
  group: string;
  name: string;
  /** NaN when status is not 'ok'. */
  value: number;
  unit: string;
  ratio?: { against: string; value: number };
  /**
   * The goal this row is held to, e.g. { max: 1.3, label: '≤ 1.3× floor' }. Compared with the
   * ratio's value when the row has a ratio, else with the row's value (bounds inclusive).
   */
  target?: { max?: number; min?: number; label: string };
  note?: string;
  status?: 'ok' | 'failed' | 'not available';
}

export type AnchorName = 'veth' | 'wireguard-go' | 'openvpn';

export interface AnchorResult {
  anchor: AnchorName;
  streams: number;
  gbps: number;
  cpuSecondsPerGbit: number;
  samples: number[];
}

export interface BenchContext {
  log(message: string): void;
  /** A private directory for this module, removed after the run. */
  tmpdir: string;
  /** 'syb' + random hex; every namespace and interface name of the run starts with it. */
  prefix: string;
  quick: boolean;
  /** Anchor results of this run (empty while the anchors themselves are measured). */
  anchors: AnchorResult[];
  /** Aborted on SIGINT/SIGTERM/SIGHUP; long loops should check it. */
  signal: AbortSignal;
  /** Register cleanup; runs LIFO when the module ends (success, failure) or on a signal. Returns an unregister function. */
  defer(label: string, fn: () => unknown): () => void;
  /** A name unique in this run that fits an interface name (<= 15 chars): prefix + counter + tag. */
  uniqueName(tag: string): string;
}

/**
 * LIFO cleanup with nested scopes; each entry runs at most once, errors are collected, not thrown.
 * Once closed (after a signal), anything registered later runs at once: nothing can slip past.
 */
export class Cleanups {
  private entries: { label: string; fn: () => unknown }[] = [];
  private children: Cleanups[] = [];
  private closed = false;

  /** Returns a function that unregisters the entry (for resources released early). */
  add(label: string, fn: () => unknown): () => void {
    const entry = { label, fn };
    if (this.closed) {
      void Promise.resolve()
        .then(fn)
        .catch(() => {});
      return () => {};
    }
    this.entries.push(entry);
    return () => {
      this.entries = this.entries.filter((e) => e !== entry);
    };
  }

  child(): Cleanups {
    const c = new Cleanups();
    c.closed = this.closed;
    this.children.push(c);
    return c;
  }

  /**
   * Runs children first (newest first), then own entries; returns the errors. Calls are serialized
   * so a signal's cleanup and the normal end-of-module cleanup never run entries side by side.
   */
  runAll(log: (m: string) => void = () => {}, opts: { close?: boolean } = {}): Promise<Error[]> {
    if (opts.close) this.closed = true;
    const next = this.queue.then(() => this.drain(log, opts));
    this.queue = next.then(
      () => {},
      () => {},
    );
    return next;
  }

  private queue: Promise<void> = Promise.resolve();

  private async drain(log: (m: string) => void, opts: { close?: boolean }): Promise<Error[]> {
    const errors: Error[] = [];
    for (let c = this.children.pop(); c; c = this.children.pop()) errors.push(...(await c.runAll(log, opts)));
    for (let e = this.entries.pop(); e; e = this.entries.pop()) {
      try {
        await e.fn();
      } catch (err) {
        const error = new Error(`cleanup "${e.label}" failed: ${(err as Error).message}`);
        log(error.message);
        errors.push(error);
      }
    }
    return errors;
  }

  get pending(): number {
    return this.entries.length + this.children.reduce((n, c) => n + c.pending, 0);
  }
}

// ---------- statistics ----------

export function median(samples: readonly number[]): number {
  if (samples.length === 0)
    throw new Error('median: no samples; measure at least once before taking a median.');
  const s = [...samples].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

// ---------- CPU accounting ----------

let clockTicks: number | undefined;
async function ticksPerSecond(): Promise<number> {
  clockTicks ??= Number((await output(['getconf', 'CLK_TCK'])).trim()) || 100;
  return clockTicks;
}

/**
 * user+system CPU seconds of one process from the text of /proc/PID/stat, and those of its children
 * it has waited for (all of them, once they are reaped).
 */
export function parseProcPidStat(
  text: string,
  ticks: number,
): { cpuSeconds: number; childrenCpuSeconds: number; startTicks: number } {
  // comm (field 2) may contain spaces and parentheses, so split after the last ')'.
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state); utime=14, stime=15, cutime=16, cstime=17, starttime=22.
  const [utime, stime, cutime, cstime] = [14, 15, 16, 17].map((f) => Number(rest[f - 3]));
  const startTicks = Number(rest[22 - 3]);
  if (![utime, stime, cutime, cstime].every(Number.isFinite))
    throw new Error(`unreadable /proc/PID/stat line: ${text}`);
  return {
    cpuSeconds: (utime! + stime!) / ticks,
    childrenCpuSeconds: (cutime! + cstime!) / ticks,
    startTicks,
  };
}

/**
 * CPU seconds this process and every child it has reaped have used so far: around a step that runs
 * commands to completion (exec.ts reaps them), the difference is that step's CPU, whatever else the
 * machine is busy with. Resolution: one clock tick (10 ms at CLK_TCK 100).
 */
export async function ownAndChildrenCpuSeconds(): Promise<number> {
  const s = parseProcPidStat(await readFile('/proc/self/stat', 'utf8'), await ticksPerSecond());
  return s.cpuSeconds + s.childrenCpuSeconds;
}

/** CPU seconds (user+system) a process has used so far. */
export async function cpuTimeOf(pid: number): Promise<number> {
  return parseProcPidStat(await readFile(`/proc/${pid}/stat`, 'utf8'), await ticksPerSecond()).cpuSeconds;
}

export interface MachineCpu {
  busySeconds: number;
  totalSeconds: number;
}

/** Whole-machine busy/total CPU seconds from the text of /proc/stat (all cores summed). */
export function parseProcStat(text: string, ticks: number): MachineCpu {
  const line = text.split('\n').find((l) => l.startsWith('cpu '));
  if (!line) throw new Error('/proc/stat has no aggregate "cpu " line.');
  // user nice system idle iowait irq softirq steal (guest is already inside user)
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = line
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number);
  const busy = user + nice + system + irq + softirq + steal;
  return { busySeconds: busy / ticks, totalSeconds: (busy + idle + iowait) / ticks };
}

export async function machineCpu(): Promise<MachineCpu> {
  return parseProcStat(await readFile('/proc/stat', 'utf8'), await ticksPerSecond());
}

/** Runs fn and reports the whole machine's busy CPU seconds and the wall time it took. */
export async function withMachineCpu<T>(
  fn: () => Promise<T>,
): Promise<{ value: T; cpuSeconds: number; wallSeconds: number }> {
  const before = await machineCpu();
  const t0 = process.hrtime.bigint();
  const value = await fn();
  const wallSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const after = await machineCpu();
  return { value, cpuSeconds: after.busySeconds - before.busySeconds, wallSeconds };
}

/**
 * CPU seconds per Gbit moved (= cores busy per Gbit/s): the machine-wide cost of the data path,
 * including kernel softirq time and every process, not just the tunnel daemon.
 */
export function cpuSecondsPerGbit(cpuSeconds: number, wallSeconds: number, gbps: number): number {
  if (gbps <= 0 || wallSeconds <= 0) return NaN;
  return cpuSeconds / wallSeconds / gbps;
}

// ---------- background processes ----------

export interface BackgroundProcess {
  pid: number;
  argv: readonly string[];
  logFile: string;
  /** SIGTERM, wait up to 5 s, then SIGKILL. Safe to call twice; never signals a recycled PID. */
  stop(): Promise<void>;
  alive(): Promise<boolean>;
}

/** Start time of a running process; undefined once it is gone or a zombie nobody has reaped yet. */
async function startTicksOf(pid: number): Promise<number | undefined> {
  try {
    const text = await readFile(`/proc/${pid}/stat`, 'utf8');
    if (/^[ZX]/.test(text.slice(text.lastIndexOf(')') + 2))) return undefined;
    return parseProcPidStat(text, await ticksPerSecond()).startTicks;
  } catch {
    return undefined;
  }
}

/**
 * Starts a long-running program in the background (stdout+stderr to logFile) and registers its stop
 * with ctx.defer. Goes through exec.ts via `sh -c '"$@" & echo $!'`, so the PID is the program itself
 * (`ip netns exec` execs its command, so the PID survives that too).
 */
export async function startBackground(
  ctx: Pick<BenchContext, 'defer' | 'log' | 'signal'>,
  argv: readonly string[],
  logFile: string,
): Promise<BackgroundProcess> {
  if (ctx.signal.aborted) throw new Error(`interrupted; not starting ${argv.join(' ')}.`);
  const { stdout } = await run(['sh', '-c', '"$@" >"$BENCH_LOG" 2>&1 </dev/null & echo $!', 'sh', ...argv], {
    env: { ...process.env, BENCH_LOG: logFile },
  });
  const pid = Number(stdout.trim());
  if (!Number.isInteger(pid) || pid <= 1)
    throw new Error(`could not start ${argv.join(' ')}: no PID printed (${stdout}).`);
  const startTicks = await startTicksOf(pid);
  const isOurs = async () => startTicks !== undefined && (await startTicksOf(pid)) === startTicks;
  const terminate = async () => {
    if (!(await isOurs())) return;
    process.kill(pid, 'SIGTERM');
    for (let i = 0; i < 50; i++) {
      if (!(await isOurs())) return;
      await sleep(100);
    }
    ctx.log(`${argv.join(' ')} (pid ${pid}) ignored SIGTERM for 5 s; sending SIGKILL.`);
    if (await isOurs()) process.kill(pid, 'SIGKILL');
    for (let i = 0; i < 20 && (await isOurs()); i++) await sleep(100);
  };
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= terminate().finally(() => {
      unregister();
      running.delete(proc);
    }));
  const unregister = ctx.defer(`stop ${argv.join(' ')} (pid ${pid})`, stop);
  const proc: BackgroundProcess = { pid, argv, logFile, alive: isOurs, stop };
  running.add(proc);
  return proc;
}

const running = new Set<BackgroundProcess>();

/** Processes started with startBackground inside namespace ns (via `ip netns exec ns`) and not yet stopped. */
export function backgroundProcessesIn(ns: string): BackgroundProcess[] {
  return [...running].filter(
    (p) => p.argv[0] === 'ip' && p.argv[1] === 'netns' && p.argv[2] === 'exec' && p.argv[3] === ns,
  );
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls check() every 100 ms until it returns true; throws `what` after timeoutMs. */
export async function waitFor(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await sleep(100);
  }
  throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}.`);
}

export async function tail(file: string, lines = 15): Promise<string> {
  try {
    return (await readFile(file, 'utf8')).trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

export async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

// ---------- iperf3 ----------

export const IPERF3_PORT = 5201;

export interface Iperf3Summary {
  gbps: number;
  senderGbps: number;
  seconds: number;
  retransmits: number | undefined;
}

/** Parses `iperf3 -J` client output; receiver-side throughput is the number that counts. */
export function parseIperf3Json(text: string): Iperf3Summary {
  let doc: {
    error?: string;
    end?: {
      sum_received?: { bits_per_second?: number; seconds?: number };
      sum_sent?: { bits_per_second?: number; retransmits?: number };
    };
  };
  try {
    doc = JSON.parse(text) as typeof doc;
  } catch {
    throw new Error(`iperf3 printed no JSON (is it iperf3 >= 3.1 with -J?): ${text.slice(0, 200)}`);
  }
  if (doc.error) throw new Error(`iperf3 failed: ${doc.error}`);
  const received = doc.end?.sum_received?.bits_per_second;
  if (typeof received !== 'number') throw new Error('iperf3 JSON has no end.sum_received.bits_per_second.');
  return {
    gbps: received / 1e9,
    senderGbps: (doc.end?.sum_sent?.bits_per_second ?? NaN) / 1e9,
    seconds: doc.end?.sum_received?.seconds ?? NaN,
    retransmits: doc.end?.sum_sent?.retransmits,
  };
}

export interface Iperf3Options {
  clientNs: string;
  serverAddr: string;
  streams: number;
  seconds: number;
  /** Seconds at the start left out of the result (TCP slow start, tunnel handshake). Default 1. */
  omit?: number;
  port?: number;
}

/** One iperf3 TCP client run from clientNs; returns receiver-side Gbit/s. */
export async function measureIperf3(ctx: IperfContext, opts: Iperf3Options): Promise<number> {
  return (await runIperf3(ctx, opts)).gbps;
}

type IperfContext = Pick<BenchContext, 'defer' | 'log' | 'signal' | 'tmpdir'>;
let clientRuns = 0;

/**
 * The client runs as a tracked background process (not a plain child) so a signal or timeout stops
 * it by PID; otherwise it would outlive the run, spinning against a deleted namespace.
 */
export async function runIperf3(ctx: IperfContext, opts: Iperf3Options): Promise<Iperf3Summary> {
  const omit = opts.omit ?? 1;
  const argv = [
    'ip', 'netns', 'exec', opts.clientNs,
    'iperf3', '-c', opts.serverAddr, '-p', String(opts.port ?? IPERF3_PORT),
    '-P', String(opts.streams), '-t', String(opts.seconds), '-O', String(omit), '-J', '--connect-timeout', '3000',
  ]; // prettier-ignore
  const client = await startBackground(ctx, argv, `${ctx.tmpdir}/iperf3-client-${++clientRuns}.log`);
  const deadline = Date.now() + (opts.seconds + omit + 20) * 1000;
  try {
    while (await client.alive()) {
      if (ctx.signal.aborted) throw new Error('interrupted');
      if (Date.now() > deadline)
        throw new Error(`${argv.join(' ')} did not finish in time (log: ${client.logFile}).`);
      await sleep(100);
    }
  } finally {
    await client.stop();
  }
  const text = await readFile(client.logFile, 'utf8');
  // stdout and stderr share the log; the JSON document is everything from the first brace.
  const start = text.indexOf('{');
  if (start < 0) throw new Error(`${argv.join(' ')} printed no JSON: ${text.trim().slice(0, 300)}`);
  return parseIperf3Json(text.slice(start));
}

/** Starts `iperf3 -s` in a namespace and waits until it listens. */
export async function startIperf3Server(
  ctx: IperfContext,
  ns: string,
  port = IPERF3_PORT,
): Promise<BackgroundProcess> {
  const proc = await startBackground(
    ctx,
    ['ip', 'netns', 'exec', ns, 'iperf3', '-s', '-p', String(port)],
    `${ctx.tmpdir}/iperf3-${ns}-${port}.log`,
  );
  await waitFor(`iperf3 -s to listen on port ${port} in ${ns} (log: ${proc.logFile})`, async () => {
    if (!(await proc.alive())) throw new Error(`iperf3 -s in ${ns} exited: ${await tail(proc.logFile)}`);
    const ss = await run(['ip', 'netns', 'exec', ns, 'ss', '-Htln', `sport = :${port}`], {
      allowFailure: true,
    });
    return ss.stdout.trim() !== '';
  });
  return proc;
}

// ---------- the shared throughput protocol ----------

export interface ThroughputPlan {
  runs: number;
  seconds: number;
}

export function throughputPlan(quick: boolean): ThroughputPlan {
  return quick ? { runs: 1, seconds: 3 } : { runs: 3, seconds: 5 };
}

export interface ThroughputResult {
  streams: number;
  gbps: number;
  samples: number[];
  cpuSecondsPerGbit: number;
  cpuSamples: number[];
  plan: ThroughputPlan;
}

/**
 * The one throughput protocol: `plan.runs` iperf3 runs of `plan.seconds` (after 1 s omitted),
 * median Gbit/s and median whole-machine CPU seconds per Gbit. An iperf3 server must already
 * listen on serverAddr (startIperf3Server).
 */
export async function measureThroughput(
  ctx: IperfContext & Pick<BenchContext, 'quick'>,
  opts: { clientNs: string; serverAddr: string; streams: number; label: string; plan?: ThroughputPlan },
): Promise<ThroughputResult> {
  const plan = opts.plan ?? throughputPlan(ctx.quick);
  const samples: number[] = [];
  const cpuSamples: number[] = [];
  for (let i = 0; i < plan.runs; i++) {
    if (ctx.signal.aborted) throw new Error('interrupted');
    const m = await withMachineCpu(() =>
      runIperf3(ctx, {
        clientNs: opts.clientNs,
        serverAddr: opts.serverAddr,
        streams: opts.streams,
        seconds: plan.seconds,
      }),
    );
    samples.push(m.value.gbps);
    cpuSamples.push(cpuSecondsPerGbit(m.cpuSeconds, m.wallSeconds, m.value.gbps));
    ctx.log(
      `${opts.label}, ${opts.streams} stream(s), run ${i + 1}/${plan.runs}: ${m.value.gbps.toFixed(3)} Gbit/s, ` +
        `${(m.cpuSeconds / m.wallSeconds).toFixed(2)} cores busy`,
    );
  }
  return {
    streams: opts.streams,
    gbps: median(samples),
    samples,
    cpuSecondsPerGbit: median(cpuSamples),
    cpuSamples,
    plan,
  };
}

// ---------- anchors, for modules computing ratios ----------

export function anchorOf(
  anchors: readonly AnchorResult[],
  name: AnchorName,
  streams: number,
): AnchorResult | undefined {
  return anchors.find((a) => a.anchor === name && a.streams === streams);
}

export function anchorRowName(name: AnchorName, streams: number): string {
  return `${name}, ${streams} stream${streams === 1 ? '' : 's'}`;
}

/** ratio field for a throughput row: value / the anchor's Gbit/s (undefined if that anchor failed). */
export function throughputRatio(
  anchors: readonly AnchorResult[],
  name: AnchorName,
  streams: number,
  gbps: number,
): BenchRow['ratio'] {
  const a = anchorOf(anchors, name, streams);
  return a && a.gbps > 0 ? { against: anchorRowName(name, streams), value: gbps / a.gbps } : undefined;
}

/** ratio field for a CPU-per-Gbit row against the anchor's CPU-per-Gbit. */
export function cpuRatio(
  anchors: readonly AnchorResult[],
  name: AnchorName,
  streams: number,
  cpuPerGbit: number,
): BenchRow['ratio'] {
  const a = anchorOf(anchors, name, streams);
  return a && a.cpuSecondsPerGbit > 0
    ? { against: `${anchorRowName(name, streams)}, CPU`, value: cpuPerGbit / a.cpuSecondsPerGbit }
    : undefined;
}

export const GBPS = 'Gbit/s';
export const CPU_PER_GBIT = 'CPU-s/Gbit';

/** Formats a result as rows: throughput and CPU per Gbit, with notes listing the samples. */
export function throughputRows(
  group: string,
  name: string,
  r: ThroughputResult,
  ratios: { gbps?: BenchRow['ratio']; cpu?: BenchRow['ratio'] } = {},
): BenchRow[] {
  const of = `median of ${r.plan.runs}×${r.plan.seconds} s`;
  return [
    {
      group,
      name,
      value: r.gbps,
      unit: GBPS,
      ratio: ratios.gbps,
      note: `${of}: ${r.samples.map((s) => s.toFixed(3)).join(' / ')}`,
      status: 'ok',
    },
    {
      group,
      name: `${name}, CPU`,
      value: r.cpuSecondsPerGbit,
      unit: CPU_PER_GBIT,
      ratio: ratios.cpu,
      note: `whole machine, ${of}`,
      status: 'ok',
    },
  ];
}
