// Adoption latency: from a matching process's exec to its move into the app's cgroup, measured by the
// real helper in a lab (its `adoption` events carry exec-event → cgroup-write in µs). The floor, in the
// same run, is the mechanism alone: proc-connector delivery plus the cgroup write, with no helper logic.
import type { EventEnvelope } from '../../native-helper/src/api/schema.ts';
import { percentiles } from '../../native-helper/src/mechanism/proc/latency.ts';
import { measureAdoptionLatency } from '../../native-helper/src/mechanism/proc-testing/adoption-floor.ts';
import { Lab } from '../lab/lab.ts';
import { RunningHelper } from '../lab/switchyard-helper.ts';
import type { BenchContext, BenchRow } from './harness.ts';

const GROUP = 'adoption (exec → cgroup)';
const MARKER = '31.4159';
const SPACING_MS = 40;

export async function benchAdoption(ctx: BenchContext): Promise<BenchRow[]> {
  const n = ctx.quick ? 15 : 60;
  // The same cadence as the helper run below: the cgroup write's cost depends on how recently the
  // previous one happened (the kernel's threadgroup rwsem leaves its fast mode after an RCU grace period).
  const floor = await measureAdoptionLatency(n, { intervalMs: SPACING_MS });

  const lab = await Lab.up({ prefix: Lab.randomPrefix() });
  ctx.defer('adoption lab', () => lab.down().then(() => undefined));
  const helper = new RunningHelper(lab);
  await helper.start();
  ctx.defer('adoption helper', () => helper.stop().then(() => undefined));
  await helper.cli([
    'app',
    'add',
    '--name',
    'Bench sleeper',
    '--id',
    'bench-sleeper',
    '--cmdline',
    `^sleep ${MARKER.replace('.', '\\.')}$`,
  ]);

  const client = await helper.client();
  const seen = new Map<number, number>(); // pid → latency (µs); one sample per process
  client.onEvent((e: EventEnvelope) => {
    const d = e.data as { app?: string; via?: string; latencyUs?: number; pid?: number };
    if (e.event === 'adoption' && d.app === 'bench-sleeper' && d.via === 'exec' && !seen.has(d.pid!))
      seen.set(d.pid!, d.latencyUs!);
  });
  await client.subscribe(['adoption']);
  for (let i = 0; i < n; i++) {
    await lab.spawn('desktop', ['sleep', MARKER]);
    await new Promise((r) => setTimeout(r, SPACING_MS));
  }
  const deadline = Date.now() + 10_000;
  while (seen.size < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  client.close();

  const helperP = percentiles([...seen.values()]);
  const floorP = floor.latencyUs;
  const rows: BenchRow[] = [];
  for (const p of ['p50', 'p90', 'p99'] as const) {
    rows.push({
      group: GROUP,
      name: `helper, ${p}`,
      value: helperP[p],
      unit: 'µs',
      ratio: { against: `mechanism floor, ${p}`, value: helperP[p] / floorP[p] },
      note: p === 'p50' ? `${seen.size}/${n} processes adopted, ${SPACING_MS} ms apart` : undefined,
    });
    rows.push({ group: GROUP, name: `mechanism floor, ${p}`, value: floorP[p], unit: 'µs' });
  }
  return rows;
}
