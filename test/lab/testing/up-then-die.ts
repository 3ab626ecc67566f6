// Test fixture: bring a lab up, then die in the way given, to prove the lab cleans up after itself.
// Usage: up-then-die.ts <prefix> throw|sigterm|sigint|exit|sigkill
import { Lab } from '../lab.ts';

const [prefix, how] = process.argv.slice(2);
if (!prefix || !how) {
  console.error('usage: up-then-die.ts <prefix> throw|sigterm|sigint|exit|sigkill');
  process.exit(2);
}
await Lab.up({ prefix, uplinks: 1 });
console.log(`up ${prefix}`);
if (how === 'throw') throw new Error('deliberate uncaught failure');
if (how === 'sigterm') process.kill(process.pid, 'SIGTERM');
if (how === 'sigint') process.kill(process.pid, 'SIGINT');
if (how === 'exit') process.exit(0);
if (how === 'sigkill') process.kill(process.pid, 'SIGKILL'); // no cleanup possible: `down --stale` must do it
// Keep the event loop alive until the signal arrives.
setTimeout(() => process.exit(3), 30_000);
