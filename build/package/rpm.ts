// switchyard-<version>.x86_64.rpm with rpmbuild, from the same package description as the .deb.
import { chmodSync, copyFileSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { run } from '../../native-helper/src/mechanism/exec.ts';
import type { PackageDescription } from './layout.ts';
import { afterInstall, beforeRemove } from './scripts.ts';
import { wrap } from './deb.ts';

export async function buildRpm(pkg: PackageDescription, workDir: string, outDir: string): Promise<string> {
  const top = join(workDir, 'rpm');
  const stage = join(workDir, 'rpm-stage');
  rmSync(top, { recursive: true, force: true });
  rmSync(stage, { recursive: true, force: true });
  for (const d of pkg.dirs) mkdirSync(join(stage, d), { recursive: true, mode: 0o755 });
  for (const f of pkg.files) {
    mkdirSync(dirname(join(stage, f.path)), { recursive: true });
    copyFileSync(f.from, join(stage, f.path));
    chmodSync(join(stage, f.path), f.mode);
  }
  const q = (p: string) => (/[\s%]/.test(p) ? `"${p}"` : p);
  const spec = `Name: ${pkg.name}
Version: ${pkg.version}
Release: 1
Summary: ${pkg.summary}
License: ${pkg.license}
Group: Applications/Internet
Packager: Switchyard maintainers <maintainers@switchyard.invalid>
URL: ${pkg.homepage}
BuildArch: x86_64
# The runtime and every library it needs are inside; what it runs is named here.
AutoReqProv: no
Requires: ${pkg.depends.rpm.join(', ')}
%global debug_package %{nil}
%global __os_install_post %{nil}

%description
${wrap(pkg.description).join('\n')}

%install
mkdir -p %{buildroot}
cp -a ${stage}/. %{buildroot}/

%post
# $1: 1 on a first install, 2 on an upgrade.
${afterInstall('[ "$1" -gt 1 ]')}
%preun
# $1: 0 when the package is erased, 1 on an upgrade (then postinst of the new one restarts it).
if [ "$1" -eq 0 ]; then
${beforeRemove()}fi

%postun
# No purge step here: an erase is dpkg's remove. The policy in /var/lib/switchyard stays for a
# reinstall (delete it by hand to start over); a changed settings file is kept as .rpmsave.
if [ "$1" -eq 0 ]; then
  rmdir /etc/switchyard 2>/dev/null || true
  if [ -d /run/systemd/system ]; then systemctl daemon-reload || true; fi
fi

%files
${pkg.dirs.map((d) => `%dir %attr(0755, root, root) ${q(d)}`).join('\n')}
${pkg.files
  .map(
    (f) =>
      `${f.config ? '%config(noreplace) ' : ''}%attr(${f.mode.toString(8).padStart(4, '0')}, root, root) ${q(f.path)}`,
  )
  .join('\n')}

%changelog
* ${changelogDate(new Date())} Switchyard maintainers <maintainers@switchyard.invalid> - ${pkg.version}-1
- Built from the Switchyard repository.
`;
  mkdirSync(join(top, 'SPECS'), { recursive: true });
  const specPath = join(top, 'SPECS', 'switchyard.spec');
  writeFileSync(specPath, spec);
  await run(['rpmbuild', '-bb', '--define', `_topdir ${top}`, '--define', '_build_id_links none', specPath], {
    timeoutMs: 600_000,
  });
  const built = join(top, 'RPMS', 'x86_64');
  const name = readdirSync(built).find((f) => f.endsWith('.x86_64.rpm'))!;
  mkdirSync(outDir, { recursive: true });
  // The issue's name: switchyard-<version>.x86_64.rpm (rpmbuild adds the release).
  const out = join(outDir, `${pkg.name}-${pkg.version}.x86_64.rpm`);
  copyFileSync(join(built, name), out);
  rmSync(top, { recursive: true, force: true });
  rmSync(stage, { recursive: true, force: true });
  return out;
}

/** "Thu Nov 26 2026", as %changelog wants it. */
function changelogDate(d: Date): string {
  const [weekday, day, month, year] = d.toUTCString().split(' '); // "Thu, 26 Nov 2026 21:53:00 GMT"
  return `${weekday!.slice(0, 3)} ${month} ${day} ${year}`;
}
