// What the packages hold and where it goes: the one description both the .deb and the .rpm are built
// from (and that the file-list test compares them against). Paths are absolute on the installed system.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../bundle-electron.ts';

export interface PackageFile {
  /** Installed path. */
  path: string;
  /** Where its content comes from (a file of the checkout, or of the staging folder). */
  from: string;
  /** 4755: Electron's chrome-sandbox, which must be setuid root for Chromium's sandbox. */
  mode: 0o644 | 0o755 | 0o4755;
  /** Configuration the admin may edit: kept on upgrade and remove, deleted on purge. */
  config?: boolean;
}

export interface PackageDescription {
  name: 'switchyard';
  version: string;
  summary: string;
  description: string;
  homepage: string;
  license: string;
  /** Debian package names and their Fedora equivalents of what the helper runs. */
  depends: { deb: string[]; rpm: string[] };
  files: PackageFile[];
  /** Folders the package owns (removed with it when empty). */
  dirs: string[];
}

export const LIB = '/usr/lib/switchyard';
export const UNIT = 'switchyard-helper.service';
/** The helper's settings file (the unit reads it): a package file the admin may edit. */
export const HELPER_ENV = '/etc/switchyard/helper.env';

/**
 * Built ELF files copied into the staging folder and stripped there (name in staging: checkout path).
 * The runtime, `node`, comes from build/package/runtime.ts.
 */
export const STRIPPED = {
  'switchyard_native.node': 'native-helper/native/build/Release/switchyard_native.node',
  'switchyard-datapath': 'native-helper/native/datapath/build/switchyard-datapath',
} as const;

/** Electron's own files (the npm package's dist/ once its binary was downloaded), or null. */
export function electronDist(dir = join(repoRoot, 'node_modules/electron/dist')): string | null {
  return existsSync(join(dir, 'electron')) ? dir : null;
}

/**
 * The desktop app, when an Electron build is present: Electron in /usr/lib/switchyard/desktop with the
 * app in its resources/app (main finds renderer/dist and build/icons beside electron/dist), the
 * switchyard-desktop launcher and its menu entry.
 */
export function desktopFiles(electron: string, staged: string): PackageFile[] {
  const r = (p: string) => join(repoRoot, p);
  const D = `${LIB}/desktop`;
  const exec = new Set(['electron', 'chrome_crashpad_handler']);
  const app = (dir: string, under: string) =>
    walk(r(dir)).map((f) => ({
      path: `${D}/resources/app/${under}/${f}`,
      from: r(`${dir}/${f}`),
      mode: 0o644 as const,
    }));
  return [
    ...walk(electron)
      .filter((f) => !f.startsWith('resources/default_app'))
      .map((f) => ({
        path: `${D}/${f}`,
        from: join(electron, f),
        mode: f === 'chrome-sandbox' ? (0o4755 as const) : exec.has(f) ? (0o755 as const) : (0o644 as const),
      })),
    { path: `${D}/resources/app/package.json`, from: join(staged, 'desktop-package.json'), mode: 0o644 },
    ...app('electron/dist', 'electron/dist').filter((f) => f.path.endsWith('.cjs')),
    ...app('renderer/dist', 'renderer/dist'),
    ...app('build/icons', 'build/icons'),
    { path: '/usr/bin/switchyard-desktop', from: join(staged, 'switchyard-desktop'), mode: 0o755 },
    { path: '/usr/share/applications/switchyard.desktop', from: r('build/switchyard.desktop'), mode: 0o644 },
  ];
}

