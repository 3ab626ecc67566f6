// Sockets of another process (via pidfd_getfd), to re-tag or reset existing connections when an app's
// egress changes. A new mark affects packets sent from now on; a connected TCP socket keeps its source
// address, so moving it to another egress usually needs shutdownSocket() and a reconnect by the app.
import { native } from '../native.ts';
import type { SocketInfo } from '../native.ts';

export type { SocketInfo } from '../native.ts';

export const AF_INET = 2;
export const AF_INET6 = 10;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;

/** All sockets the process holds, with family/type/protocol, mark, addresses and TCP state. */
export function listSockets(pid: number): SocketInfo[] {
  return native().listSockets(pid);
}

/** IPv4/IPv6 sockets only. */
export function listInetSockets(pid: number): SocketInfo[] {
  return listSockets(pid).filter((s) => s.family === AF_INET || s.family === AF_INET6);
}

export function setSocketMark(pid: number, fd: number, mark: number): void {
  native().setSocketMark(pid, fd, mark);
}

/** shutdown(SHUT_RDWR): the app sees the connection end and reconnects (with its new mark). */
export function shutdownSocket(pid: number, fd: number): void {
  native().shutdownSocket(pid, fd);
}
