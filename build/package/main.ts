// `npm run package`: the .deb and the .rpm of the helper, CLI and web UI, in dist/packages/.
//   --version V   package version (default: package.json's)
//   --out DIR     where the packages go (default dist/packages)
//   --skip-build  use the native parts and the UI as built (npm run build) instead of building them
import {
  chmodSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { run } from '../../native-helper/src/mechanism/exec.ts';
import { repoRoot } from '../bundle-electron.ts';
import { bundleHelper } from './bundle-helper.ts';
import { launcherScript } from './node-flags.ts';
import { buildDeb } from './deb.ts';
import { LIB, STRIPPED, describePackage } from './layout.ts';
import { packagedRuntime } from './runtime.ts';
import { buildRpm } from './rpm.ts';

export interface BuiltPackages {
  deb: string;
  /** Empty when only the .deb was asked for. */
  rpm: string;
  version: string;
}

export async function buildPackages(
  opts: { version?: string; out?: string; build?: boolean; formats?: ('deb' | 'rpm')[] } = {},
): Promise<BuiltPackages> {
  const version =
    opts.version ??
    (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version;
  if (!/^\d+\.\d+\.\d+([.+~][0-9A-Za-z.+~]*)?$/.test(version))
    throw new Error(
      `package version "${version}" is not like 1.2.3 (digits and dots, then an optional +suffix)`,
    );
  const out = opts.out ?? join(repoRoot, 'dist/packages');
  if (opts.build !== false) {
    await run(['npm', '--prefix', repoRoot, 'run', '-s', 'build:native'], { timeoutMs: 600_000 });
    await run(['npm', '--prefix', repoRoot, 'run', '-s', 'build:renderer'], { timeoutMs: 300_000 });
  }
  const work = mkdtempSync(join(tmpdir(), 'switchyard-package-'));
  try {
    const staged = join(work, 'staged');
    mkdirSync(staged);
    await bundleHelper(join(staged, 'lib'), version);
    // /usr/bin/switchyard: the bundle on the packaged runtime, whatever Node the system has (or not).
    const launcher = join(staged, 'switchyard');
    writeFileSync(launcher, launcherScript(LIB)); // the helper with its idle-daemon Node options
    chmodSync(launcher, 0o755);
    const sources: Record<string, string> = { node: await packagedRuntime() };
    for (const [name, from] of Object.entries(STRIPPED)) sources[name] = join(repoRoot, from);
    for (const [name, from] of Object.entries(sources)) {
      copyFileSync(from, join(staged, name));
      await run([
        'strip',
        '--strip-unneeded',
        '--remove-section=.comment',
        '--remove-section=.note',
        join(staged, name),
      ]);
    }
    writeFileSync(
      join(staged, 'switchyard.1.gz'),
      gzipSync(manPage(version, (await run(['node', join(staged, 'lib/switchyard.mjs'), '--help'])).stdout), {
        level: 9,
      }),
    );
    // The desktop app's launcher and package.json, used only when an Electron build is present.
    writeFileSync(join(staged, 'switchyard-desktop'), `#!/bin/sh\nexec ${LIB}/desktop/electron "$@"\n`);
    writeFileSync(
      join(staged, 'desktop-package.json'),
      JSON.stringify({ name: 'switchyard', version, main: 'electron/dist/main.cjs', type: 'commonjs' }),
    );
    const pkg = describePackage(version, staged);
    const deb = await buildDeb(pkg, work, out);
    const rpm = (opts.formats ?? ['deb', 'rpm']).includes('rpm') ? await buildRpm(pkg, work, out) : '';
    return { deb, rpm, version };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** switchyard(1), from the CLI's own --help, so the two never disagree. */
function manPage(version: string, help: string): string {
  const esc = (t: string) => t.replace(/\\/g, '\\e').replace(/^([.'])/gm, '\\&$1');
  return `.TH SWITCHYARD 1 "" "switchyard ${version}" "User Commands"
.SH NAME
switchyard \\- per-app network paths, encryption rules and tunnels
.SH SYNOPSIS
.B switchyard
.I COMMAND
[\\fIoptions\\fR]
.SH DESCRIPTION
The command line of Switchyard: it talks to the helper (\\fBswitchyard helper\\fR, run by
switchyard-helper.service) over /run/switchyard/helper.sock. \\fBswitchyard COMMAND --help\\fR
describes one command.
.SH COMMANDS
.nf
${esc(help.trim())}
.fi
.SH FILES
.TP
/etc/switchyard/helper.env
Options of the helper service.
.TP
/var/lib/switchyard/
The helper's policy, tunnels and audit trail.
`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: { version: { type: 'string' }, out: { type: 'string' }, 'skip-build': { type: 'boolean' } },
  });
  const built = await buildPackages({
    ...(values.version ? { version: values.version } : {}),
    ...(values.out ? { out: values.out } : {}),
    build: !values['skip-build'],
  });
  console.log(`${built.deb}\n${built.rpm}`);
}
