// A WireGuard egress never carries its own UDP. Two ways it could:
// - wireguard-go started from a terminal that is in an app's cgroup (the cgroup is inherited;
//   adoption.ts never adopts it itself) gets the app's mark on every socket it opens, and with that app
//   routed into wg0 each encrypted packet would go back into wg0, in a loop;
// - in exclude mode every unmarked socket is routed into the exclude egress: with that egress wg0, the
//   same loop (with another tunnel, a detour).
// So the helper gives the userspace WireGuard daemons' UDP sockets the tunnels' bypass mark
// (exclude-mode.ts BYPASS_TAG): ours, so no exclusion catches it, but no rule routes it, so the system
// routing carries it, as for the helper's own tunnels. A mark of someone else's (wg-quick's fwmark
// 51820) is left alone: their own rules rely on it, and no rule of ours matches it.
// Which processes: those seen at start (one scan of /proc), then each new one the exec watch reports
// (adoption.ts) whose name is a daemon's; their sockets are checked after each read of the WireGuard
// devices (every 2 s at most while one exists), as a daemon opens its sockets when it is configured.
import { readdirSync, readFileSync } from 'node:fs';
import { SLOT_MASK, type Layout } from '../layout/kernel-layout.ts';
import { IPPROTO_UDP, listInetSockets, type SocketInfo, setSocketMark } from '../mechanism/sockets/index.ts';
import { isWireguardDaemon } from '../mechanism/wireguard/index.ts';
import { inOurNetns } from './adoption.ts';

export interface WireguardGuardDeps {
  layout: Layout;
  /** The tunnels' bypass mark (markFor(layout, BYPASS_TAG)). */
  bypassMark: number;
  log: (msg: string) => void;
  /** Whether a PID is a userspace WireGuard daemon in our network namespace (by its name). */
  isDaemon?: (pid: number) => boolean;
  /** Every PID running now. */
  allPids?: () => number[];
  sockets?: (pid: number) => SocketInfo[];
  setMark?: (pid: number, fd: number, mark: number) => void;
}

function isDaemonPid(pid: number): boolean {
  try {
    // comm, not the executable's path: cheap, and what the exec watch can afford for every exec.
    const comm = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
    return isWireguardDaemon(comm) && inOurNetns(pid);
  } catch {
    return false; // gone meanwhile
  }
}

const allPids = () =>
  readdirSync('/proc')
    .filter((n) => /^\d+$/.test(n))
    .map(Number);

export class WireguardGuard {
  private readonly daemons = new Set<number>();

  constructor(private readonly deps: WireguardGuardDeps) {}

  /** The PIDs watched now. */
  get watched(): number[] {
    return [...this.daemons].sort((a, b) => a - b);
  }

  /** Every running daemon: at start, and when process events were lost or are not available. */
  scanAll(): number {
    for (const pid of (this.deps.allPids ?? allPids)()) if (this.isDaemon(pid)) this.daemons.add(pid);
    return this.check();
  }

  /** A process exec'd: watched from now on when it is a daemon. */
  execed(pid: number): void {
    if (this.isDaemon(pid)) this.daemons.add(pid);
  }

  /** Gives the watched daemons' UDP sockets the bypass mark; returns how many it changed. */
  check(): number {
    const { layout, bypassMark } = this.deps;
    let changed = 0;
    for (const pid of this.daemons) {
      let sockets: SocketInfo[];
      try {
        // A PID that exited, or was reused by another program, is no longer watched.
        if (!this.isDaemon(pid)) throw new Error('not a daemon any more');
        sockets = (this.deps.sockets ?? listInetSockets)(pid);
      } catch {
        this.daemons.delete(pid);
        continue;
      }
      for (const s of sockets) {
        const mark = s.mark >>> 0;
        const ours = (mark & SLOT_MASK) >>> 0 === layout.markBase;
        if (s.protocol !== IPPROTO_UDP || mark === bypassMark || (mark !== 0 && !ours)) continue;
        try {
          (this.deps.setMark ?? setSocketMark)(pid, s.fd, bypassMark);
          changed++;
          this.deps.log(
            `gave WireGuard's own UDP socket (pid ${pid}, port ${s.localPort}) the bypass mark${ours ? ' instead of an app mark' : ''}: it must not take an app's or the exclude mode's route`,
          );
        } catch (err) {
          this.deps.log(`could not mark pid ${pid}'s WireGuard socket: ${(err as Error).message}`);
        }
      }
    }
    return changed;
  }

  private isDaemon(pid: number): boolean {
    return (this.deps.isDaemon ?? isDaemonPid)(pid);
  }
}
