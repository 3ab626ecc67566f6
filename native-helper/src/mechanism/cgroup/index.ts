// cgroup v2 mechanisms: find the hierarchy, create/remove cgroups, move and list processes.
import { readFile, mkdir, readdir, rmdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { cgroup2MountFrom, parseProcCgroup } from './mountinfo.ts';
import { native } from '../native.ts';

export { parseMountInfo, cgroup2MountFrom, parseProcCgroup } from './mountinfo.ts';
export type { MountInfoEntry } from './mountinfo.ts';

/** The cgroup v2 mount point, from /proc/self/mountinfo (never assumed). */
export async function findCgroup2Mount(): Promise<string> {
  const mount = cgroup2MountFrom(await readFile('/proc/self/mountinfo', 'utf8'));
  if (!mount)
    throw new Error('cgroup v2 is not mounted: mount it (e.g. at /sys/fs/cgroup/unified) and restart.');
  return mount;
}

/** Creates the cgroup directory (and parents); fine if it exists. */
export async function ensureCgroup(cgroupPath: string): Promise<void> {
  await mkdir(cgroupPath, { recursive: true });
}

/** Moves a process (all its threads) into the cgroup. */
export async function moveProcess(pid: number, cgroupPath: string): Promise<void> {
  await writeFile(path.join(cgroupPath, 'cgroup.procs'), `${pid}\n`);
}

/**
 * Freezes or thaws every process in the cgroup (cgroup v2 cgroup.freeze), waiting up to `waitMs` for the
 * kernel to report it done. Returns whether it did; a cgroup that is gone is an error.
 */
export async function setFrozen(cgroupPath: string, frozen: boolean, waitMs = 500): Promise<boolean> {
  await writeFile(path.join(cgroupPath, 'cgroup.freeze'), frozen ? '1\n' : '0\n');
  const want = `frozen ${frozen ? 1 : 0}`;
  const until = Date.now() + waitMs;
  for (;;) {
    const events = await readFile(path.join(cgroupPath, 'cgroup.events'), 'utf8');
    if (events.split('\n').includes(want)) return true;
    if (Date.now() >= until) return false;
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** PIDs directly in the cgroup (not in its children). */
export async function listProcesses(cgroupPath: string): Promise<number[]> {
  const text = await readFile(path.join(cgroupPath, 'cgroup.procs'), 'utf8');
  return text
    .split('\n')
    .filter((l) => l.trim())
    .map(Number);
}

/** The cgroup v2 path of a process relative to the mount ("/switchyard.x/app-3"), or null if gone. */
export async function cgroupOfPid(pid: number): Promise<string | null> {
  try {
    return parseProcCgroup(await readFile(`/proc/${pid}/cgroup`, 'utf8'));
  } catch (err) {
    if (isGone(err)) return null;
    throw err;
  }
}

/** The cgroup v2 id (u64, what bpf_get_current_cgroup_id() returns). */
export function cgroupId(cgroupPath: string): bigint {
  return native().cgroupId(cgroupPath);
}

/**
 * Removes a cgroup and everything below it. Processes still inside are moved to `moveTo` first
 * (a cgroup with processes cannot be removed). Missing directories are fine.
 */
export async function removeCgroupTree(cgroupPath: string, opts: { moveTo: string }): Promise<void> {
  let entries;
  try {
    entries = await readdir(cgroupPath, { withFileTypes: true });
  } catch (err) {
    if (isGone(err)) return;
    throw err;
  }
  for (const e of entries) {
    if (e.isDirectory()) await removeCgroupTree(path.join(cgroupPath, e.name), opts);
  }
  // A process may fork while we move its siblings: retry a few times until the cgroup is empty.
  for (let attempt = 0; ; attempt++) {
    for (const pid of await listProcesses(cgroupPath).catch(() => [] as number[])) {
      await moveProcess(pid, opts.moveTo).catch((err: unknown) => {
        if (!isGone(err) && !(isErrno(err) && err.code === 'ESRCH')) throw err;
      });
    }
    try {
      await rmdir(cgroupPath);
      return;
    } catch (err) {
      if (isGone(err)) return;
      if (!(isErrno(err) && err.code === 'EBUSY') || attempt >= 20) {
        throw new Error(`cannot remove cgroup ${cgroupPath}: ${(err as Error).message}`, { cause: err });
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  }
}

function isErrno(err: unknown): err is NodeJS.ErrnoException {
  return err instanceof Error && 'code' in err;
}

function isGone(err: unknown): boolean {
  return isErrno(err) && (err.code === 'ENOENT' || err.code === 'ESRCH');
}
