// What the helper needs from the machine, checked before it touches anything. Each piece is either
// set up here (bpffs, as systemd and Cilium mount it) or named in one sentence with the command that
// fixes it. Nothing is half-started: a failed check stops the helper before any kernel state exists.
import { existsSync } from 'node:fs';
import { ensureBpffs, BPFFS_ROOT } from '../mechanism/bpf/bpffs.ts';
import { findCgroup2Mount } from '../mechanism/cgroup/index.ts';
import { type RunResult, run } from '../mechanism/exec.ts';
import { TAGGER_OBJECT_PATH, native } from '../mechanism/native.ts';
import { BUILD_HINT } from '../resources.ts';

export interface PreflightHost {
  loadAddon(): void;
  exists(path: string): boolean;
  findCgroup2Mount(): Promise<string>;
  /** Mounts bpffs unless present; true when it mounted one. */
  ensureBpffs(mountPoint: string): boolean;
  run(argv: string[]): Promise<RunResult>;
}

export const realHost: PreflightHost = {
  loadAddon: () => void native(),
  exists: existsSync,
  findCgroup2Mount,
  ensureBpffs,
  // A program that cannot start at all comes back as exit code null with spawn's reason.
  run: (argv) =>
    run(argv, { allowFailure: true, timeoutMs: 10_000 }).catch((err: Error): RunResult => ({
      code: null,
      stdout: '',
      stderr: err.message,
    })),
};

export interface PreflightResult {
  cgroupMount: string;
  /** What the helper set up itself, for the log. */
  setUp: string[];
  /** Missing pieces that only some features need (reported as problems, not fatal). */
  warnings: Array<{ key: string; message: string }>;
}

export class PreflightError extends Error {
  override name = 'PreflightError';
}

function errnoOf(err: unknown): string {
  return (err as { code?: string }).code ?? (err as Error).message;
}

/** A command that must exist and succeed; its failure becomes one sentence with the fix. */
async function needCommand(
  host: PreflightHost,
  argv: string[],
  missing: string,
  failed: (stderr: string) => string,
): Promise<void> {
  const r = await host.run(argv);
  if (r.code === 0) return;
  if (r.code === null && /ENOENT/.test(r.stderr)) throw new PreflightError(missing);
  throw new PreflightError(failed(r.stderr.trim().split('\n')[0] ?? ''));
}

export async function preflight(host: PreflightHost = realHost): Promise<PreflightResult> {
  const setUp: string[] = [];
  const warnings: PreflightResult['warnings'] = [];

  host.loadAddon(); // its own error names the build command
  if (!host.exists(TAGGER_OBJECT_PATH))
    throw new PreflightError(`the eBPF program ${TAGGER_OBJECT_PATH} is missing: ${BUILD_HINT}`);

  let cgroupMount: string;
  try {
    cgroupMount = await host.findCgroup2Mount();
  } catch {
    throw new PreflightError(
      'cgroup v2 is not mounted (no cgroup2 line in /proc/self/mountinfo): mount it with `mount -t cgroup2 none /sys/fs/cgroup` (or /sys/fs/cgroup/unified on a hybrid setup), or boot with systemd.unified_cgroup_hierarchy=1. ' +
        'If the helper was started with `ip netns exec`, that remounts /sys and hides it: enter only the network namespace instead (`nsenter --net=/run/netns/NAME switchyard helper …`).',
    );
  }

  try {
    if (host.ensureBpffs(BPFFS_ROOT)) setUp.push(`mounted the BPF filesystem at ${BPFFS_ROOT}`);
  } catch (err) {
    const code = errnoOf(err);
    const why =
      code === 'EROFS'
        ? '/sys is read-only here'
        : code === 'EPERM' || code === 'EACCES'
          ? 'no permission to mount; the helper needs CAP_SYS_ADMIN'
          : code === 'ENOENT'
            ? `${BPFFS_ROOT} does not exist (a kernel without CONFIG_BPF_SYSCALL)`
            : code;
    throw new PreflightError(
      `the BPF filesystem is not mounted at ${BPFFS_ROOT} and the helper could not mount it (${why}): run \`mount -t bpf bpf ${BPFFS_ROOT}\` as root, or add \`bpf ${BPFFS_ROOT} bpf defaults 0 0\` to /etc/fstab`,
    );
  }

  await needCommand(
    host,
    ['ip', '-4', 'rule', 'list'],
    'the `ip` command is missing: install iproute2 (`apt-get install iproute2`)',
    (e) =>
      `the kernel refused policy routing rules (\`ip rule list\`: ${e}): it needs CONFIG_IP_MULTIPLE_TABLES`,
  );
  await needCommand(
    host,
    ['nft', 'list', 'tables'],
    'the `nft` command is missing: install nftables (`apt-get install nftables`)',
    (e) => `nftables does not work here (\`nft list tables\`: ${e}): load it with \`modprobe nf_tables\``,
  );

  if (!host.exists('/dev/net/tun'))
    warnings.push({
      key: 'tun',
      message: 'tunnels cannot start: /dev/net/tun is missing; load the module with `modprobe tun`',
    });

  return { cgroupMount, setUp, warnings };
}
