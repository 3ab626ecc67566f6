// An idle helper: RSS and CPU of the helper (and anything it started) with 100 apps in its catalog,
// half of them with a policy (blocked), and the lab running, over 60 s (10 s in quick mode).
// Targets from issue 16: RSS under 80 MB, CPU under 0.5 % of one core, for the packaged helper (the
// bundle on the Node runtime the package carries, what users run); the checkout's (tsx) for comparison.
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleHelper } from '../../build/package/bundle-helper.ts';
import { launcherScript } from '../../build/package/node-flags.ts';
import { packagedRuntime } from '../../build/package/runtime.ts';
import { Lab } from '../lab/lab.ts';
import { REPO, RunningHelper } from '../lab/switchyard-helper.ts';
import { output } from '../../native-helper/src/mechanism/exec.ts';
import { type BenchContext, type BenchRow, parseProcPidStat, sleep } from './harness.ts';

const GROUP = 'helper idle';
const PROFILER = fileURLToPath(new URL('./idle-profiler.mjs', import.meta.url));
const APPS = 100;
const MB = 1e6;

/** pid and every process below it (the helper's data paths, if any), from /proc's parent links. */
export function descendantsOf(pid: number, parents: ReadonlyMap<number, number>): number[] {
  const out = [pid];
  for (let i = 0; i < out.length; i++)
    for (const [child, parent] of parents) if (parent === out[i] && !out.includes(child)) out.push(child);
  return out;
}

function parentLinks(): Map<number, number> {
  const links = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      links.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // gone meanwhile
    }
  }
  return links;
}

/** The command name of a process, or '?' when it is gone meanwhile. */
function commOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '?';
  }
}

/**
 * The package's layout in a temporary folder: the bundle, the runtime and the built parts it loads
 * beside it (linked from the checkout, where `npm run build` put them), and the package's launcher
 * (/usr/bin/switchyard, with the helper's Node options). Returns the launcher.
 */
async function packagedHelper(dir: string): Promise<string[]> {
  await bundleHelper(dir, 'bench');
  const parts: Record<string, string> = {
    'switchyard_native.node': 'native-helper/native/build/Release/switchyard_native.node',
    'switchyard-datapath': 'native-helper/native/datapath/build/switchyard-datapath',
    'bpf/sock_tag.bpf.o': 'native-helper/bpf/sock_tag.bpf.o',
    'bpf/flow_rules.bpf.o': 'native-helper/bpf/flow_rules.bpf.o',
    'bpf/flowmark.bpf.o': 'native-helper/native/datapath/build/flowmark.bpf.o',
  };
  for (const [to, from] of Object.entries(parts)) {
    mkdirSync(dirname(join(dir, to)), { recursive: true });
    symlinkSync(join(REPO, from), join(dir, to));
  }
  symlinkSync(await packagedRuntime(), join(dir, 'node'));
  const launcher = join(dir, 'switchyard');
  writeFileSync(launcher, launcherScript(dir));
  chmodSync(launcher, 0o755);
  return [launcher];
}

function rssBytes(pid: number): number {
  try {
    const line = readFileSync(`/proc/${pid}/status`, 'utf8')
      .split('\n')
      .find((l) => l.startsWith('VmRSS:'));
    return Number(line?.split(/\s+/)[1] ?? 0) * 1024;
  } catch {
    return 0;
  }
}

/** CPU of the processes themselves and of the commands they ran and reaped (an `nft` or `ip` per poll). */
async function treeCpuSeconds(pids: readonly number[]): Promise<{ own: number; commands: number }> {
  const ticks = Number((await output(['getconf', 'CLK_TCK'])).trim()) || 100;
  const sum = { own: 0, commands: 0 };
  for (const pid of pids) {
    try {
      const s = parseProcPidStat(readFileSync(`/proc/${pid}/stat`, 'utf8'), ticks);
      sum.own += s.cpuSeconds;
      sum.commands += s.childrenCpuSeconds;
    } catch {
      // gone meanwhile
    }
  }
  return sum;
}

