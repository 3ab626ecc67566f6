// Other processes' sockets in memory, for unit tests of the daemon without root or pidfd_getfd:
// re-marking the sockets of a process that joins its app, shutting down connections a new egress
// cannot carry. A process not added here is gone (ESRCH), as it is for the real mechanism.
import type { SocketInfo } from '../mechanism/sockets/index.ts';
import { AF_INET, AF_INET6 } from '../mechanism/sockets/index.ts';
import type { SocketRetagger } from '../daemon/app-cgroups.ts';
import type { SocketCloser } from '../daemon/egress-loop.ts';

export type SocketSketch = Partial<SocketInfo> & { fd: number };

export class MemorySockets implements SocketRetagger, SocketCloser {
  private readonly byPid = new Map<number, SocketInfo[]>();
  /** Every shutdown, in order. */
  readonly shutdowns: { pid: number; fd: number }[] = [];

  /** A process with these sockets (IPv4 TCP, unmarked, unconnected unless the sketch says otherwise). */
  process(pid: number, sockets: SocketSketch[] = []): void {
    this.byPid.set(
      pid,
      sockets.map((s) => ({
        family: AF_INET,
        type: 1,
        protocol: 6,
        mark: 0,
        localAddress: null,
        localPort: null,
        remoteAddress: null,
        remotePort: null,
        tcpState: null,
        ...s,
      })),
    );
  }

  exit(pid: number): void {
    this.byPid.delete(pid);
  }

  socket(pid: number, fd: number): SocketInfo | undefined {
    return this.byPid.get(pid)?.find((s) => s.fd === fd);
  }

  listInetSockets(pid: number): SocketInfo[] {
    return this.of(pid)
      .filter((s) => s.family === AF_INET || s.family === AF_INET6)
      .map((s) => ({ ...s }));
  }

  setSocketMark(pid: number, fd: number, mark: number): void {
    this.found(pid, fd).mark = mark;
  }

  shutdownSocket(pid: number, fd: number): void {
    this.found(pid, fd);
    this.shutdowns.push({ pid, fd });
  }

  private of(pid: number): SocketInfo[] {
    const sockets = this.byPid.get(pid);
    if (!sockets) throw Object.assign(new Error(`no process ${pid}`), { code: 'ESRCH' });
    return sockets;
  }

  private found(pid: number, fd: number): SocketInfo {
    const s = this.of(pid).find((x) => x.fd === fd);
    if (!s) throw Object.assign(new Error(`process ${pid} has no fd ${fd}`), { code: 'EBADF' });
    return s;
  }
}
