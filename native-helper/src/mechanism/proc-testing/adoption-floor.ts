// Benchmark of the adoption path: exec event from the kernel → process written into a cgroup.
import { randomInt } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { run } from '../exec.ts';
import { ensureCgroup, findCgroup2Mount, removeCgroupTree, cgroupOfPid } from '../cgroup/index.ts';
import { ProcEvents } from '../proc/events.ts';
import { percentiles } from '../proc/latency.ts';
import type { Percentiles } from '../proc/latency.ts';

export interface AdoptionLatencyOptions {
  /** Where to move the processes; default: a temporary cgroup switchyard.bench-<random> removed afterwards. */
  cgroupPath?: string;
  /** Passed to ProcEvents (the initial netns path). */
  netnsPath?: string;
  /** Pause between spawns, so we measure adoption rather than queueing behind a burst. */
  intervalMs?: number;
}

export interface AdoptionLatency {
  spawned: number;
  adopted: number;
  /** Kernel exec timestamp → cgroup.procs write returned, in microseconds. */
  latencyUs: Percentiles;
  /** The part before the write: exec timestamp → event handled in JS (delivery + /proc match). */
  deliveryUs: Percentiles;
  /** The cgroup.procs write alone (the kernel's migration cost). */
  writeUs: Percentiles;
}

/**
 * Has a shell spawn n short `sleep` processes with a unique argument; on each exec event whose command line
 * matches (read from /proc, as the helper must), writes the pid to cgroup.procs and records the time
 * since the kernel's exec timestamp (both CLOCK_MONOTONIC). Needs root.
 */
export async function measureAdoptionLatency(
  n: number,
  opts: AdoptionLatencyOptions = {},
): Promise<AdoptionLatency> {
  const mount = await findCgroup2Mount();
  const temporary = !opts.cgroupPath;
  const cgroupPath = opts.cgroupPath ?? path.join(mount, `switchyard.bench-${randomInt(1e9)}`);
  const home = path.join(mount, (await cgroupOfPid(process.pid)) ?? '/');
  const procsFile = path.join(cgroupPath, 'cgroup.procs');
  // A unique duration doubles as the marker: sleep 0.2NNNNNN.
  const marker = `0.2${String(randomInt(1e6)).padStart(6, '0')}`;
  const expected = `sleep\0${marker}\0`;
  const samples: number[] = [];
  const delivery: number[] = [];
  const writes: number[] = [];
  const events = new ProcEvents();
  await ensureCgroup(cgroupPath);
  try {
    events.on('exec', (ev) => {
      if (ev.pid !== ev.tgid) return;
      let cmdline: string;
      try {
        cmdline = readFileSync(`/proc/${ev.pid}/cmdline`, 'utf8');
      } catch {
        return; // already gone
      }
      if (cmdline !== expected) return;
      const matched = process.hrtime.bigint();
      try {
        writeFileSync(procsFile, `${ev.pid}\n`);
      } catch {
        return;
      }
      const written = process.hrtime.bigint();
      samples.push(Number(written - ev.timestampNs) / 1000);
      delivery.push(Number(matched - ev.timestampNs) / 1000);
      writes.push(Number(written - matched) / 1000);
    });
    events.start(opts.netnsPath ? { netnsPath: opts.netnsPath } : {});
    // A separate spawner, like apps started by the desktop: forking from here would block our own
    // event loop and measure that instead.
    const interval = ((opts.intervalMs ?? 20) / 1000).toFixed(3);
    const script = `i=0; while [ $i -lt "$0" ]; do sleep "$1" & sleep "$2"; i=$((i+1)); done; wait`;
    await run(['sh', '-c', script, String(n), marker, interval], { timeoutMs: 60_000 + n * 1000 });
    await delay(50); // let the last events drain
  } finally {
    events.stop();
    if (temporary) await removeCgroupTree(cgroupPath, { moveTo: home });
  }
  return {
    spawned: n,
    adopted: samples.length,
    latencyUs: percentiles(samples),
    deliveryUs: percentiles(delivery),
    writeUs: percentiles(writes),
  };
}