/** CPU seconds of each thread of a process, by thread name (V8's, libuv's, the addon's readers). */
function threadCpuSeconds(pid: number, ticks: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      out.set(name, (out.get(name) ?? 0) + parseProcPidStat(stat, ticks).cpuSeconds);
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** process.memoryUsage() and V8's heap spaces (committed/used) in MB, on one line. */
export function describeMemory(json: string): string {
  const m = JSON.parse(json) as {
    usage: Record<string, number>;
    spaces: Record<string, { size: number; used: number }>;
    mappings?: Record<string, number>;
  };
  const mb = (n: number) => (n / MB).toFixed(1);
  const usage = Object.entries(m.usage).map(([k, v]) => `${k} ${mb(v)}`);
  const spaces = Object.entries(m.spaces)
    .filter(([, s]) => s.size > 0)
    .map(([k, s]) => `${k} ${mb(s.size)}/${mb(s.used)}`);
  const mappings = Object.entries(m.mappings ?? {})
    .sort((a, b) => b[1] - a[1])
    .slice(0, 6)
    .map(([k, v]) => `${k.replace(/^.*\//, '')} ${mb(v)}`);
  return `${usage.join(', ')}; heap spaces committed/used: ${spaces.join(', ')}${mappings.length ? `; resident by mapping: ${mappings.join(', ')}` : ''}`;
}

/** The functions with the most self time in a .cpuprofile, one per line (for the log). */
export function topSelfTime(profileJson: string, n = 15): string {
  const p = JSON.parse(profileJson) as {
    nodes: { hitCount?: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
  };
  const total = p.nodes.reduce((s, x) => s + (x.hitCount ?? 0), 0) || 1;
  const by = new Map<string, number>();
  for (const x of p.nodes) {
    const f = x.callFrame;
    const key = `${f.functionName || '(anonymous)'} ${f.url.replace(/^.*\/work\/main\//, '')}:${f.lineNumber + 1}`;
    by.set(key, (by.get(key) ?? 0) + (x.hitCount ?? 0));
  }
  return [...by]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([k, v]) => `  ${((100 * v) / total).toFixed(1).padStart(5)} %  ${k}`)
    .join('\n');
}

export async function benchIdle(ctx: BenchContext): Promise<BenchRow[]> {
  const dir = join(ctx.tmpdir, 'idle-package');
  const packaged = await packagedHelper(dir);
  return [
    ...(await measureIdle(ctx, 'packaged', packaged)),
    ...(await measureIdle(ctx, 'checkout, tsx', null)),
  ];
}

/** One helper in its own lab: catalog filled, settled, then measured with nobody subscribed. */
async function measureIdle(ctx: BenchContext, label: string, command: string[] | null): Promise<BenchRow[]> {
  const isTarget = command !== null;
  const lab = await Lab.up({ prefix: Lab.randomPrefix() });
  ctx.defer(`idle lab (${label})`, () => lab.down().then(() => undefined));
  // BENCH_IDLE_CPU_PROFILE=DIR: the helper writes a V8 CPU profile of the idle window there (perf work).
  const profileDir = process.env.BENCH_IDLE_CPU_PROFILE;
  const helper = new RunningHelper(lab, {
    ...(command ? { command } : {}),
    ...(profileDir
      ? { wrap: ['env', `BENCH_IDLE_CPU_PROFILE=${profileDir}`, `NODE_OPTIONS=--import ${PROFILER}`] }
      : {}),
  });
  await helper.start();
  ctx.defer(`idle helper (${label})`, () => helper.stop().then(() => undefined));
  const client = await helper.client();
  try {
    for (let i = 0; i < APPS; i++) {
      const app = (await client.call('apps.add', {
        name: `Idle bench app ${i}`,
        matchers: { exe: [`/opt/switchyard-bench/idle-app-${i}`] },
      })) as { id: string };
      if (i % 2 === 0) await client.call('egress.set', { app: app.id, choice: { mode: 'block' } });
    }
  } finally {
    client.close();
  }
  const listed = (await (async () => {
    const c = await helper.client();
    try {
      return (await c.call('apps.list', {})) as unknown[];
    } finally {
      c.close();
    }
  })()) as unknown[];
  // Start-up work (catalog scan, first apply) is not idle, nor the 10 s of sampling after apps.list.
  ctx.log(`${label}: ${listed.length} apps in the catalog (${APPS} added); settling 12 s`);
  await sleep(12_000);

  const pids = descendantsOf(helper.pid!, parentLinks());
  const seconds = ctx.quick ? 10 : 60;
  if (profileDir) process.kill(helper.pid!, 'SIGUSR2');
  const cpu0 = await treeCpuSeconds(pids);
  const ticks = Number((await output(['getconf', 'CLK_TCK'])).trim()) || 100;
  const threads0 = threadCpuSeconds(helper.pid!, ticks);
  const t0 = process.hrtime.bigint();
  let peakRss = 0;
  let endRss = 0;
  let each = '';
  for (let s = 0; s < seconds; s++) {
    if (ctx.signal.aborted) throw new Error('interrupted');
    await sleep(1000);
    // Read the tree again each time: a restarted `ip monitor` is a new process.
    const now = descendantsOf(helper.pid!, parentLinks());
    endRss = now.reduce((n, p) => n + rssBytes(p), 0);
    peakRss = Math.max(peakRss, endRss);
    // Which process holds the memory: the helper's node or something it started.
    each = now.map((p) => `${commOf(p)} ${(rssBytes(p) / MB).toFixed(1)}`).join(', ');
  }
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu1 = await treeCpuSeconds(pids);
  const threads = [...threadCpuSeconds(helper.pid!, ticks)]
    .map(([name, s]) => [name, s - (threads0.get(name) ?? 0)] as const)
    .filter(([, s]) => s > 0)
    .sort((a, b) => b[1] - a[1])
    .map(([name, s]) => `${name} ${s.toFixed(2)}`)
    .join(', ');
  ctx.log(`${label}: CPU-s by thread of the helper: ${threads || 'none'}`);
  const commandSeconds = cpu1.commands - cpu0.commands;
  const cpuSeconds = cpu1.own - cpu0.own + commandSeconds;
  const cpuPercent = (100 * cpuSeconds) / wall;
  if (profileDir) {
    process.kill(helper.pid!, 'SIGUSR2');
    const file = `${profileDir}/helper-${helper.pid}.cpuprofile`;
    for (let i = 0; i < 50 && !existsSync(file); i++) await sleep(100);
    ctx.log(`${label}: CPU profile of the idle window: ${file}\n${topSelfTime(readFileSync(file, 'utf8'))}`);
    const memory = file.replace(/\.cpuprofile$/, '.memory.json');
    if (existsSync(memory))
      ctx.log(`${label}: memory at the end (MB): ${describeMemory(readFileSync(memory, 'utf8'))}`);
  }
  const heap = readFileSync(`/proc/${helper.pid}/status`, 'utf8').match(/VmHWM:\s+(\d+)/)?.[1];
  ctx.log(
    `${label}: over ${wall.toFixed(1)} s: ${cpuSeconds.toFixed(2)} CPU-s (${cpuPercent.toFixed(2)} %), RSS ${(endRss / MB).toFixed(1)} MB (peak ${(peakRss / MB).toFixed(1)}; node's high-water mark since start ${(Number(heap) / 1024).toFixed(1)} MiB)`,
  );
  const of = `${pids.length} process(es), ${listed.length} apps (${APPS / 2} blocked), lab running, nobody subscribed, over ${seconds} s`;
  const what = isTarget
    ? 'the bundle on the packaged Node runtime, as installed'
    : 'for comparison: the tsx launcher compiling the sources (the target is the packaged row)';
  return [
    {
      group: GROUP,
      name: `idle helper RSS, peak (${label})`,
      value: peakRss / MB,
      unit: 'MB',
      ...(isTarget ? { target: { max: 80, label: '< 80 MB' } } : {}),
      note: `${what}; ${of}; at the end ${(endRss / MB).toFixed(1)} MB (${each} MB)`,
    },
    {
      group: GROUP,
      name: `idle helper CPU (${label})`,
      value: cpuPercent,
      unit: '% of a core',
      ...(isTarget ? { target: { max: 0.5, label: '< 0.5 %' } } : {}),
      note: `${cpuSeconds.toFixed(2)} CPU-s in ${wall.toFixed(1)} s, of which ${commandSeconds.toFixed(2)} in commands it ran (nft, ip; clock ticks of 10 ms); ${of}`,
    },
  ];
}
