// The .deb on a fresh Debian 12: debootstrap a minbase bookworm root (no Node.js, no checkout),
// install the package into it, run the CLI as a plain user, start the helper exactly as the unit's
// ExecStart says, set an app's egress, upgrade to a newer build (policy kept, kill switch holding
// while the helper restarts), remove it (nothing of the helper left) and purge it (no package file
// left; the admin's own file in /etc/switchyard kept). The .rpm's file list must equal the .deb's.
//
// Nothing touches the host: the root runs in a mount namespace, a cgroup namespace rooted at a cgroup
// of this run, and a network namespace of this run (veth uplinks to a second one), all removed at the
// end. There is no systemd in the root, so the test plays its part where the unit says what to do
// (start ExecStart with its EnvironmentFile; stop and start it again for the restart after an upgrade).
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../native-helper/src/mechanism/exec.ts';
import { layoutFor } from '../../native-helper/src/layout/kernel-layout.ts';
import { buildPackages } from '../../build/package/main.ts';
import { cgroupRoot } from '../lab/cleanup.ts';
import { REPO } from '../lab/switchyard-helper.ts';
import { eventually } from './support.ts';

const isRoot = process.getuid?.() === 0;
const haveTools = ['debootstrap', 'dpkg-deb', 'rpmbuild'].every((t) =>
  ['/usr/sbin', '/usr/bin'].some((d) => existsSync(join(d, t))),
);
const MIRROR = process.env.SWITCHYARD_DEBIAN_MIRROR ?? 'http://deb.debian.org/debian';

