// Where a lab keeps what it started, so `down` (even from another process, or after a crash) can undo it.
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export const LAB_RUN_ROOT = '/run/switchyard-lab';

export interface TrackedProcess {
  pid: number;
  /** /proc/PID/stat start time, so a reused PID is never mistaken for ours. */
  startTime: string;
  name: string;
  kind: 'server' | 'app' | 'spawn';
  role: string;
  argv: string[];
  logFile: string | null;
}

export interface UplinkState {
  id: string;
  admin: 'up' | 'down';
  rateMbit: number | null;
}

export interface LabState {
  version: 1;
  prefix: string;
  createdAt: string;
  uplinkCount: number;
  /** The process whose exit takes the lab down (tests); null for a lab started by the CLI. */
  owner: { pid: number; startTime: string } | null;
  uplinks: UplinkState[];
  processes: TrackedProcess[];
}

export function stateDir(prefix: string): string {
  return join(LAB_RUN_ROOT, prefix);
}

export function statePath(prefix: string): string {
  return join(stateDir(prefix), 'state.json');
}

export function logDir(prefix: string): string {
  return join(stateDir(prefix), 'logs');
}

/** The XDG data dir holding the sample apps' .desktop files and icons. */
export function dataDir(prefix: string): string {
  return join(stateDir(prefix), 'share');
}

export async function readState(prefix: string): Promise<LabState | null> {
  let text: string;
  try {
    text = await readFile(statePath(prefix), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  const state = JSON.parse(text) as LabState;
  if (state.version !== 1 || state.prefix !== prefix) {
    throw new Error(
      `${statePath(prefix)} is not a lab state file for "${prefix}"; run "lab down --prefix ${prefix}".`,
    );
  }
  return state;
}

let writeCounter = 0;

/** Write atomically: a crash mid-write must not leave a state file `down` cannot read. */
export async function writeState(state: LabState): Promise<void> {
  await mkdir(stateDir(state.prefix), { recursive: true });
  const tmp = `${statePath(state.prefix)}.${process.pid}.${++writeCounter}.tmp`;
  await writeFile(tmp, JSON.stringify(state, null, 2) + '\n');
  await rename(tmp, statePath(state.prefix));
}
