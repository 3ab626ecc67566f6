// Long-running lab processes (servers, apps, test children). exec.ts runs a command to completion;
// these outlive the call, so they start through the supervisor.
import { spawnSync, type ChildProcess } from 'node:child_process';
import { openSync, closeSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { supervisor } from '../../native-helper/src/mechanism/supervisor.ts';

export const LAB_DIR = dirname(fileURLToPath(import.meta.url));
/** Absolute, so lab scripts start the same whatever the working directory (e.g. from a .desktop Exec). */
export const TSX_LOADER = import.meta.resolve('tsx');

/** Expand the `{node}` placeholder and make lab script paths absolute. */
export function labArgv(argv: string[]): string[] {
  return argv.flatMap((arg) => {
    if (arg === '{node}') return [process.execPath, '--import', TSX_LOADER];
    if (/^(servers|apps)\/[\w.-]+\.ts$/.test(arg)) return [join(LAB_DIR, arg)];
    return [arg];
  });
}

/** Field 22 of /proc/PID/stat; null when the process is gone or a zombie. */
export function processStartTime(pid: number): string | null {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  const afterComm = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  if (afterComm[0] === 'Z' || afterComm[0] === 'X') return null;
  return afterComm[19] ?? null;
}

export function isAlive(pid: number, startTime?: string): boolean {
  const now = processStartTime(pid);
  return now !== null && (startTime === undefined || now === startTime);
}

/** TERM, wait, then KILL; only if the PID still is the process we mean (same start time). */
export async function killPid(pid: number, startTime?: string, graceMs = 2000): Promise<boolean> {
  if (pid <= 1 || pid === process.pid || !isAlive(pid, startTime)) return false;
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return false;
  }
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid, startTime)) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  try {
    if (isAlive(pid, startTime)) process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
  const killDeadline = Date.now() + 2000;
  while (isAlive(pid, startTime) && Date.now() < killDeadline) await new Promise((r) => setTimeout(r, 20));
  return true;
}

export interface Started {
  pid: number;
  startTime: string;
}

/** Start a process inside a namespace that survives this one (the CLI exits after `up`). */
export function startDetached(ns: string, argv: string[], logFile: string, env?: NodeJS.ProcessEnv): Started {
  const fd = openSync(logFile, 'a');
  try {
    // `ip netns exec` execs the program, so the PID we get is the program's own.
    const child = supervisor.start(['ip', 'netns', 'exec', ns, ...argv], {
      name: argv[0],
      detached: true,
      stdout: fd,
      stderr: fd,
      env: env ?? process.env,
      cwd: '/',
    });
    child.release(); // `lab down` stops it by PID, maybe from another process
    if (child.pid === undefined) throw new Error(`Could not start ${argv.join(' ')} in ${ns}.`);
    return { pid: child.pid, startTime: processStartTime(child.pid) ?? '' };
  } finally {
    closeSync(fd);
  }
}

/** Start a process inside a namespace, attached to the caller (pipes), for tests. */
export function startAttached(ns: string, argv: string[], env?: NodeJS.ProcessEnv): ChildProcess & Started {
  const started = supervisor.start(['ip', 'netns', 'exec', ns, ...argv], {
    name: argv[0],
    stdin: 'pipe',
    stdout: 'pipe',
    stderr: 'pipe',
    env: env ?? process.env,
  });
  if (started.pid === undefined) throw new Error(`Could not start ${argv.join(' ')} in ${ns}.`);
  // Tests use the Node handle itself (its streams, kill, 'exit').
  return Object.assign(started.child, { pid: started.pid, startTime: processStartTime(started.pid) ?? '' });
}

/**
 * Blocking cleanup for process 'exit' handlers, where nothing asynchronous runs: a child runs the
 * normal (async) `down`.
 */
export function downSyncInChild(prefix: string): void {
  // spawnSync, not the supervisor: an 'exit' handler can only wait synchronously.
  spawnSync(
    process.execPath,
    ['--import', TSX_LOADER, join(LAB_DIR, 'cli.ts'), 'down', '--quiet', '--prefix', prefix],
    {
      stdio: 'inherit',
      timeout: 60_000,
    },
  );
}