describe.skipIf(!isRoot || !haveTools)('the .deb on a fresh Debian 12 root', () => {
  const id = `sypkg${randomBytes(3).toString('hex')}`;
  const ns = `${id}-desk`;
  const isp = `${id}-isp`;
  let work: string;
  let root: string;
  let cgroup: string;
  let keeper: ChildProcess;
  let helper: ChildProcess | null = null;
  let helperLog = '';
  let pkgs: { deb: string; rpm: string; version: string };
  let upgrade: string;
  const layout = layoutFor('default');

  /** argv run inside the root: its mount, cgroup and network namespaces, chrooted, in the run's cgroup. */
  const inRoot = (argv: string[]) => [
    'sh',
    '-c',
    `echo $$ > ${cgroup}/cgroup.procs && exec nsenter --target ${keeper.pid} --mount --cgroup --net=/run/netns/${ns} -- chroot ${root} env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 "$@"`,
    'sh',
    ...argv,
  ];
  /** Each step's output, for the record (the closing note quotes it). */
  const say = (step: string, out: string) => console.log(`--- ${step}\n${out.trim()}`);
  const sh = (cmd: string, opts: { allowFailure?: boolean; user?: boolean } = {}) =>
    run(
      inRoot(
        opts.user
          ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', 'sh', '-c', cmd]
          : ['sh', '-c', cmd],
      ),
      {
        allowFailure: opts.allowFailure ?? false,
        timeoutMs: 120_000,
      },
    );
  /** The helper's policy rules in the namespace (IPv4 and IPv6), by their priorities. */
  const ourRules = async () => {
    const rules = [];
    for (const family of ['-4', '-6'])
      rules.push(
        ...(JSON.parse((await run(['ip', family, '-n', ns, '-j', 'rule', 'show'])).stdout) as {
          priority: number;
        }[]),
      );
    return rules.filter((r) => r.priority >= layout.priorities.first && r.priority <= layout.priorities.last);
  };
  const nftTable = async () =>
    (
      await run(['ip', 'netns', 'exec', ns, 'nft', 'list', 'table', 'inet', layout.nftTable], {
        allowFailure: true,
      })
    ).code === 0;

  /** What systemd would run: ExecStart with $VARS from the EnvironmentFile. */
  function execStart(): string {
    const unit = readFileSync(join(root, 'usr/lib/systemd/system/switchyard-helper.service'), 'utf8');
    const exec = /^ExecStart=(.*)$/m.exec(unit)![1]!;
    const envFile = /^EnvironmentFile=-?(.*)$/m.exec(unit)?.[1];
    const env: Record<string, string> = {};
    if (envFile && existsSync(join(root, envFile)))
      for (const m of readFileSync(join(root, envFile), 'utf8').matchAll(/^([A-Z_]+)="?([^"\n]*)"?$/gm))
        env[m[1]!] = m[2]!;
    return exec.replace(/\$([A-Z_]+)/g, (_, k: string) => env[k] ?? '').trim();
  }
  async function startHelper(): Promise<void> {
    // RuntimeDirectory= and StateDirectory= of the unit.
    mkdirSync(join(root, 'run/switchyard'), { recursive: true });
    helperLog = '';
    const [cmd, ...args] = inRoot(['sh', '-c', `exec ${execStart()}`]);
    helper = spawn(cmd!, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    helper.stderr!.on('data', (d) => (helperLog += d));
    await eventually(
      'the helper listening',
      async () => helperLog,
      (l) => l.includes('listening on') || helper?.exitCode !== null,
      60_000,
    );
    if (helper.exitCode !== null) throw new Error(`the helper exited: ${helperLog}`);
  }
  async function stopHelper(): Promise<void> {
    if (!helper || helper.exitCode !== null) return;
    const done = new Promise((r) => helper!.once('exit', r));
    helper.kill('SIGTERM'); // what systemctl stop sends
    await done;
  }

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'sy-pkg-'));
    root = join(work, 'root');
    // The packages, built as `npm run package` builds them (CI's package step leaves them in a folder).
    const prebuilt = process.env.SWITCHYARD_PACKAGES_DIR;
    pkgs =
      prebuilt && existsSync(prebuilt)
        ? {
            deb: join(
              prebuilt,
              readdirSync(prebuilt).find((f) => f.endsWith('.deb'))!,
            ),
            rpm: join(
              prebuilt,
              readdirSync(prebuilt).find((f) => f.endsWith('.rpm'))!,
            ),
            version: /_([^_]+)_amd64\.deb$/.exec(readdirSync(prebuilt).find((f) => f.endsWith('.deb'))!)![1]!,
          }
        : await buildPackages({ out: join(work, 'pkgs'), build: false });
    upgrade = (
      await buildPackages({
        out: join(work, 'pkgs-up'),
        build: false,
        version: `${pkgs.version}+up1`,
        formats: ['deb'],
      })
    ).deb;
    // Debian 12 minbase, with the package's dependencies (the root has no network of its own later).
    await run(
      [
        'debootstrap',
        '--variant=minbase',
        '--include=iproute2,nftables,procps,conntrack,tcpdump,iputils-ping,systemd-standalone-sysusers',
        'bookworm',
        root,
        MIRROR,
      ],
      { timeoutMs: 600_000 },
    );
    // The run's network: the desktop namespace with two uplinks (veths into an ISP namespace).
    await run(['ip', 'netns', 'add', ns]);
    await run(['ip', 'netns', 'add', isp]);
    for (const [n, up, addr] of [
      [1, 'enp1s0', '198.18.71'],
      [2, 'wlan0', '198.18.72'],
    ] as const) {
      await run(['ip', '-n', ns, 'link', 'add', up, 'type', 'veth', 'peer', 'name', `isp${n}`, 'netns', isp]);
      await run(['ip', '-n', ns, 'addr', 'add', `${addr}.2/24`, 'dev', up]);
      await run(['ip', '-n', isp, 'addr', 'add', `${addr}.1/24`, 'dev', `isp${n}`]);
      await run(['ip', '-n', ns, 'link', 'set', up, 'up']);
      await run(['ip', '-n', isp, 'link', 'set', `isp${n}`, 'up']);
    }
    await run(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
    await run(['ip', '-n', ns, 'route', 'add', 'default', 'via', '198.18.71.1', 'metric', '100']);
    // A cgroup of this run, the root of the root's cgroup namespace.
    cgroup = join((await cgroupRoot())!, id);
    mkdirSync(cgroup);
    // The keeper holds the mount and cgroup namespaces: proc, sys, a fresh bpffs and cgroup2.
    keeper = spawn(
      'sh',
      [
        '-c',
        // In the run's network namespace, so the sysfs mounted below shows its interfaces.
        `echo $$ > ${cgroup}/cgroup.procs && exec nsenter --net=/run/netns/${ns} -- unshare --mount --cgroup --propagation private sleep infinity`,
      ],
      { stdio: 'ignore' },
    );
    await new Promise((r) => setTimeout(r, 300));
    // --cgroup too: a cgroup2 mount shows the hierarchy from the mounting process's namespace root.
    const ns_ = ['nsenter', '--target', String(keeper.pid), '--mount', '--cgroup', '--'];
    for (const m of [
      ['mount', '-t', 'proc', 'proc', `${root}/proc`],
      ['mount', '-t', 'sysfs', 'sysfs', `${root}/sys`],
      ['mount', '-t', 'cgroup2', 'cgroup2', `${root}/sys/fs/cgroup`],
      ['mount', '-t', 'bpf', 'bpf', `${root}/sys/fs/bpf`],
      ['mount', '--rbind', '/dev', `${root}/dev`],
      ['mount', '-t', 'tmpfs', 'tmpfs', `${root}/run`],
    ])
      await run([...ns_, ...m]);
  }, 900_000);

  afterAll(async () => {
    if (helper && helper.exitCode === null) await stopHelper().catch(() => {});
    keeper?.kill('SIGKILL'); // its mount namespace, and every mount above, go with it
    for (const n of [ns, isp]) await run(['ip', 'netns', 'del', n], { allowFailure: true });
    // Whatever cgroups are left of the run (there should be none but the run's own).
    if (cgroup && existsSync(cgroup))
      await run(['sh', '-c', `find ${cgroup} -depth -type d -exec rmdir {} \\; 2>/dev/null || true`]);
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('the .rpm holds what the .deb holds, and both pass their checkers', async () => {
    const debFiles = (await run(['dpkg-deb', '-c', pkgs.deb])).stdout
      .split('\n')
      .filter((l) => l.startsWith('-'))
      .map((l) => l.split(/\s+/).pop()!.replace(/^\./, ''));
    // dpkg-deb adds the changelog Debian policy asks for; the .rpm carries its own %changelog.
    const deb = debFiles.filter((f) => f !== '/usr/share/doc/switchyard/changelog.gz').sort();
    const rpm = (await run(['rpm', '-qp', '--qf', '[%{FILEMODES:perms} %{FILENAMES}\n]', pkgs.rpm])).stdout
      .split('\n')
      .filter((l) => l.startsWith('-'))
      .map((l) => l.split(' ')[1]!)
      .sort();
    expect(rpm).toEqual(deb);
    expect(rpm).toContain('/usr/lib/switchyard/node');
    // Its ELF files run where glibc is 2.35 (Ubuntu 22.04, the oldest target) or newer.
    const x = join(work, 'deb-x');
    await run(['dpkg-deb', '-x', pkgs.deb, x]);
    for (const f of ['node', 'switchyard_native.node', 'switchyard-datapath']) {
      const needs = (await run(['objdump', '-T', join(x, 'usr/lib/switchyard', f)])).stdout.match(
        /GLIBC_[\d.]+/g,
      )!;
      const newest = needs
        .map((v) => v.slice(6).split('.').map(Number))
        .sort((a, b) => b[0]! - a[0]! || b[1]! - a[1]!)[0]!;
      expect(newest[0]! * 100 + newest[1]!, `${f} needs glibc ${newest.join('.')}`).toBeLessThanOrEqual(235);
    }
    expect((await run(['rpm', '-K', pkgs.rpm])).stdout).toMatch(/digests OK/);
    if (existsSync('/usr/bin/rpmlint')) {
      const lint = await run(['rpmlint', '-r', join(REPO, 'build/package/switchyard.rpmlintrc'), pkgs.rpm], {
        allowFailure: true,
      });
      say('rpmlint', lint.stdout.split('\n').slice(-4).join('\n'));
      expect(lint.stdout).toMatch(/ 0 errors, /);
    }
    if (existsSync('/usr/bin/lintian')) {
      const lint = await run(['lintian', '--tag-display-limit', '0', pkgs.deb], { allowFailure: true });
      say('lintian', lint.stdout);
      expect(lint.stdout.split('\n').filter((l) => l.startsWith('E:'))).toEqual([]);
    }
  });

  it('installs into the fresh root, which has no Node.js', async () => {
    expect((await sh('command -v node || echo none')).stdout.trim()).toBe('none');
    writeFileSync(join(root, 'tmp/switchyard.deb'), readFileSync(pkgs.deb));
    const r = await sh('dpkg -i /tmp/switchyard.deb 2>&1');
    say('dpkg -i switchyard.deb', r.stdout);
    expect(r.stdout).toMatch(/Setting up switchyard/);
    expect((await sh('getent group switchyard')).stdout).toMatch(/^switchyard:x:\d+:/);
    // Enabled for the next boot (no systemd runs here to start it now).
    expect(
      readlinkSync(join(root, 'etc/systemd/system/multi-user.target.wants/switchyard-helper.service')),
    ).toBe('/usr/lib/systemd/system/switchyard-helper.service');
  });

  it('runs `switchyard --help` as a plain user', async () => {
    const r = await sh('switchyard --help', { user: true });
    say('switchyard --help (as nobody)', r.stdout.split('\n').slice(0, 4).join('\n'));
    expect(r.stdout).toMatch(/^usage: switchyard COMMAND/);
    expect(r.stdout).toMatch(/egress set APP/);
  });

  it("starts the helper from the unit's ExecStart and sets an app's egress in the namespace", async () => {
    expect(execStart()).toBe('/usr/bin/switchyard helper');
    await startHelper();
    const status = JSON.parse((await sh('switchyard status --json')).stdout) as {
      version: string;
      health: string;
    };
    expect(status.version).toBe(pkgs.version);
    await sh("switchyard app add --name 'Pkg Probe' --id pkgprobe --exe /usr/bin/sleep");
    await sh('switchyard egress set pkgprobe wlan0 --kill-switch');
    const app = JSON.parse((await sh('switchyard app show pkgprobe --json')).stdout) as {
      choice: { egresses: string[]; killSwitch: boolean };
    };
    expect(app.choice).toMatchObject({ egresses: ['wlan0'], killSwitch: true });
    expect((await ourRules()).length).toBeGreaterThan(0);
    expect(await nftTable()).toBe(true);
  });

  it('upgrades to a newer build: the policy is kept, and the rules hold while the helper restarts', async () => {
    writeFileSync(join(root, 'tmp/switchyard-up.deb'), readFileSync(upgrade));
    const r = await sh('dpkg -i /tmp/switchyard-up.deb 2>&1');
    say('dpkg -i switchyard-up.deb', r.stdout);
    expect(r.stdout).toMatch(/Unpacking switchyard .* over \(/);
    // systemctl restart: stop (the helper keeps its kernel state), then start the new build.
    const rulesBefore = await ourRules();
    await stopHelper();
    expect(await ourRules()).toEqual(rulesBefore); // the kill switch holds meanwhile
    expect(await nftTable()).toBe(true);
    await startHelper();
    const status = JSON.parse((await sh('switchyard status --json')).stdout) as { version: string };
    expect(status.version).toBe(`${pkgs.version}+up1`);
    const app = JSON.parse((await sh('switchyard app show pkgprobe --json')).stdout) as {
      choice: { egresses: string[]; killSwitch: boolean };
    };
    expect(app.choice).toMatchObject({ egresses: ['wlan0'], killSwitch: true });
  });

  it('removes it: the helper stops and leaves no rule, table, cgroup, pin or process', async () => {
    const pid = helper!.pid!;
    const r = await sh('dpkg -r switchyard 2>&1');
    say('dpkg -r switchyard', r.stdout);
    expect(r.stdout).toMatch(/Removing switchyard/);
    await eventually(
      'the helper gone',
      async () => helper!.exitCode !== null || helper!.signalCode !== null,
      (x) => x,
      15_000,
    );
    expect(existsSync(`/proc/${pid}`)).toBe(false);
    expect(await ourRules()).toEqual([]);
    expect(await nftTable()).toBe(false);
    const cgroups = readdirSync(cgroup, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name);
    expect(cgroups).toEqual([]);
    // A fresh bpffs lists the kernel's own iterators; nothing else may be left.
    const pins = (await sh('ls -A /sys/fs/bpf')).stdout.split('\n').filter(Boolean);
    expect(pins.filter((p) => !['maps.debug', 'progs.debug'].includes(p))).toEqual([]);
    expect((await sh('ls /usr/lib/switchyard 2>&1 || true')).stdout).toMatch(/No such file/);
    // Removed, not purged: the settings file and the policy stay.
    expect(existsSync(join(root, 'etc/switchyard/helper.env'))).toBe(true);
    expect(existsSync(join(root, 'var/lib/switchyard/default'))).toBe(true);
  });

  it("purges it: no file of the package's is left, and the admin's own file is kept", async () => {
    writeFileSync(join(root, 'etc/switchyard/managed.json'), '{"admin": "wrote this"}\n');
    const r = await sh('dpkg -P switchyard 2>&1');
    say('dpkg -P switchyard', r.stdout);
    expect(r.stdout).toMatch(/Purging configuration files for switchyard/);
    expect(existsSync(join(root, 'var/lib/switchyard'))).toBe(false);
    expect(existsSync(join(root, 'etc/switchyard/helper.env'))).toBe(false);
    expect(readFileSync(join(root, 'etc/switchyard/managed.json'), 'utf8')).toMatch(/admin/);
    const left = (await run(['dpkg-deb', '-c', pkgs.deb])).stdout
      .split('\n')
      .filter((l) => l.startsWith('-'))
      .map((l) => l.split(/\s+/).pop()!.replace(/^\.\//, ''))
      .filter((p) => existsSync(join(root, p)));
    expect(left).toEqual([]);
  });
});
