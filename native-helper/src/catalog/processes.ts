// Running processes: what /proc tells about who a process is, and whether an app's matchers claim it.
import { RE2JS } from 're2js';
import { readFile, readdir, readlink } from 'node:fs/promises';
import path from 'node:path';
import type { AppMatcher } from '../api/schema.ts';
import { desktopIdFromHintPath } from './desktop-entry.ts';
import { isInterpreter } from './identity-rules.ts';
import { parseKeyFile, unescapeValue } from './key-file.ts';
import { hasInetSocket, type InetInodeCache } from './process-sockets.ts';

export interface ProcessIdentity {
  pid: number;
  /** /proc/PID/exe; null for kernel threads and when it cannot be read. */
  exe: string | null;
  cmdline: string[];
  /** From /proc/PID/root/.flatpak-info. */
  flatpakId?: string;
  /** The desktop id the process (or an ancestor: the environment is inherited) was launched from. */
  desktopHint?: string;
  /** GIO_LAUNCHED_DESKTOP_FILE_PID: the process the desktop launched; descendants carry the same hint. */
  desktopHintPid?: number;
  /** Real uid, from /proc/PID/status. */
  uid?: number;
  /** Holds a TCP/UDP/raw socket right now; read only when asked ({ sockets: true }). */
  inetSockets?: boolean;
}

export type MatchReason = 'flatpakId' | 'exe' | 'cmdline' | 'desktopId';

export class InvalidCmdlineRegexError extends Error {
  constructor(
    readonly pattern: string,
    cause: unknown,
  ) {
    super(
      `The cmdline matcher ${JSON.stringify(pattern)} is not a valid regular expression ` +
        `(${cause instanceof Error ? cause.message : String(cause)}); fix or remove it.`,
    );
    this.name = 'InvalidCmdlineRegexError';
  }
}

// RE2 semantics (re2js): matching is linear in the command line's length whatever the pattern, so a
// pattern like (a+)+b cannot freeze the helper. Look-around and backreferences are refused at add time.
const compiled = new Map<string, RE2JS>();
const COMPILED_LIMIT = 4096;
/** Only this much of a command line is matched: bounds the work per process (argv can be megabytes). */
export const CMDLINE_MATCH_BYTES = 8192;

/** Compile a cmdline matcher once; throws InvalidCmdlineRegexError with the reason when RE2 refuses it. */
export function compileCmdline(pattern: string): RE2JS {
  let re = compiled.get(pattern);
  if (re) return re;
  try {
    re = RE2JS.compile(pattern);
  } catch (err) {
    throw new InvalidCmdlineRegexError(pattern, err);
  }
  if (compiled.size >= COMPILED_LIMIT) compiled.clear();
  compiled.set(pattern, re);
  return re;
}

const DELETED_SUFFIX = ' (deleted)';

/** /proc/PID/exe of a replaced binary (a package upgrade) reads "/usr/bin/foo (deleted)". */
export function liveExePath(exe: string): string {
  return exe.endsWith(DELETED_SUFFIX) ? exe.slice(0, -DELETED_SUFFIX.length) : exe;
}

/**
 * Which of the matchers claims the process, or null. Any one matcher suffices. An interpreter's exe
 * (python3, node, sh…) says nothing about which script runs, so when the matchers carry a cmdline,
 * an interpreter process is judged by its cmdline only. The desktop hint is tried last: children
 * inherit it, so it is the weakest evidence.
 */
export function matchProcess(matchers: AppMatcher, proc: ProcessIdentity): MatchReason | null {
  if (matchers.flatpakId && proc.flatpakId === matchers.flatpakId) return 'flatpakId';
  const exe = proc.exe ? liveExePath(proc.exe) : null;
  if (exe && matchers.exe?.includes(exe) && !(matchers.cmdline && isInterpreter(exe))) return 'exe';
  if (
    matchers.cmdline &&
    proc.cmdline.length &&
    compileCmdline(matchers.cmdline).matcher(proc.cmdline.join(' ').slice(0, CMDLINE_MATCH_BYTES)).find()
  ) {
    return 'cmdline';
  }
  if (matchers.desktopId && proc.desktopHint === matchers.desktopId) return 'desktopId';
  return null;
}

/** How much a reason proves: an inherited desktop hint least, the sandbox's own Flatpak id most. */
export const MATCH_STRENGTH: Readonly<Record<MatchReason, number>> = {
  flatpakId: 4,
  exe: 3,
  cmdline: 2,
  desktopId: 1,
};

/**
 * The app with the strongest claim on the process (the first one on a tie), so that a desktop hint a
 * process inherited from its launcher never beats another app's exe. Throws on an invalid cmdline regex.
 */
