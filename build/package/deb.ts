// switchyard_<version>_amd64.deb with dpkg-deb, from the package description.
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { run } from '../../native-helper/src/mechanism/exec.ts';
import type { PackageDescription } from './layout.ts';
import { afterInstall, afterPurge, beforeRemove } from './scripts.ts';

const script = (body: string) => `#!/bin/sh\nset -e\n${body}`;

export async function buildDeb(pkg: PackageDescription, workDir: string, outDir: string): Promise<string> {
  const root = join(workDir, 'deb-root');
  rmSync(root, { recursive: true, force: true });
  for (const d of pkg.dirs) mkdirSync(join(root, d), { recursive: true, mode: 0o755 });
  let installedKb = 0;
  const sums: string[] = [];
  for (const f of pkg.files) {
    const dest = join(root, f.path);
    mkdirSync(dirname(dest), { recursive: true, mode: 0o755 });
    copyFileSync(f.from, dest);
    chmodSync(dest, f.mode);
    installedKb += Math.ceil(statSync(dest).size / 1024);
    if (!f.config)
      sums.push(`${createHash('md5').update(readFileSync(dest)).digest('hex')}  ${f.path.slice(1)}`);
  }
  // Debian policy: a changelog in the package's doc folder, compressed with gzip -9n (a native
  // package, its version has no Debian revision: changelog.gz).
  const changelog = join(root, 'usr/share/doc/switchyard/changelog.gz');
  writeFileSync(
    changelog,
    gzipSync(
      `switchyard (${pkg.version}) unstable; urgency=medium\n\n  * Built from the Switchyard repository.\n\n -- Switchyard maintainers <maintainers@switchyard.invalid>  ${rfc2822(new Date())}\n`,
      { level: 9 },
    ),
  );
  chmodSync(changelog, 0o644);
  sums.push(
    `${createHash('md5').update(readFileSync(changelog)).digest('hex')}  usr/share/doc/switchyard/changelog.gz`,
  );

  const meta = join(root, 'DEBIAN');
  mkdirSync(meta, { mode: 0o755 });
  const control = [
    `Package: ${pkg.name}`,
    `Version: ${pkg.version}`,
    'Architecture: amd64',
    'Maintainer: Switchyard maintainers <maintainers@switchyard.invalid>',
    `Installed-Size: ${installedKb}`,
    `Depends: libc6 (>= 2.34), ${pkg.depends.deb.join(', ')}`,
    'Section: net',
    'Priority: optional',
    `Homepage: ${pkg.homepage}`,
    `Description: ${pkg.summary.charAt(0).toLowerCase()}${pkg.summary.slice(1)}`,
    ...wrap(pkg.description).map((l) => ` ${l}`),
  ];
  writeFileSync(join(meta, 'control'), `${control.join('\n')}\n`);
  writeFileSync(join(meta, 'md5sums'), `${sums.sort().join('\n')}\n`);
  writeFileSync(
    join(meta, 'conffiles'),
    pkg.files
      .filter((f) => f.config)
      .map((f) => `${f.path}\n`)
      .join(''),
  );
  const scripts = {
    // configure with the version it replaces ($2) is an upgrade.
    postinst: script(`if [ "$1" = configure ]; then\n${afterInstall('[ -n "$2" ]')}fi\n`),
    // Only on removal: an upgrade keeps the helper running until postinst restarts it.
    prerm: script(`if [ "$1" = remove ]; then\n${beforeRemove()}fi\n`),
    postrm: script(
      `if [ "$1" = remove ] && [ -d /run/systemd/system ]; then systemctl daemon-reload || true; fi\nif [ "$1" = purge ]; then\n${afterPurge()}fi\n`,
    ),
  };
  for (const [name, body] of Object.entries(scripts)) {
    writeFileSync(join(meta, name), body);
    chmodSync(join(meta, name), 0o755);
  }
  for (const f of ['control', 'md5sums', 'conffiles']) chmodSync(join(meta, f), 0o644);
  mkdirSync(outDir, { recursive: true });
  const out = join(outDir, `${pkg.name}_${pkg.version}_amd64.deb`);
  await run(['dpkg-deb', '--root-owner-group', '-Zxz', '--build', root, out], { timeoutMs: 300_000 });
  rmSync(root, { recursive: true, force: true });
  return out;
}

/** Debian's description lines: at most 79 characters. */
export function wrap(text: string): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > 78) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}

function rfc2822(d: Date): string {
  return d.toUTCString().replace('GMT', '+0000');
}
