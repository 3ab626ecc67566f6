// Asking an upstream DNS server the forwarder's question from a socket that carries the app's mark
// (SO_MARK set before the first packet, so the question is routed as the app's own packets are). Over
// UDP, and over TCP (RFC 7766: a 2-byte length before each message) when the app asked over TCP or
// the UDP answer came back truncated (TC bit), as a stub resolver does.
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { Socket, isIP } from 'node:net';
import { setSocketMark } from '../sockets/index.ts';

export const UPSTREAM_TIMEOUT_MS = 2000;

export type Transport = 'udp' | 'tcp';

/** The answer's TC bit: the server had more than fits a UDP message. */
export function truncated(answer: Buffer): boolean {
  return answer.length >= 3 && (answer[2]! & 0x02) !== 0;
}

/**
 * The server's answer to msg. Over UDP a truncated answer is asked again over TCP; if TCP fails, the
 * truncated answer is passed back (the app's resolver may retry over TCP itself).
 */
export async function askUpstream(
  server: string,
  mark: number,
  msg: Buffer,
  transport: Transport,
  port = 53,
): Promise<Buffer> {
  if (transport === 'tcp') return askTcp(server, mark, msg, port);
  const answer = await askUdp(server, mark, msg, port);
  if (!truncated(answer)) return answer;
  return askTcp(server, mark, msg, port).catch(() => answer);
}

function markFd(fd: number | undefined, mark: number): void {
  if (!mark) return; // 0 is no mark: nothing to set
  if (typeof fd !== 'number' || fd < 0) throw new Error('the socket has no file descriptor');
  setSocketMark(process.pid, fd, mark);
}

function udpFd(s: UdpSocket): number | undefined {
  const state = Object.getOwnPropertySymbols(s).find((k) => String(k) === 'Symbol(state symbol)');
  return (s as unknown as Record<symbol, { handle?: { fd?: number } }>)[state!]?.handle?.fd;
}

export function askUdp(server: string, mark: number, msg: Buffer, port = 53): Promise<Buffer> {
  const s = createSocket(isIP(server) === 6 ? 'udp6' : 'udp4');
  return new Promise<Buffer>((resolve, reject) => {
    const timer = setTimeout(() => done(new Error('timeout')), UPSTREAM_TIMEOUT_MS);
    const done = (err: Error | null, answer?: Buffer) => {
      clearTimeout(timer);
      s.close();
      if (err) reject(err);
      else resolve(answer!);
    };
    s.on('error', (e) => done(e));
    s.on('message', (answer) => {
      if (answer.length >= 2 && answer.readUInt16BE(0) === msg.readUInt16BE(0)) done(null, answer);
    });
    s.bind(0, () => {
      try {
        // Before the first send: the question leaves as the app's own packet would.
        markFd(udpFd(s), mark);
      } catch (err) {
        done(err as Error);
        return;
      }
      s.send(msg, port, server);
    });
  });
}

/** Node's TCP handle, which has a descriptor once bound: the mark goes on before connect() sends a SYN. */
interface TcpHandle {
  fd: number;
  bind(address: string, port: number): number;
  bind6(address: string, port: number, flags: number): number;
  close(): void;
}
interface TcpWrap {
  TCP: new (type: number) => TcpHandle;
  constants: { SOCKET: number };
}

export function markedTcpSocket(server: string, mark: number): Socket {
  // net.Socket creates its descriptor inside connect(), with no moment to set SO_MARK before the SYN;
  // a handle bound first (to the wildcard address: the route still picks the source) has one.
  const proc = process as unknown as { binding(name: string): unknown };
  const { TCP, constants } = proc.binding('tcp_wrap') as TcpWrap;
  const handle = new TCP(constants.SOCKET);
  const err = isIP(server) === 6 ? handle.bind6('::', 0, 0) : handle.bind('0.0.0.0', 0);
  try {
    if (err) throw new Error(`cannot open a TCP socket (error ${err})`);
    markFd(handle.fd, mark);
  } catch (e) {
    handle.close();
    throw e;
  }
  return new Socket({ handle, manualStart: true } as ConstructorParameters<typeof Socket>[0]);
}

export function askTcp(server: string, mark: number, msg: Buffer, port = 53): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    let s: Socket;
    try {
      s = markedTcpSocket(server, mark);
    } catch (err) {
      reject(err as Error);
      return;
    }
    let got = Buffer.alloc(0);
    const timer = setTimeout(() => done(new Error('timeout')), UPSTREAM_TIMEOUT_MS);
    const done = (err: Error | null, answer?: Buffer) => {
      clearTimeout(timer);
      s.destroy();
      if (err) reject(err);
      else resolve(answer!);
    };
    s.on('error', (e) => done(e));
    s.on('close', () => done(new Error('the server closed the connection without an answer')));
    s.on('data', (chunk: Buffer) => {
      got = Buffer.concat([got, chunk]);
      while (got.length >= 2 && got.length >= 2 + got.readUInt16BE(0)) {
        const answer = Buffer.from(got.subarray(2, 2 + got.readUInt16BE(0)));
        got = got.subarray(2 + answer.length);
        if (answer.length >= 2 && answer.readUInt16BE(0) === msg.readUInt16BE(0)) return done(null, answer);
      }
    });
    s.connect(port, server, () => {
      const len = Buffer.alloc(2);
      len.writeUInt16BE(msg.length);
      s.write(Buffer.concat([len, msg]));
    });
  });
}
