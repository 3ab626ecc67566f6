// Starting an app for a caller (apps.launch: the UI's launch button, the tray, `switchyard launch`).
// The root helper runs exactly one fixed program, /usr/bin/setpriv, with an environment of its own;
// setpriv drops to the caller's uid, gid and groups before anything of the caller's choosing runs,
// so no caller's LD_PRELOAD, PATH or program ever runs as root. The dropped shell waits on its stdin
// until the helper has moved it into the app's cgroup, then execs the app: its first socket is tagged.
import { readFileSync } from 'node:fs';
import { supervisor } from '../mechanism/supervisor.ts';
import { moveProcess } from '../mechanism/cgroup/index.ts';
import { ApiError } from '../api/schema.ts';

const SETPRIV = '/usr/bin/setpriv';
const ROOT_ENV = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LC_ALL: 'C' };
/** What a desktop app needs from its session; nothing that changes how programs load or run. */
const ALLOWED = new Set([
  'DISPLAY',
  'WAYLAND_DISPLAY',
  'XAUTHORITY',
  'DBUS_SESSION_BUS_ADDRESS',
  'XDG_RUNTIME_DIR',
  'XDG_SESSION_TYPE',
  'XDG_CURRENT_DESKTOP',
  'XDG_DATA_DIRS',
  'XDG_CONFIG_DIRS',
  'HOME',
  'USER',
  'LOGNAME',
  'SHELL',
  'LANG',
  'LANGUAGE',
  'TZ',
]);
const USER_PATH = '/usr/local/bin:/usr/bin:/bin:/usr/local/games:/usr/games';
// Runs as the caller: wait for the helper's go (it moves us into the cgroup first), then exec.
const SHIM = 'read -r go || exit 1; cd "${HOME:-/}" 2>/dev/null || cd /; exec "$@" </dev/null';

/** The caller's session variables that an app may inherit (allow-list; values sanitised). */
export function sessionEnvironment(callerEnv: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = { PATH: USER_PATH };
  for (const [k, v] of Object.entries(callerEnv)) {
    if ((ALLOWED.has(k) || /^LC_[A-Z]+$/.test(k)) && v.length <= 4096 && !v.includes('\0')) env[k] = v;
  }
  return env;
}

/** A process's environment from /proc (empty when it is gone or unreadable). */
export function readEnviron(pid: number): Record<string, string> {
  const env: Record<string, string> = {};
  try {
    for (const kv of readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0')) {
      const eq = kv.indexOf('=');
      if (eq > 0) env[kv.slice(0, eq)] = kv.slice(eq + 1);
    }
  } catch {
    // no environment: the app gets PATH only
  }
  return env;
}

/** The argv the helper spawns: setpriv first, so everything after it runs as the caller. */
export function launchArgv(
  user: { uid: number; gid: number },
  env: Record<string, string>,
  argv: string[],
): string[] {
  return [
    SETPRIV,
    `--reuid=${user.uid}`,
    `--regid=${user.gid}`,
    '--init-groups',
    '--',
    '/usr/bin/env',
    '-i',
    ...Object.entries(env).map(([k, v]) => `${k}=${v}`),
    '/bin/sh',
    '-c',
    SHIM,
    'switchyard-launch',
    ...argv,
  ];
}

/**
 * Start argv as user inside a cgroup: place(pid) moves the new process there before it may exec.
 * Resolves with the app's PID (the same process all the way through: setpriv, env and sh exec).
 */
export async function launchAs(
  user: { uid: number; gid: number },
  env: Record<string, string>,
  argv: string[],
  place: (pid: number) => Promise<void>,
): Promise<number> {
  const child = supervisor.start(launchArgv(user, env, argv), {
    name: `${argv[0]} (through setpriv)`,
    env: ROOT_ENV,
    cwd: '/',
    detached: true,
    stdin: 'pipe', // the go signal; one that already failed (a bad uid) is reported by its exit
    stdout: 'ignore',
    stderr: 'ignore',
  });
  const pid = await child.spawned;
  try {
    await place(pid);
  } catch (err) {
    child.signal('SIGKILL'); // never let it run outside its cgroup
    throw err;
  }
  child.stdin!.end('go\n');
  child.release(); // the app is the user's now: it outlives us
  return pid;
}

/**
 * apps.launch: start argv as the calling user, with their session's environment, inside the app's
 * cgroup (moved there before it may exec). Resolves with its PID.
 */
export async function launchApp(
  appName: string,
  peer: { pid: number; uid: number; gid: number },
  argv: string[],
  cgroupPath: string,
): Promise<number> {
  const env = sessionEnvironment(readEnviron(peer.pid));
  return launchAs(peer, env, argv, (p) => moveProcess(p, cgroupPath)).catch((err: Error) => {
    throw new ApiError('INTERNAL', `cannot launch ${appName}: ${err.message}`);
  });
}

/** A process's command (argv[0]) for messages, or "pid N" once it is gone. */
export function commandOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0] || `pid ${pid}`;
  } catch {
    return `pid ${pid}`;
  }
}
