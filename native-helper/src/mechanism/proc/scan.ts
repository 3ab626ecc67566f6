// A snapshot of running processes from /proc, tolerant of processes exiting mid-scan.
import { readdir, readFile, readlink } from 'node:fs/promises';
import { parseProcCgroup } from '../cgroup/mountinfo.ts';

export interface ProcessInfo {
  pid: number;
  ppid: number;
  /** Real uid. */
  uid: number;
  /** /proc/PID/exe, or null for kernel threads and when unreadable. Deleted binaries end in " (deleted)". */
  exe: string | null;
  cmdline: string[];
  /** cgroup v2 path relative to the mount, or null if the process has none (v1-only). */
  cgroup: string | null;
}

/** Fields of /proc/PID/status we need. */
export function parseStatus(text: string): { ppid: number; uid: number } | null {
  const ppid = /^PPid:\s+(\d+)/m.exec(text);
  const uid = /^Uid:\s+(\d+)/m.exec(text);
  if (!ppid?.[1] || !uid?.[1]) return null;
  return { ppid: Number(ppid[1]), uid: Number(uid[1]) };
}

/** NUL-separated argv (with its trailing NUL) → array. */
export function parseCmdline(text: string): string[] {
  const parts = text.split('\0');
  if (parts.at(-1) === '') parts.pop();
  return parts;
}

/** One process, or null if it is gone. */
export async function readProcess(pid: number): Promise<ProcessInfo | null> {
  try {
    const [status, cmdline, cgroup] = await Promise.all([
      readFile(`/proc/${pid}/status`, 'utf8'),
      readFile(`/proc/${pid}/cmdline`, 'utf8'),
      readFile(`/proc/${pid}/cgroup`, 'utf8'),
    ]);
    const st = parseStatus(status);
    if (!st) return null;
    const exe = await readlink(`/proc/${pid}/exe`).catch(() => null); // kernel threads have none
    return { pid, ...st, exe, cmdline: parseCmdline(cmdline), cgroup: parseProcCgroup(cgroup) };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ESRCH') return null;
    throw err;
  }
}

export async function scanProcesses(): Promise<ProcessInfo[]> {
  const pids = (await readdir('/proc')).filter((n) => /^\d+$/.test(n)).map(Number);
  const all = await Promise.all(pids.map(readProcess));
  return all.filter((p): p is ProcessInfo => p !== null);
}
