// An idle helper: RSS and CPU of the helper (and anything it started) with 100 apps in its catalog,
// half of them with a policy (blocked), and the lab running, over 60 s (10 s in quick mode).
// Targets from issue 16: RSS under 80 MB, CPU under 0.5 % of one core.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Lab } from '../lab/lab.ts';
import { RunningHelper } from '../lab/switchyard-helper.ts';
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
  const lab = await Lab.up({ prefix: Lab.randomPrefix() });
  ctx.defer('idle lab', () => lab.down().then(() => undefined));
  // BENCH_IDLE_CPU_PROFILE=DIR: the helper writes a V8 CPU profile of the idle window there (perf work).
  const profileDir = process.env.BENCH_IDLE_CPU_PROFILE;
  const helper = new RunningHelper(
    lab,
    profileDir
      ? { wrap: ['env', `BENCH_IDLE_CPU_PROFILE=${profileDir}`, `NODE_OPTIONS=--import ${PROFILER}`] }
      : {},
  );
  await helper.start();
  ctx.defer('idle helper', () => helper.stop().then(() => undefined));
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
  ctx.log(`${listed.length} apps in the catalog (${APPS} added); settling 5 s`);
  await sleep(5000); // start-up work (catalog scan, first apply) is not idle

  const pids = descendantsOf(helper.pid!, parentLinks());
  const seconds = ctx.quick ? 10 : 60;
  if (profileDir) process.kill(helper.pid!, 'SIGUSR2');
  const cpu0 = await treeCpuSeconds(pids);
  const t0 = process.hrtime.bigint();
  let peakRss = 0;
  const rssSamples: number[] = [];
  for (let s = 0; s < seconds; s++) {
    if (ctx.signal.aborted) throw new Error('interrupted');
    await sleep(1000);
    const rss = pids.reduce((n, p) => n + rssBytes(p), 0);
    rssSamples.push(rss);
    peakRss = Math.max(peakRss, rss);
  }
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu1 = await treeCpuSeconds(pids);
  const commandSeconds = cpu1.commands - cpu0.commands;
  const cpuSeconds = cpu1.own - cpu0.own + commandSeconds;
  const cpuPercent = (100 * cpuSeconds) / wall;
  if (profileDir) {
    process.kill(helper.pid!, 'SIGUSR2');
    const file = `${profileDir}/helper-${helper.pid}.cpuprofile`;
    for (let i = 0; i < 50 && !existsSync(file); i++) await sleep(100);
    ctx.log(`CPU profile of the idle window: ${file}\n${topSelfTime(readFileSync(file, 'utf8'))}`);
  }
  const endRss = rssSamples.at(-1)!;
  // Which process holds the memory: the helper's node or something it started.
  const each = pids
    .map((p) => `${readFileSync(`/proc/${p}/comm`, 'utf8').trim()} ${(rssBytes(p) / MB).toFixed(1)}`)
    .join(', ');
  ctx.log(
    `over ${wall.toFixed(1)} s: ${cpuSeconds.toFixed(2)} CPU-s (${cpuPercent.toFixed(2)} %), RSS ${(endRss / MB).toFixed(1)} MB (peak ${(peakRss / MB).toFixed(1)})`,
  );
  const of = `${pids.length} process(es), ${listed.length} apps (${APPS / 2} blocked), lab running, over ${seconds} s`;
  return [
    {
      group: GROUP,
      name: 'idle helper RSS, peak',
      value: peakRss / MB,
      unit: 'MB',
      target: { max: 80, label: '< 80 MB' },
      note: `${of}; at the end ${(endRss / MB).toFixed(1)} MB (${each} MB)`,
    },
    {
      group: GROUP,
      name: 'idle helper CPU',
      value: cpuPercent,
      unit: '% of a core',
      target: { max: 0.5, label: '< 0.5 %' },
      note: `${cpuSeconds.toFixed(2)} CPU-s in ${wall.toFixed(1)} s, of which ${commandSeconds.toFixed(2)} in commands it ran (nft, ip; clock ticks of 10 ms); ${of}`,
    },
  ];
}
