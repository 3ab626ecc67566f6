// `npm run bench`: anchors first, then every module in registry.ts; prints a table and writes RESULTS.md.
// Exits non-zero only when the harness itself fails (including an anchor that cannot be measured,
// since every ratio depends on them); a failing module is a row in the table.
// `--only NAME` runs one module (plus the throughput anchors only if it uses them) and updates just its
// section of RESULTS.md. The run happens inside test/lab/fresh-mounts.sh, as the integration suites do:
// a private mount namespace without bpffs, so what a module pins lives in a bpffs of the run's own.
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { run } from '../../native-helper/src/mechanism/exec.ts';
import { supervisor } from '../../native-helper/src/mechanism/supervisor.ts';
import { measureAnchors } from './anchors.ts';
import { parseBenchArgs, USAGE } from './args.ts';
import {
  type AnchorResult,
  type BenchContext,
  type BenchRow,
  Cleanups,
  exists,
  FRESH_MOUNTS_ENV,
  sleep,
  throughputPlan,
  withMachineCpu,
} from './harness.ts';
import { namespacesWithPrefix } from './netns-pair.ts';
import { benchModules, type BenchModuleEntry } from './registry.ts';
import { describeMachine, mergeResultsMarkdown, renderConsoleTable } from './report.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const RESULTS = path.join(here, 'RESULTS.md');
const FRESH_MOUNTS = path.join(here, '../lab/fresh-mounts.sh');
const started = Date.now();

function logAs(name: string) {
  return (message: string) => {
    const t = ((Date.now() - started) / 1000).toFixed(1).padStart(6);
    process.stderr.write(`[${t}s ${name}] ${message}\n`);
  };
}

function fail(message: string): never {
  process.stderr.write(`\n*** bench: ${message}\n\n`);
  process.exit(1);
}