/** The staging folder holds what is built for the package (bundle, launcher); the rest is the checkout's. */
export function describePackage(
  version: string,
  staged: string,
  electron = electronDist(),
): PackageDescription {
  const r = (p: string) => join(repoRoot, p);
  if (!existsSync(join(r('renderer/dist'), 'index.html')))
    throw new Error(`the UI is not built (${r('renderer/dist')}); run \`npm run build:renderer\` first`);
  const ui = walk(r('renderer/dist'));
  const files: PackageFile[] = [
    { path: '/usr/bin/switchyard', from: join(staged, 'switchyard'), mode: 0o755 },
    // The bundle: switchyard.mjs and the chunks it loads when a command needs them.
    ...walkIfThere(join(staged, 'lib')).map((f) => ({
      path: `${LIB}/${f}`,
      from: join(staged, 'lib', f),
      mode: 0o644 as const,
    })),
    // The three ELF files, stripped in the staging folder (see STRIPPED).
    { path: `${LIB}/node`, from: join(staged, 'node'), mode: 0o755 },
    { path: `${LIB}/switchyard_native.node`, from: join(staged, 'switchyard_native.node'), mode: 0o644 },
    { path: `${LIB}/switchyard-datapath`, from: join(staged, 'switchyard-datapath'), mode: 0o755 },
    { path: `${LIB}/bpf/sock_tag.bpf.o`, from: r('native-helper/bpf/sock_tag.bpf.o'), mode: 0o644 },
    { path: `${LIB}/bpf/flow_rules.bpf.o`, from: r('native-helper/bpf/flow_rules.bpf.o'), mode: 0o644 },
    {
      path: `${LIB}/bpf/flowmark.bpf.o`,
      from: r('native-helper/native/datapath/build/flowmark.bpf.o'),
      mode: 0o644,
    },
    { path: `/usr/lib/systemd/system/${UNIT}`, from: r(`build/systemd/${UNIT}`), mode: 0o644 },
    { path: '/usr/lib/sysusers.d/switchyard.conf', from: r('build/sysusers/switchyard.conf'), mode: 0o644 },
    { path: HELPER_ENV, from: r('build/package/helper.env'), mode: 0o644, config: true },
    ...ui.map((f) => ({
      path: `/usr/share/switchyard/ui/${f}`,
      from: r(`renderer/dist/${f}`),
      mode: 0o644 as const,
    })),
    {
      path: '/usr/share/applications/switchyard-web.desktop',
      from: r('build/package/switchyard-web.desktop'),
      mode: 0o644,
    },
    {
      path: '/usr/share/icons/hicolor/256x256/apps/switchyard.png',
      from: r('build/icons/switchyard.png'),
      mode: 0o644,
    },
    { path: '/usr/share/doc/switchyard/README.md', from: r('README.md'), mode: 0o644 },
    { path: '/usr/share/doc/switchyard/copyright', from: r('build/package/copyright'), mode: 0o644 },
    { path: '/usr/share/man/man1/switchyard.1.gz', from: join(staged, 'switchyard.1.gz'), mode: 0o644 },
    {
      path: '/usr/share/lintian/overrides/switchyard',
      from: r('build/package/lintian-overrides'),
      mode: 0o644,
    },
  ];
  if (electron) files.push(...desktopFiles(electron, staged));
  const dirs = [LIB, `${LIB}/bpf`, '/usr/share/switchyard', '/usr/share/doc/switchyard', '/etc/switchyard'];
  // Every folder under the package's own trees (not /usr/bin, /usr/share/lintian …, which others own).
  for (const f of files)
    for (const top of [`${LIB}/`, '/usr/share/switchyard/'])
      if (f.path.startsWith(top)) {
        const parts = f.path.slice(top.length).split('/').slice(0, -1);
        for (let i = 1; i <= parts.length; i++) dirs.push(`${top}${parts.slice(0, i).join('/')}`);
      }
  return {
    name: 'switchyard',
    version,
    summary: 'Per-app network paths, encryption rules and tunnels for the Linux desktop',
    description:
      'Switchyard decides, for each application, which network path its traffic takes (Wi-Fi, Ethernet or ' +
      "a tunnel, with a kill switch) and whether it is encrypted. A privileged helper tags each app's " +
      'sockets with eBPF and applies policy routing and nftables rules; the switchyard CLI and a web UI ' +
      'talk to it over a Unix socket.',
    homepage: 'https://github.com/switchyard/switchyard',
    license: 'GPL-3.0-or-later',
    depends: {
      // util-linux (setpriv, nsenter) is essential on Debian: never listed.
      // conntrack: the per-app connection history (conntrack -E); tcpdump: the names apps looked up
      // (their DNS replies, copied to an NFLOG group: mechanism/dns/nflog-watch.ts); ping: the nudge
      // that makes a silent WireGuard peer shake hands again (mechanism/wireguard/nudge.ts).
      deb: [
        'iproute2',
        'nftables',
        'procps',
        'conntrack',
        'tcpdump',
        'iputils-ping',
        'systemd | systemd-standalone-sysusers',
      ],
      rpm: [
        'iproute',
        'nftables',
        'util-linux',
        'procps-ng',
        'conntrack-tools',
        'tcpdump',
        'iputils',
        'systemd',
      ],
    },
    files,
    dirs: [...new Set(dirs)].sort(),
  };
}

/** walk(), or nothing when dir does not exist (the layout test describes a package without building it). */
function walkIfThere(dir: string): string[] {
  return existsSync(dir) ? walk(dir) : [];
}

/** Every file under dir, as paths relative to it, sorted. */
function walk(dir: string): string[] {
  const out: string[] = [];
  const go = (sub: string) => {
    for (const e of readdirSync(join(dir, sub), { withFileTypes: true }))
      if (e.isDirectory()) go(join(sub, e.name));
      else out.push(join(sub, e.name));
  };
  go('');
  return out.sort();
}
