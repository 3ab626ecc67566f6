// A WireGuard egress never carries its own UDP. wireguard-go started from a terminal that is in an
// app's cgroup (the cgroup is inherited; adoption.ts never adopts it itself) gets the app's mark on
// every socket it opens, and with that app routed into wg0 each encrypted packet would go back into
// wg0, in a loop. So the helper takes our marks off the userspace WireGuard daemons' UDP sockets, as
// soon as it sees them (the tick, every 2 s at most while a WireGuard device exists): the system
// routing carries them, as for any unmanaged process. A mark of someone else's (wg-quick's fwmark
// 51820) is left alone: their own rules rely on it.
import { readdirSync, readFileSync } from 'node:fs';
import { SLOT_MASK, type Layout } from '../layout/kernel-layout.ts';
import { IPPROTO_UDP, listInetSockets, type SocketInfo, setSocketMark } from '../mechanism/sockets/index.ts';
import { isWireguardDaemon } from '../mechanism/wireguard/index.ts';
import { inOurNetns } from './adoption.ts';

export interface WireguardGuardDeps {
  layout: Layout;
  log: (msg: string) => void;
  /** PIDs of userspace WireGuard daemons in our network namespace. */
  daemons?: () => number[];
  sockets?: (pid: number) => SocketInfo[];
  setMark?: (pid: number, fd: number, mark: number) => void;
}

function daemonPids(): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      // comm is enough to skip most processes cheaply; the executable path decides.
      const comm = readFileSync(`/proc/${name}/comm`, 'utf8').trim();
      if (isWireguardDaemon(comm) && inOurNetns(Number(name))) pids.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

/** Takes our marks off the daemons' UDP sockets; returns how many it changed. */
export function unmarkWireguardDaemons(deps: WireguardGuardDeps): number {
  let changed = 0;
  for (const pid of (deps.daemons ?? daemonPids)()) {
    let sockets: SocketInfo[];
    try {
      sockets = (deps.sockets ?? listInetSockets)(pid);
    } catch {
      continue; // gone, or not ours to read
    }
    for (const s of sockets) {
      if (s.protocol !== IPPROTO_UDP || (s.mark & SLOT_MASK) >>> 0 !== deps.layout.markBase) continue;
      try {
        (deps.setMark ?? setSocketMark)(pid, s.fd, 0);
        changed++;
        deps.log(
          `took the app mark off WireGuard's own UDP socket (pid ${pid}, port ${s.localPort}): it must not take the app's route`,
        );
      } catch (err) {
        deps.log(`could not take the app mark off pid ${pid}'s WireGuard socket: ${(err as Error).message}`);
      }
    }
  }
  return changed;
}