export function bestMatch<T extends { matchers: AppMatcher }>(
  apps: readonly T[],
  proc: ProcessIdentity,
): { app: T; reason: MatchReason } | null {
  let best: { app: T; reason: MatchReason } | null = null;
  for (const app of apps) {
    const reason = matchProcess(app.matchers, proc);
    if (reason && (!best || MATCH_STRENGTH[reason] > MATCH_STRENGTH[best.reason])) best = { app, reason };
  }
  return best;
}

export interface ProcOptions {
  /** Where procfs is mounted; tests point it at a fixture tree. */
  procRoot?: string;
  /** Also find out whether the process holds an internet socket (costs a readlink per fd). */
  sockets?: boolean;
  /** Shares the per-namespace socket tables across one scan. */
  socketCache?: InetInodeCache;
}

/** Who a process is, from /proc; null when it has gone. Fields it may not read (EACCES) are left out. */
export async function readProcessIdentity(
  pid: number,
  opts: ProcOptions = {},
): Promise<ProcessIdentity | null> {
  const dir = path.join(opts.procRoot ?? '/proc', String(pid));
  const [status, cmdline, exe, environ, flatpakInfo] = await Promise.all([
    readFile(path.join(dir, 'status'), 'utf8').catch(errorCode),
    readFile(path.join(dir, 'cmdline')).catch(errorCode),
    readlink(path.join(dir, 'exe')).catch(errorCode),
    readFile(path.join(dir, 'environ')).catch(errorCode),
    readFile(path.join(dir, 'root/.flatpak-info'), 'utf8').catch(errorCode),
  ]);
  if (status instanceof ProcError && (status.code === 'ENOENT' || status.code === 'ESRCH')) return null;

  const identity: ProcessIdentity = {
    pid,
    exe: typeof exe === 'string' ? exe : null,
    cmdline: cmdline instanceof Buffer ? splitNul(cmdline) : [],
  };
  if (typeof status === 'string') {
    const uid = /^Uid:\s+(\d+)/m.exec(status);
    if (uid) identity.uid = Number(uid[1]);
  }
  if (typeof flatpakInfo === 'string') {
    const name = parseKeyFile(flatpakInfo).get('Application')?.get('name');
    if (name) identity.flatpakId = unescapeValue(name);
  }
  if (environ instanceof Buffer) Object.assign(identity, desktopHintFromEnviron(splitNul(environ)));
  if (opts.sockets) {
    const inet = await hasInetSocket(dir, opts.socketCache);
    if (inet !== undefined) identity.inetSockets = inet;
  }
  return identity;
}

/** GIO_LAUNCHED_DESKTOP_FILE (GLib launchers) or BAMF_DESKTOP_FILE_HINT (Unity, snaps) → desktop id. */
export function desktopHintFromEnviron(
  environ: readonly string[],
): Pick<ProcessIdentity, 'desktopHint' | 'desktopHintPid'> {
  const env = new Map<string, string>();
  for (const entry of environ) {
    const eq = entry.indexOf('=');
    if (eq > 0) env.set(entry.slice(0, eq), entry.slice(eq + 1));
  }
  const file = env.get('GIO_LAUNCHED_DESKTOP_FILE') || env.get('BAMF_DESKTOP_FILE_HINT');
  if (!file) return {};
  const out: Pick<ProcessIdentity, 'desktopHint' | 'desktopHintPid'> = {
    desktopHint: desktopIdFromHintPath(file),
  };
  const pid = Number(env.get('GIO_LAUNCHED_DESKTOP_FILE_PID'));
  if (env.has('GIO_LAUNCHED_DESKTOP_FILE') && Number.isInteger(pid) && pid > 0) out.desktopHintPid = pid;
  return out;
}

/** Every pid in /proc, ascending. */
export async function listPids(opts: ProcOptions = {}): Promise<number[]> {
  const names = await readdir(opts.procRoot ?? '/proc');
  return names
    .filter((n) => /^\d+$/.test(n))
    .map(Number)
    .sort((a, b) => a - b);
}

/** Identities of every process that is still there by the time it is read. */
export async function readAllProcessIdentities(opts: ProcOptions = {}): Promise<ProcessIdentity[]> {
  const shared = { ...opts, socketCache: opts.socketCache ?? new Map() };
  const all = await Promise.all((await listPids(opts)).map((pid) => readProcessIdentity(pid, shared)));
  return all.filter((p): p is ProcessIdentity => p !== null);
}

class ProcError {
  constructor(readonly code: string) {}
}

function errorCode(err: unknown): ProcError {
  return new ProcError((err as NodeJS.ErrnoException).code ?? 'UNKNOWN');
}

function splitNul(data: Buffer): string[] {
  const parts = data.toString('utf8').split('\0');
  if (parts.at(-1) === '') parts.pop();
  return parts;
}
