// `npm test`: everything this machine can run, in order, and a summary that never hides a skip.
// Suites that need root (integration, e2e) are skipped loudly when not root, with the reason.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

interface Step {
  name: string;
  argv: string[];
  vitest?: boolean;
  /** Run in a private mount namespace without bpffs, as on a fresh machine (test/lab/fresh-mounts.sh). */
  freshMounts?: boolean;
  needs?: () => string | null; // a reason to skip, or null
}

const isRoot = process.getuid?.() === 0;
const needRoot = () =>
  isRoot ? null : 'needs root (network namespaces, cgroups, eBPF): run `sudo npm test`';
const needChromium = () =>
  needRoot() ??
  (existsSync('/usr/bin/chromium') ? null : 'needs /usr/bin/chromium (apt-get install chromium)');
const needNative = () =>
  existsSync('native-helper/native/build/Release/switchyard_native.node')
    ? null
    : 'native addon not built: run `npm run build:native`';

const needLibFuzzer = () =>
  spawnSync('sh', ['-c', 'ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a']).status === 0
    ? null
    : 'needs libFuzzer (apt-get install libclang-rt-14-dev)';

const needPackagingTools = () =>
  ['dpkg-deb', 'rpmbuild', 'strip'].every((t) => spawnSync('sh', ['-c', `command -v ${t}`]).status === 0)
    ? null
    : 'needs dpkg-deb, rpmbuild and strip (apt-get install rpm binutils)';

const only = process.argv.slice(2);
const work = mkdtempSync(join(tmpdir(), 'switchyard-test-'));
/** Where the package step leaves its packages for the integration suite's install test. */
const PACKAGES = join(work, 'packages');
process.env.SWITCHYARD_PACKAGES_DIR = PACKAGES;
const steps: Step[] = [
  { name: 'typecheck', argv: ['npm', 'run', '-s', 'typecheck'] },
  { name: 'lint', argv: ['npm', 'run', '-s', 'lint'] },
  {
    name: 'unit',
    argv: ['npx', 'vitest', 'run', '--project', 'unit', '--project', 'component'],
    vitest: true,
  },
  // The C data path's own tests (ASan/UBSan) and a bounded libFuzzer run of its packet parser.
  { name: 'native', argv: ['make', '-s', '-C', 'native-helper/native/datapath', 'test'] },
  { name: 'fuzz', argv: ['sh', 'native-helper/fuzz/run.sh', '30'], needs: needLibFuzzer },
  // The .deb and the .rpm, as `npm run package` builds them; the integration suite installs them.
  {
    name: 'package',
    argv: ['npm', 'run', '-s', 'package', '--', '--skip-build', '--out', PACKAGES],
    needs: () => needNative() ?? needPackagingTools(),
  },
  {
    name: 'integration',
    argv: ['npx', 'vitest', 'run', '--project', 'integration'],
    vitest: true,
    freshMounts: true,
    needs: () => needRoot() ?? needNative(),
  },
  {
    name: 'e2e',
    argv: ['npx', 'vitest', 'run', '--project', 'e2e'],
    vitest: true,
    freshMounts: true,
    needs: () => needChromium() ?? needNative(),
  },
].filter((s) => only.length === 0 || only.includes(s.name));

let passed = 0;
let failed = 0;
let skipped = 0;
const summary: string[] = [];

for (const step of steps) {
  const reason = step.needs?.();
  if (reason) {
    skipped++;
    const msg = `SKIPPED ${step.name}: ${reason}`;
    console.error(`\n${'!'.repeat(msg.length)}\n${msg}\n${'!'.repeat(msg.length)}`);
    summary.push(`  ${step.name.padEnd(12)} SKIPPED (${reason})`);
    continue;
  }
  console.log(
    `\n=== ${step.name}: ${step.argv.join(' ')}${step.freshMounts ? ' (fresh mounts: no bpffs)' : ''}`,
  );
  const report = join(work, `${step.name}.json`);
  const argv = [
    ...(step.freshMounts ? ['test/lab/fresh-mounts.sh'] : []),
    ...step.argv,
    ...(step.vitest ? ['--reporter=default', '--reporter=json', `--outputFile.json=${report}`] : []),
  ];
  const started = Date.now();
  const r = spawnSync(argv[0]!, argv.slice(1), { stdio: 'inherit' });
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  const ok = r.status === 0;
  if (step.vitest && existsSync(report)) {
    const j = JSON.parse(readFileSync(report, 'utf8')) as {
      numPassedTests: number;
      numFailedTests: number;
      numPendingTests: number;
      numTotalTests: number;
    };
    passed += j.numPassedTests;
    failed += j.numFailedTests + (ok || j.numFailedTests > 0 ? 0 : 1);
    summary.push(
      `  ${step.name.padEnd(12)} ${ok ? 'ok' : 'FAILED'}: ${j.numPassedTests} passed, ${j.numFailedTests} failed, ${j.numPendingTests} skipped (${seconds}s)`,
    );
    if (j.numTotalTests === 0) {
      failed++;
      summary.push(`  ${step.name.padEnd(12)} FAILED: ran no test`);
    }
  } else {
    if (ok) passed++;
    else failed++;
    summary.push(`  ${step.name.padEnd(12)} ${ok ? 'ok' : 'FAILED'} (${seconds}s)`);
  }
}
rmSync(work, { recursive: true, force: true });

console.log('\n=== summary');
console.log(summary.join('\n'));
if (skipped) console.log(`\n${skipped} suite(s) were SKIPPED; see the reasons above.`);
console.log(`\ntests: ${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