async function main(): Promise<number> {
  let args;
  try {
    args = parseBenchArgs(process.argv.slice(2), process.env);
  } catch (err) {
    fail(`${(err as Error).message}\n${USAGE}`);
  }
  if (args.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (process.getuid?.() !== 0) {
    fail(
      'npm run bench must run as root (it creates network namespaces, veths and tun devices); rerun with sudo.',
    );
  }
  const unknown = args.only.filter((n) => n !== 'anchors' && !benchModules.some((m) => m.name === n));
  if (unknown.length) {
    fail(
      `--only ${unknown.join(',')}: no such bench; known: anchors, ${benchModules.map((m) => m.name).join(', ')}.`,
    );
  }
  if (process.env[FRESH_MOUNTS_ENV] !== '1') return runInFreshMounts();
  for (const tool of ['ip', 'iperf3', 'ping', 'ss']) {
    const found = await run(['sh', '-c', 'command -v "$1"', 'sh', tool], { allowFailure: true });
    if (found.code !== 0)
      fail(`${tool} is not installed; the bench needs it (Debian packages iproute2, iperf3, iputils-ping).`);
  }

  const prefix = `syb${randomBytes(3).toString('hex')}`;
  const tmpRoot = await mkdtemp(path.join(os.tmpdir(), `${prefix}-`));
  const root = new Cleanups();
  const abort = new AbortController();
  const log = logAs('bench');
  let nameCounter = 0;

  const contextFor = async (
    name: string,
    scope: Cleanups,
    anchors: AnchorResult[],
  ): Promise<BenchContext> => {
    const tmpdir = path.join(tmpRoot, name);
    await mkdir(tmpdir, { recursive: true, mode: 0o700 });
    return {
      log: logAs(name),
      tmpdir,
      prefix,
      quick: args.quick,
      anchors,
      signal: abort.signal,
      defer: (label, fn) => scope.add(label, fn),
      uniqueName: (tag) => {
        const name = `${prefix}${(nameCounter++).toString(36)}${tag}`;
        if (name.length > 15)
          throw new Error(`name ${name} is longer than 15 characters; use a tag of at most 4.`);
        return name;
      },
    };
  };

  let cleaningUp: Promise<Error[]> | undefined;
  const cleanUpEverything = () =>
    (cleaningUp ??= root.runAll(log, { close: true }).then(async (errors) => {
      await rm(tmpRoot, { recursive: true, force: true });
      return errors;
    }));
  for (const [sig, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
    ['SIGHUP', 129],
  ] as const) {
    process.on(sig, () => {
      log(`${sig}: stopping, cleaning up what this run created…`);
      abort.abort();
      void cleanUpEverything().finally(() => process.exit(code));
    });
  }
  process.on('unhandledRejection', (err) => {
    log(`unhandled rejection: ${(err as Error)?.stack ?? String(err)}`);
    void cleanUpEverything().finally(() => process.exit(1));
  });

  const rows: BenchRow[] = [];
  let harnessError: string | undefined;
  try {
    log(`run ${prefix}: ${args.quick ? 'quick' : 'full'} mode, tmpdir ${tmpRoot}`);
    const machine = await describeMachine();
    // Other work on a shared machine skews every number; measure it so RESULTS.md can say so.
    const idle = await withMachineCpu(() => sleep(1000));
    const backgroundCores = idle.cpuSeconds / idle.wallSeconds;
    log(
      `machine: ${machine.cpu}, ${machine.cores} cores; ${backgroundCores.toFixed(2)} cores busy before the run`,
    );
    if (backgroundCores > 0.25 * machine.cores)
      log('warning: the machine is busy with other work; expect noisy numbers.');

    const selected = args.only.length ? benchModules.filter((m) => args.only.includes(m.name)) : benchModules;
    // A partial run skips the throughput anchors (about two minutes of iperf3) when no module it runs uses them.
    const anchorsWanted =
      !args.only.length || args.only.includes('anchors') || selected.some((m) => m.usesAnchors);
    const anchorScope = root.child();
    const anchorCtx = await contextFor('anchors', anchorScope, []);
    let anchors: AnchorResult[] = [];
    if (!anchorsWanted) log(`no throughput anchors: ${args.only.join(', ')} measure their own.`);
    try {
      const outcome = anchorsWanted ? await measureAnchors(anchorCtx) : { results: [], rows: [], failed: [] };
      anchors = outcome.results;
      rows.push(...outcome.rows);
      if (outcome.failed.length)
        harnessError = `anchor(s) ${outcome.failed.join(', ')} could not be measured (see table).`;
    } catch (err) {
      harnessError = `anchors: ${(err as Error).message}`;
      rows.push({
        group: 'anchors',
        name: 'setup',
        value: NaN,
        unit: '',
        note: (err as Error).message,
        status: 'failed',
      });
    } finally {
      for (const e of await anchorScope.runAll(anchorCtx.log)) harnessError ??= e.message;
    }

    for (const entry of selected) {
      if (abort.signal.aborted) break;
      const scope = root.child();
      const ctx = await contextFor(entry.name, scope, anchors);
      rows.push(...(await runModule(entry, ctx)));
      for (const e of await scope.runAll(ctx.log)) {
        rows.push({
          group: entry.name,
          name: 'cleanup',
          value: NaN,
          unit: '',
          note: e.message,
          status: 'failed',
        });
      }
    }

    const table = renderConsoleTable(rows);
    process.stdout.write(`\n${table}\n\n`);
    if (abort.signal.aborted) throw new Error('interrupted; RESULTS.md left as it was.');
    // A partial run replaces only its own sections; the rest of the file stays as the last run left it.
    const previous = args.only.length ? await readFile(RESULTS, 'utf8').catch(() => null) : null;
    await writeFile(
      RESULTS,
      mergeResultsMarkdown(previous, {
        date: new Date(),
        machine,
        quick: args.quick,
        only: args.only,
        plan: throughputPlan(args.quick),
        rows,
        backgroundCores,
      }),
    );
    log(`wrote ${path.relative(process.cwd(), RESULTS)}`);
  } catch (err) {
    harnessError = (err as Error).stack ?? String(err);
  } finally {
    for (const e of await cleanUpEverything()) harnessError ??= e.message;
    const leftovers = await namespacesWithPrefix(prefix);
    if (leftovers.length)
      harnessError ??= `namespaces left behind: ${leftovers.join(', ')}; remove them with ip netns del.`;
    if (await exists(tmpRoot)) harnessError ??= `temporary directory ${tmpRoot} was not removed.`;
  }
  if (harnessError) {
    process.stderr.write(`\n*** bench harness failed: ${harnessError}\n\n`);
    return 1;
  }
  log(
    `done in ${((Date.now() - started) / 1000).toFixed(0)} s; nothing left behind (no ${prefix}* namespaces, processes stopped)`,
  );
  return 0;
}

/**
 * Runs this same command again inside test/lab/fresh-mounts.sh and waits for it. Ctrl-C reaches both
 * (one process group); any signal sent to this process alone is passed on, and the copy inside cleans up.
 */
async function runInFreshMounts(): Promise<number> {
  const child = supervisor.start(
    [
      'sh',
      FRESH_MOUNTS,
      process.execPath,
      ...process.execArgv,
      fileURLToPath(import.meta.url),
      ...process.argv.slice(2),
    ],
    {
      name: 'the bench inside fresh-mounts.sh',
      env: { ...process.env, [FRESH_MOUNTS_ENV]: '1' },
      stdin: 'inherit',
      stdout: 'inherit',
      stderr: 'inherit',
    },
  );
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, () => child.signal(sig));
  const { code, signal, stderrTail } = await child.exited;
  if (code === null && signal === null) fail(`could not start ${FRESH_MOUNTS}: ${stderrTail}`);
  return code ?? 128 + (os.constants.signals[signal!] ?? 0);
}

/** Loads and runs one module; every way it can go wrong becomes a row, never an exception. */
async function runModule(entry: BenchModuleEntry, ctx: BenchContext): Promise<BenchRow[]> {
  const row = (status: BenchRow['status'], note: string): BenchRow[] => [
    { group: entry.group, name: entry.name, value: NaN, unit: '', note, status },
  ];
  if (!(await exists(path.join(here, entry.file))))
    return row('not available', `${entry.file} does not exist yet`);
  try {
    const mod = await entry.load();
    const fn = mod[entry.fn];
    if (typeof fn !== 'function')
      return row('failed', `${entry.file} does not export a function ${entry.fn}(ctx)`);
    ctx.log(`running ${entry.fn}`);
    const result: unknown = await (fn as (c: BenchContext) => Promise<unknown>)(ctx);
    if (!Array.isArray(result) || result.length === 0)
      return row('failed', `${entry.fn} returned no rows (expected BenchRow[])`);
    const bad = result.find(
      (r: Partial<BenchRow>) =>
        typeof r?.group !== 'string' ||
        typeof r.name !== 'string' ||
        typeof r.value !== 'number' ||
        typeof r.unit !== 'string',
    );
    if (bad) return row('failed', `${entry.fn} returned a malformed row: ${JSON.stringify(bad)}`);
    return (result as BenchRow[]).map((r) => ({ ...r, status: r.status ?? 'ok' }));
  } catch (err) {
    ctx.log(`failed: ${(err as Error).stack ?? String(err)}`);
    return row('failed', (err as Error).message);
  }
}

process.exitCode = await main();
