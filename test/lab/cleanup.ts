// Remove everything a lab (or a Switchyard helper instance named like it) left behind, found by prefix.
// Idempotent: every step tolerates "already gone", so it also cleans up after a crashed run.
import { readdir, readFile, rm, rmdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from '../../native-helper/src/mechanism/exec.ts';
import { isAlive, killPid, processStartTime } from './processes.ts';
import { LAB_RUN_ROOT, readState, stateDir } from './state.ts';
import { checkPrefix } from './topology.ts';

export interface DownReport {
  killed: number[];
  namespaces: string[];
  cgroups: string[];
  bpfPins: string[];
  stateDirRemoved: boolean;
}

const NETNS_DIR = '/run/netns';
const ETC_NETNS_DIR = '/etc/netns';

async function listDir(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch {
    return [];
  }
}

/** Namespaces named `<prefix>-…`. The dash keeps prefix "syt1" from matching "syt12-desktop". */
export async function labNamespaces(prefix: string): Promise<string[]> {
  return (await listDir(NETNS_DIR)).filter((n) => n.startsWith(`${prefix}-`));
}

/** A helper instance's names are `switchyard.<prefix>` or `switchyard.<prefix><separator>…`. */
function instanceNameMatches(name: string, head: string): boolean {
  return name === head || (name.startsWith(head) && /^[._@:-]/.test(name.slice(head.length)));
}

/** Mount points of a filesystem type, from /proc/self/mountinfo (never hard-coded). */
export async function mountPoints(fsType: string): Promise<string[]> {
  const text = await readFile('/proc/self/mountinfo', 'utf8');
  const points: string[] = [];
  for (const line of text.split('\n')) {
    const [before, after] = line.split(' - ');
    if (!before || !after) continue;
    if (after.split(' ')[0] === fsType) {
      const mountPoint = before.split(' ')[4];
      if (mountPoint) points.push(mountPoint.replace(/\\040/g, ' '));
    }
  }
  return points;
}

export async function cgroupRoot(): Promise<string | null> {
  return (await mountPoints('cgroup2'))[0] ?? null;
}

async function isDir(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

/** Every cgroup directory (anywhere in the tree) named like the helper instance. */
export async function instanceCgroups(prefix: string): Promise<string[]> {
  const root = await cgroupRoot();
  if (!root) return [];
  const found: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await listDir(dir)) {
      const path = join(dir, entry);
      if (!(await isDir(path))) continue;
      if (instanceNameMatches(entry, `switchyard.${prefix}`)) found.push(path);
      else await walk(path);
    }
  };
  await walk(root);
  return found;
}

async function cgroupPids(dir: string): Promise<number[]> {
  const pids: number[] = [];
  const walk = async (d: string): Promise<void> => {
    try {
      const procs = await readFile(join(d, 'cgroup.procs'), 'utf8');
      pids.push(...procs.split('\n').filter(Boolean).map(Number));
    } catch {
      return;
    }
    for (const entry of await listDir(d)) if (await isDir(join(d, entry))) await walk(join(d, entry));
  };
  await walk(dir);
  return pids;
}

/** rmdir depth-first; a cgroup directory can only be removed once it and its children are empty. */
async function removeCgroupTree(dir: string): Promise<void> {
  for (const entry of await listDir(dir)) {
    const child = join(dir, entry);
    if (await isDir(child)) await removeCgroupTree(child);
  }
  for (let attempt = 0; ; attempt++) {
    try {
      await rmdir(dir);
      return;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return;
      // EBUSY while killed processes are still exiting.
      if (code !== 'EBUSY' || attempt >= 40)
        throw new Error(`Could not remove cgroup ${dir} (${code}); check for processes in it.`, {
          cause: err,
        });
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

async function netnsPids(ns: string): Promise<number[]> {
  const result = await run(['ip', 'netns', 'pids', ns], { allowFailure: true });
  return result.stdout
    .split('\n')
    .filter(Boolean)
    .map(Number)
    .filter((n) => n > 0);
}

async function killAll(pids: number[], killed: number[]): Promise<void> {
  await Promise.all(
    [...new Set(pids)].map(async (pid) => {
      const startTime = processStartTime(pid);
      if (startTime !== null && (await killPid(pid, startTime))) killed.push(pid);
    }),
  );
}

export async function downByPrefix(prefix: string): Promise<DownReport> {
  checkPrefix(prefix);
  const report: DownReport = { killed: [], namespaces: [], cgroups: [], bpfPins: [], stateDirRemoved: false };

  // Recorded processes first (only if the PID still has the recorded start time), then anything
  // else living in a lab namespace or in the instance's cgroups.
  let state = null;
  try {
    state = await readState(prefix);
  } catch {
    // A corrupt state file must not stop the cleanup; namespaces are still found by name.
  }
  for (const p of state?.processes ?? []) {
    if (await killPid(p.pid, p.startTime)) report.killed.push(p.pid);
  }

  const namespaces = await labNamespaces(prefix);
  for (const ns of namespaces) await killAll(await netnsPids(ns), report.killed);

  const cgroups = await instanceCgroups(prefix);
  for (const cg of cgroups) await killAll(await cgroupPids(cg), report.killed);

  for (const ns of namespaces) {
    const result = await run(['ip', 'netns', 'del', ns], { allowFailure: true });
    if (result.code !== 0 && (await labNamespaces(prefix)).includes(ns)) {
      throw new Error(`Could not delete namespace ${ns}: ${result.stderr.trim()}`);
    }
    report.namespaces.push(ns);
  }
  for (const dir of await listDir(ETC_NETNS_DIR)) {
    if (dir.startsWith(`${prefix}-`)) await rm(join(ETC_NETNS_DIR, dir), { recursive: true, force: true });
  }

  for (const cg of cgroups) {
    await removeCgroupTree(cg);
    report.cgroups.push(cg);
  }

  for (const bpffs of await mountPoints('bpf')) {
    for (const entry of await listDir(bpffs)) {
      if (instanceNameMatches(entry, `switchyard-${prefix}`)) {
        await rm(join(bpffs, entry), { recursive: true, force: true });
        report.bpfPins.push(join(bpffs, entry));
      }
    }
  }

  const dir = stateDir(prefix);
  report.stateDirRemoved = await isDir(dir);
  await rm(dir, { recursive: true, force: true });
  return report;
}

/**
 * Take down labs whose owning process is gone without cleaning up (e.g. a test runner killed with
 * SIGKILL). Labs started by the CLI have no owner and are left alone.
 */
export async function downStale(): Promise<string[]> {
  const removed: string[] = [];
  for (const prefix of await listDir(LAB_RUN_ROOT)) {
    let state;
    try {
      state = await readState(checkPrefix(prefix));
    } catch {
      continue;
    }
    if (state?.owner && !isAlive(state.owner.pid, state.owner.startTime)) {
      await downByPrefix(prefix);
      removed.push(prefix);
    }
  }
  return removed;
}
