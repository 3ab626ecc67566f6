// DNS over TCP: each message is preceded by its 2-byte length (RFC 1035 4.2.2). Shared by the lab's ISP
// resolvers and the desktop's stub, which both answer UDP and TCP like real ones.
import { connect, createServer, type Server, type Socket } from 'node:net';

/** Calls onMessage for every whole message on the socket; the answer (if any) is framed back. */
export function serveFramed(
  socket: Socket,
  onMessage: (msg: Buffer) => Promise<Buffer | null> | Buffer | null,
): void {
  let pending = Buffer.alloc(0);
  socket.on('error', () => socket.destroy());
  socket.setTimeout(10_000, () => socket.destroy());
  socket.on('data', (chunk: Buffer) => {
    pending = Buffer.concat([pending, chunk]);
    while (pending.length >= 2 && pending.length >= 2 + pending.readUInt16BE(0)) {
      const msg = pending.subarray(2, 2 + pending.readUInt16BE(0));
      pending = pending.subarray(2 + msg.length);
      void Promise.resolve(onMessage(Buffer.from(msg))).then(
        (answer) => answer && !socket.destroyed && socket.write(frame(answer)),
        () => socket.destroy(),
      );
    }
  });
}

export function frame(msg: Buffer): Buffer {
  const len = Buffer.alloc(2);
  len.writeUInt16BE(msg.length);
  return Buffer.concat([len, msg]);
}

export function listenTcp(
  address: string,
  port: number,
  onMessage: (msg: Buffer, client: string) => Promise<Buffer | null> | Buffer | null,
): Promise<Server> {
  const server = createServer((s) => serveFramed(s, (m) => onMessage(m, s.remoteAddress ?? '')));
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: address, port }, () => resolve(server));
  });
}

/** One query over TCP to host:port; rejects after timeoutMs. */
export function askTcp(host: string, port: number, msg: Buffer, timeoutMs = 3000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    let pending = Buffer.alloc(0);
    const done = (err: Error | null, answer?: Buffer) => {
      clearTimeout(timer);
      socket.destroy();
      if (err) reject(err);
      else resolve(answer!);
    };
    const timer = setTimeout(() => done(new Error(`no DNS answer over TCP from ${host}`)), timeoutMs);
    socket.on('connect', () => socket.write(frame(msg)));
    socket.on('error', (e) => done(e));
    socket.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      if (pending.length >= 2 && pending.length >= 2 + pending.readUInt16BE(0))
        done(null, pending.subarray(2, 2 + pending.readUInt16BE(0)));
    });
  });
}
