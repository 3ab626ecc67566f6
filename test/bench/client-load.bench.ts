// What hostile clients cost the helper: its descriptors and memory while 10,000 connections are
// attempted (20 group members × 500, held), and while 100 clients pipeline requests and never read.
// The anchor is the same helper idle, measured in this run; the bound is the one docs/security.md
// sets (64 MiB queued + 32 MiB unfinished input), plus 64 MiB for the garbage collector's slack.
import { readFileSync, readdirSync } from 'node:fs';
import { run } from '../../native-helper/src/mechanism/exec.ts';
import { Lab } from '../lab/lab.ts';
import { NEVER_READS, holdConnections } from '../lab/socket-clients.ts';
import { RunningHelper } from '../lab/switchyard-helper.ts';
import type { BenchContext, BenchRow } from './harness.ts';

const GROUP = 'helper under client load';
const MiB = 1 << 20;
const BOUND_OVER_IDLE = 160 * MiB;

function rss(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmRSS:'));
  return Number(line?.split(/\s+/)[1] ?? 0) * 1024;
}

const fds = (pid: number) => readdirSync(`/proc/${pid}/fd`).length;

/** Peak RSS and descriptors of pid while fn runs (sampled every 50 ms). */
async function peakDuring<T>(
  pid: number,
  fn: () => Promise<T>,
): Promise<{ result: T; rss: number; fds: number }> {
  let peak = { rss: rss(pid), fds: fds(pid) };
  const t = setInterval(() => {
    peak = { rss: Math.max(peak.rss, rss(pid)), fds: Math.max(peak.fds, fds(pid)) };
  }, 50);
  try {
    const result = await fn();
    return { result, ...peak };
  } finally {
    clearInterval(t);
  }
}

export async function benchClientLoad(ctx: BenchContext): Promise<BenchRow[]> {
  const lab = await Lab.up({ prefix: Lab.randomPrefix() });
  ctx.defer('client-load lab', () => lab.down().then(() => undefined));
  const helper = new RunningHelper(lab);
  await helper.start();
  ctx.defer('client-load helper', () => helper.stop().then(() => undefined));
  const pid = helper.pid!;
  await new Promise((r) => setTimeout(r, 2000)); // settle after start-up
  const idle = { rss: rss(pid), fds: fds(pid) };

  const uids = Array.from({ length: 20 }, (_, i) => 61000 + i);
  const flood = await peakDuring(pid, () =>
    Promise.all(uids.map((uid) => holdConnections(helper.socket, uid, 500, 4000))),
  );
  const held = flood.result.reduce((n, r) => n + r.open, 0);
  await helper.cli(['status']);

  const slow = await peakDuring(pid, () =>
    run([process.execPath, '-e', NEVER_READS, helper.socket, '2000', '100', '15000'], { timeoutMs: 60_000 }),
  );
  const dropped = (helper.log().match(/dropped a client .*(stopped reading|not reading)/g) ?? []).length;
  await helper.cli(['status']);
  ctx.log(
    `held ${held} of 10000; dropped ${dropped} of 100 slow clients; idle ${(idle.rss / MiB).toFixed(1)} MiB`,
  );

  const mib = (b: number) => b / MiB;
  return [
    {
      group: GROUP,
      name: 'idle helper RSS',
      value: mib(idle.rss),
      unit: 'MiB',
      note: `${idle.fds} descriptors`,
    },
    {
      group: GROUP,
      name: '10,000 connections: peak RSS',
      value: mib(flood.rss),
      unit: 'MiB',
      ratio: { against: 'idle helper RSS', value: flood.rss / idle.rss },
      note: `${held} held open at once (20 uids × 500 tried)`,
    },
    {
      group: GROUP,
      name: '10,000 connections: peak descriptors',
      value: flood.fds,
      unit: 'fds',
      ratio: { against: 'idle descriptors', value: flood.fds / idle.fds },
      note: `idle ${idle.fds}`,
    },
    {
      group: GROUP,
      name: '100 clients that never read: peak RSS',
      value: mib(slow.rss),
      unit: 'MiB',
      ratio: { against: 'idle helper RSS', value: slow.rss / idle.rss },
      note: `bound ${mib(idle.rss + BOUND_OVER_IDLE).toFixed(0)} MiB (${slow.rss <= idle.rss + BOUND_OVER_IDLE ? 'met' : 'NOT met'}); ${dropped} dropped`,
    },
  ];
}
