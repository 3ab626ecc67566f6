// Preloaded into the helper by idle.bench.ts when BENCH_IDLE_CPU_PROFILE is set (NODE_OPTIONS=--import):
// the first SIGUSR2 starts V8's CPU profiler, the second writes the profile to that folder. The
// bench signals around its measuring window, so start-up is left out.
import { writeFileSync } from 'node:fs';
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
  });
  running = false;
});
