import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { run } from '../../native-helper/src/mechanism/exec.ts';
import {
  Cleanups,
  backgroundProcessesIn,
  cpuSecondsPerGbit,
  cpuTimeOf,
  median,
  ownAndChildrenCpuSeconds,
  parseIperf3Json,
  parseProcPidStat,
  parseProcStat,
  startBackground,
  throughputRatio,
  type AnchorResult,
} from './harness.ts';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');

describe('median', () => {
  it('takes the middle of an odd count and the mean of the two middles of an even count, unsorted input', () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([7])).toBe(7);
  });
  it('refuses an empty sample set', () => {
    expect(() => median([])).toThrow(/no samples/);
  });
});

describe('parseIperf3Json (real iperf3 3.12 output)', () => {
  it('reports the receiver-side aggregate of all streams, not one stream or the sender', () => {
    const text = fixture('iperf3-two-streams.json');
    const doc = JSON.parse(text) as { end: { streams: { receiver: { bits_per_second: number } }[] } };
    const perStream = doc.end.streams.map((s) => s.receiver.bits_per_second / 1e9);
    const summary = parseIperf3Json(text);
    expect(perStream).toHaveLength(2);
    expect(summary.gbps).toBeCloseTo(perStream[0]! + perStream[1]!, 3);
    expect(summary.senderGbps).toBeGreaterThanOrEqual(summary.gbps);
    expect(summary.seconds).toBeGreaterThan(0.9);
  });
  it("turns iperf3's error field into an error", () => {
    expect(() => parseIperf3Json(fixture('iperf3-refused.json'))).toThrow(
      /iperf3 failed: unable to connect.*refused/,
    );
  });
  it('explains output that is not JSON', () => {
    expect(() => parseIperf3Json('iperf3: error - bad option')).toThrow(/no JSON/);
  });
});

describe('CPU accounting parsers', () => {
  it('sums busy time from /proc/stat and leaves idle and iowait out of busy', () => {
    const text = 'cpu  100 10 50 800 40 5 15 0 0 0\ncpu0 50 5 25 400 20 2 8 0 0 0\nintr 1\n';
    expect(parseProcStat(text, 100)).toEqual({ busySeconds: 1.8, totalSeconds: 10.2 });
  });
  it("reads utime+stime and the reaped children's of a process whose name holds spaces and parentheses", () => {
    const fields = Array.from({ length: 50 }, (_, i) => String(i + 3)); // fields 3..52 hold their own number
    const { cpuSeconds, childrenCpuSeconds, startTicks } = parseProcPidStat(
      `42 (a) b (c)) ${fields.join(' ')}`,
      100,
    );
    expect(cpuSeconds).toBeCloseTo((14 + 15) / 100);
    expect(childrenCpuSeconds).toBeCloseTo((16 + 17) / 100);
    expect(startTicks).toBe(22);
  });
  it('counts the CPU of children once they are reaped (live kernel)', async () => {
    const before = await ownAndChildrenCpuSeconds();
    await run(['sh', '-c', 'i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done']);
    expect((await ownAndChildrenCpuSeconds()) - before).toBeGreaterThanOrEqual(0.05);
  });
  it('reads its own /proc/self/stat (live kernel)', () => {
    const { cpuSeconds } = parseProcPidStat(readFileSync('/proc/self/stat', 'utf8'), 100);
    expect(cpuSeconds).toBeGreaterThan(0);
  });
  it('expresses cost as CPU seconds per Gbit (= cores per Gbit/s)', () => {
    expect(cpuSecondsPerGbit(6, 3, 0.5)).toBe(4); // 2 cores busy for 0.5 Gbit/s
    expect(cpuSecondsPerGbit(1, 3, 0)).toBeNaN();
  });
});

describe('throughputRatio', () => {
  const anchors: AnchorResult[] = [
    { anchor: 'veth', streams: 1, gbps: 10, cpuSecondsPerGbit: 0.1, samples: [10] },
  ];
  it('divides by the matching anchor and names it', () => {
    expect(throughputRatio(anchors, 'veth', 1, 2.5)).toEqual({ against: 'veth, 1 stream', value: 0.25 });
  });
  it('gives no ratio when that anchor was not measured', () => {
    expect(throughputRatio(anchors, 'openvpn', 1, 2.5)).toBeUndefined();
  });
});

describe('Cleanups', () => {
  it('runs children before parents, newest first, each once, and collects errors', async () => {
    const order: string[] = [];
    const root = new Cleanups();
    root.add('first', () => order.push('root-first'));
    root.add('broken', () => {
      throw new Error('boom');
    });
    const child = root.child();
    child.add('a', () => order.push('child-a'));
    const forget = child.add('gone', () => order.push('never'));
    child.add('b', () => order.push('child-b'));
    forget();
    const errors = await root.runAll();
    expect(order).toEqual(['child-b', 'child-a', 'root-first']);
    expect(errors.map((e) => e.message)).toEqual(['cleanup "broken" failed: boom']);
    expect(await root.runAll()).toEqual([]);
    expect(order).toHaveLength(3);
  });
  it('serializes concurrent runs so an entry never starts before the one above it finished', async () => {
    const order: string[] = [];
    const c = new Cleanups();
    c.add('delete namespace', () => order.push('namespace'));
    c.add('stop process', async () => {
      await new Promise((r) => setTimeout(r, 20));
      order.push('process');
    });
    await Promise.all([c.runAll(), c.runAll()]);
    expect(order).toEqual(['process', 'namespace']);
  });
  it('once closed, runs late registrations immediately', async () => {
    const c = new Cleanups();
    await c.runAll(undefined, { close: true });
    let ran = false;
    c.child().add('late', () => (ran = true));
    await new Promise((r) => setTimeout(r, 0));
    expect(ran).toBe(true);
  });
});

describe('startBackground (real processes, no root)', () => {
  it('returns the PID of the program itself, stops it by PID and unregisters its cleanup', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'syb-test-'));
    const cleanups = new Cleanups();
    const ctx = { defer: cleanups.add.bind(cleanups), log: () => {}, signal: new AbortController().signal };
    try {
      const proc = await startBackground(ctx, ['sleep', '30'], join(dir, 'sleep.log'));
      expect(readFileSync(`/proc/${proc.pid}/comm`, 'utf8').trim()).toBe('sleep');
      expect(await proc.alive()).toBe(true);
      expect(await cpuTimeOf(proc.pid)).toBeGreaterThanOrEqual(0);
      expect(cleanups.pending).toBe(1);
      await proc.stop();
      expect(await proc.alive()).toBe(false);
      expect(cleanups.pending).toBe(0);
    } finally {
      await cleanups.runAll();
      rmSync(dir, { recursive: true, force: true });
    }
  });
  it('refuses to start anything once interrupted', async () => {
    const abort = new AbortController();
    abort.abort();
    const ctx = { defer: () => () => {}, log: () => {}, signal: abort.signal };
    await expect(startBackground(ctx, ['sleep', '30'], '/dev/null')).rejects.toThrow(/interrupted/);
  });
  it('finds tracked processes by the namespace they were started in', () => {
    expect(backgroundProcessesIn('syb-no-such-namespace')).toEqual([]);
  });
});
