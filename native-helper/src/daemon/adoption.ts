// Adoption: a process that matches an app joins the app's cgroup the moment it execs (proc connector),
// or when the helper scans /proc (at start, after a rescan, after lost events). Only processes in the
// helper's own network namespace, and never the helper itself or what it started.
import { closeSync, openSync, readFileSync, readlinkSync } from 'node:fs';
import {
  type ProcessIdentity,
  bestMatch,
  readAllProcessIdentities,
  readProcessIdentity,
} from '../catalog/processes.ts';
import { cgroupOfPid } from '../mechanism/cgroup/index.ts';
import { isWireguardDaemon } from '../mechanism/wireguard/index.ts';
import { ProcEvents } from '../mechanism/proc/events.ts';
import type { PolicyApp } from '../policy/model.ts';
import type { AppCgroups } from './app-cgroups.ts';

export interface AdoptionDeps {
  cgroups: AppCgroups;
  apps: () => readonly PolicyApp[];
  enroll: (id: string, pid: number, via: 'exec' | 'scan', since?: bigint, exe?: string) => Promise<unknown>;
  problem: (key: string, message: string) => void;
  log: (msg: string) => void;
  /** Every exec in any namespace, before adoption looks at it (wireguard-guard.ts watches its daemons). */
  execed?: (pid: number) => void;
  /** Exec events were lost or are not available: whoever watches them scans /proc instead. */
  rescan?: () => void;
}

export class Adoption {
  private events: ProcEvents | null = null;
  private scanning: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(private readonly deps: AdoptionDeps) {}

  /** Listens for execs; without the proc connector, scans /proc every 2 s instead. */
  start(): void {
    const fallBack = (why: string) => {
      this.deps.problem('proc', `${why}; scanning /proc every 2 s instead`);
      this.scanning ??= setInterval(() => {
        this.deps.rescan?.();
        void this.adoptRunning();
      }, 2000);
    };
    try {
      this.events = new ProcEvents().start({ netnsPath: initialNetnsPath(), execOnly: true });
      this.events.on('exec', (e) => {
        this.deps.execed?.(e.pid);
        void this.onExec(e.pid, e.timestampNs);
      });
      this.events.on('overflow', () => {
        this.deps.rescan?.();
        void this.adoptRunning();
      });
      this.events.on('error', (err) => fallBack(`process events stopped (${err.message})`));
    } catch (err) {
      fallBack(`no process events (${(err as Error).message})`);
    }
  }

  stop(): void {
    this.stopped = true;
    this.events?.stop();
    if (this.scanning) clearInterval(this.scanning);
  }

  /** Adopt every running process in our netns that matches an app. */
  async adoptRunning(): Promise<void> {
    for (const proc of await readAllProcessIdentities()) {
      if (proc.pid === process.pid || !inOurNetns(proc.pid)) continue;
      const cg = await cgroupOfPid(proc.pid).catch(() => null);
      if (cg === null || this.deps.cgroups.isOurs(cg)) continue;
      const app = this.match(proc);
      if (!app) continue;
      await this.deps
        .enroll(app.id, proc.pid, 'scan', undefined, proc.exe ?? undefined)
        .catch((err: unknown) => {
          if (!isGone(err)) this.deps.log(`adopting pid ${proc.pid}: ${(err as Error).message}`);
        });
    }
  }

  private async onExec(pid: number, timestampNs: bigint | number): Promise<void> {
    if (this.stopped || pid === process.pid || !inOurNetns(pid)) return;
    try {
      // A process already inside one of our app cgroups stays with its app (multi-process apps are one app).
      const cg = await cgroupOfPid(pid);
      if (cg === null || this.deps.cgroups.isOurs(cg)) return;
      const proc = await readProcessIdentity(pid);
      if (!proc) return;
      const app = this.match(proc);
      if (app) await this.deps.enroll(app.id, pid, 'exec', BigInt(timestampNs), proc.exe ?? undefined);
    } catch (err) {
      if (!isGone(err)) this.deps.log(`adopting pid ${pid}: ${(err as Error).message}`);
    }
  }

  private match(proc: ProcessIdentity): PolicyApp | undefined {
    if (!proc.exe || proc.pid === 1 || isHelperOrChild(proc.pid)) return undefined;
    // A WireGuard daemon's UDP in an app routed into its own device would loop (mechanism/wireguard).
    if (isWireguardDaemon(proc.exe)) return undefined;
    // Hand-added and managed apps first: they are the user's explicit word; then the strongest match.
    const apps = this.deps.apps();
    try {
      return (
        bestMatch(
          apps.filter((a) => a.source === 'manual'),
          proc,
        ) ?? bestMatch(apps, proc)
      )?.app;
    } catch {
      return undefined; // an invalid pattern was rejected when it was added
    }
  }
}

const OWN_NETNS = readlinkSync('/proc/self/ns/net');

/**
 * The helper's routing applies to its own network namespace only, so it adopts only processes there:
 * a container's processes (another netns) are left alone.
 */
export function inOurNetns(pid: number): boolean {
  try {
    return readlinkSync(`/proc/${pid}/ns/net`) === OWN_NETNS;
  } catch {
    return false;
  }
}

/** The helper itself and what it started (nft, ip, the data path, a launch's setpriv) are never adopted. */
export function isHelperOrChild(pid: number): boolean {
  for (let p = pid, depth = 0; p > 1 && depth < 16; depth++) {
    if (p === process.pid) return true;
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      p = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    } catch {
      return false;
    }
  }
  return false;
}

/**
 * The proc connector only exists in the initial network namespace. PID 1's namespace is the usual way
 * in; where PID 1 is hidden (some sandboxes), kthreadd (PID 2) always lives there too.
 */
function initialNetnsPath(): string {
  for (const path of ['/proc/1/ns/net', '/proc/2/ns/net']) {
    try {
      closeSync(openSync(path, 'r'));
      return path;
    } catch {
      // try the next one
    }
  }
  return '/proc/1/ns/net';
}

export function isGone(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException)?.code;
  return code === 'ENOENT' || code === 'ESRCH';
}
