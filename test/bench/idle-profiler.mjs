// Preloaded into the helper by idle.bench.ts when BENCH_IDLE_CPU_PROFILE is set (NODE_OPTIONS=--import):
// the first SIGUSR2 starts V8's CPU profiler, the second writes the profile to that folder. The
// bench signals around its measuring window, so start-up is left out. With the profile it writes what
// the memory is made of (process.memoryUsage and V8's heap spaces) at that moment.
import { readFileSync, writeFileSync } from 'node:fs';
import { getHeapSpaceStatistics } from 'node:v8';
import { Session } from 'node:inspector';
import { join } from 'node:path';

const dir = process.env.BENCH_IDLE_CPU_PROFILE;
const session = new Session();
session.connect();
let running = false;
process.on('SIGUSR2', () => {
  if (!running) {
    session.post('Profiler.enable', () => session.post('Profiler.start'));
    running = true;
    return;
  }
  session.post('Profiler.stop', (err, result) => {
    if (!err) writeFileSync(join(dir, `helper-${process.pid}.cpuprofile`), JSON.stringify(result.profile));
    const spaces = Object.fromEntries(
      getHeapSpaceStatistics().map((s) => [s.space_name, { size: s.space_size, used: s.space_used_size }]),
    );
    // Resident memory by mapping (the node binary, the addon, anonymous memory: heap, malloc, stacks).
    const mappings = {};
    let name = '';
    for (const line of readFileSync('/proc/self/smaps', 'utf8').split('\n')) {
      const head = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
      if (head) name = head[1] || '[anon]';
      const rss = /^Rss:\s+(\d+) kB/.exec(line);
      if (rss) mappings[name] = (mappings[name] ?? 0) + Number(rss[1]) * 1024;
    }
    writeFileSync(
      join(dir, `helper-${process.pid}.memory.json`),
      JSON.stringify({ usage: process.memoryUsage(), spaces, mappings }),
    );
  });
  running = false;
});
