// The forwarder's upstream questions against a real UDP + TCP DNS server on loopback: a truncated UDP
// answer is asked again over TCP, a TCP question goes over TCP, and the TCP socket carries its mark
// before it connects. Marks on the packets themselves are tested in the lab (test/integration/dns.test.ts).
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listSockets } from '../sockets/index.ts';
import { encodeName } from './dns-test-messages.ts';
import { DnsForwarder, questionOf } from './forwarder.ts';
import { askUpstream, markedTcpSocket, truncated } from './upstream.ts';

const isRoot = process.getuid?.() === 0;

function query(name: string, id: number): Buffer {
  const head = Buffer.alloc(12);
  head.writeUInt16BE(id, 0);
  head.writeUInt16BE(0x0100, 2); // RD
  head.writeUInt16BE(1, 4);
  return Buffer.concat([head, encodeName(name), Buffer.from([0, 1, 0, 1])]);
}

/** The question echoed with QR set: TC for names starting "big" over UDP, else rcode (3 over UDP, 0 over TCP). */
function answer(q: Buffer, transport: 'udp' | 'tcp'): Buffer {
  const a = Buffer.from(q);
  const big = questionOf(q).name?.startsWith('big') ?? false;
  const flags = 0x8180 | (transport === 'udp' ? (big ? 0x0200 : 3) : 0);
  a.writeUInt16BE(flags, 2);
  return a;
}

interface Upstream {
  udp: UdpSocket;
  tcp: Server;
  seen: string[];
}

async function upstream(address: string, port: number): Promise<Upstream> {
  const seen: string[] = [];
  const udp = createSocket('udp4');
  udp.on('message', (m, r) => {
    seen.push(`udp ${questionOf(m).name}`);
    udp.send(answer(m, 'udp'), r.port, r.address);
  });
  await new Promise<void>((ok, fail) => {
    udp.once('error', fail);
    udp.bind(port, address, ok);
  });
  const tcp = createServer((s) => {
    let got = Buffer.alloc(0);
    s.on('data', (c: Buffer) => {
      got = Buffer.concat([got, c]);
      while (got.length >= 2 && got.length >= 2 + got.readUInt16BE(0)) {
        const m = got.subarray(2, 2 + got.readUInt16BE(0));
        got = got.subarray(2 + m.length);
        seen.push(`tcp ${questionOf(m).name}`);
        const a = answer(m, 'tcp');
        const len = Buffer.alloc(2);
        len.writeUInt16BE(a.length);
        s.write(Buffer.concat([len, a]));
      }
    });
  });
  await new Promise<void>((ok, fail) => {
    tcp.once('error', fail);
    tcp.listen({ host: address, port: udp.address().port }, ok);
  });
  return { udp, tcp, seen };
}

const rcode = (a: Buffer) => a.readUInt16BE(2) & 0xf;

describe('asking upstream', () => {
  let up: Upstream;
  let port: number;
  beforeAll(async () => {
    // UDP picks a free port; the TCP server takes the same one (its failure to bind fails the test).
    up = await upstream('127.0.0.1', 0);
    port = up.udp.address().port;
  });
  afterAll(() => {
    up.udp.close();
    up.tcp.close();
  });

  it('asks over UDP, and keeps a whole UDP answer', async () => {
    up.seen.length = 0;
    const a = await askUpstream('127.0.0.1', 0, query('small.lab', 1), 'udp', port);
    expect(a.readUInt16BE(0)).toBe(1);
    expect(truncated(a)).toBe(false);
    expect(rcode(a)).toBe(3);
    expect(up.seen).toEqual(['udp small.lab']);
  });

  it('asks again over TCP when the UDP answer is truncated, and returns the whole answer', async () => {
    up.seen.length = 0;
    const a = await askUpstream('127.0.0.1', 0, query('big.lab', 2), 'udp', port);
    expect(a.readUInt16BE(0)).toBe(2);
    expect(truncated(a)).toBe(false);
    expect(rcode(a)).toBe(0);
    expect(up.seen).toEqual(['udp big.lab', 'tcp big.lab']);
  });

  it('passes the truncated answer back when TCP cannot be reached', async () => {
    const udpOnly = createSocket('udp4');
    udpOnly.on('message', (m, r) => udpOnly.send(answer(m, 'udp'), r.port, r.address));
    await new Promise<void>((ok) => udpOnly.bind(0, '127.0.0.1', ok));
    try {
      const a = await askUpstream('127.0.0.1', 0, query('big.lab', 3), 'udp', udpOnly.address().port);
      expect(truncated(a)).toBe(true);
    } finally {
      udpOnly.close();
    }
  });

  it('asks a TCP question over TCP only', async () => {
    up.seen.length = 0;
    const a = await askUpstream('127.0.0.1', 0, query('small.lab', 4), 'tcp', port);
    expect(a.readUInt16BE(0)).toBe(4);
    expect(rcode(a)).toBe(0);
    expect(up.seen).toEqual(['tcp small.lab']);
  });

  it.skipIf(!isRoot)('gives the TCP socket its mark before it connects', () => {
    const s = markedTcpSocket('127.0.0.1', 0x5a17);
    try {
      const fd = (s as unknown as { _handle: { fd: number } })._handle.fd;
      const info = listSockets(process.pid).find((x) => x.fd === fd);
      expect(info).toMatchObject({ protocol: 6, mark: 0x5a17, remoteAddress: null });
    } finally {
      s.destroy();
    }
  });
});

// The forwarder itself listens on port 53 of an app's loopback address and asks servers on port 53.
describe.skipIf(!isRoot)('the forwarder', () => {
  const server = '127.0.0.117';
  const at = '127.83.0.117';
  let up: Upstream;
  const fwd = new DnsForwarder(() => {});
  beforeAll(async () => {
    up = await upstream(server, 53);
    await fwd.sync([{ tag: 117, address: at, mark: 0, egress: 'lo-test', servers: [server] }]);
  });
  afterAll(() => {
    fwd.stop();
    up.udp.close();
    up.tcp.close();
  });

  it("answers an app's truncated UDP lookup with the TCP answer, and a TCP lookup over TCP", async () => {
    up.seen.length = 0;
    const app = createSocket('udp4');
    const viaUdp = await new Promise<Buffer>((ok) => {
      app.once('message', ok);
      app.send(query('big.lab', 5), 53, at);
    });
    app.close();
    expect(truncated(viaUdp)).toBe(false);
    expect(up.seen).toEqual(['udp big.lab', 'tcp big.lab']);

    up.seen.length = 0;
    const viaTcp = await askUpstream(at, 0, query('small.lab', 6), 'tcp');
    expect(rcode(viaTcp)).toBe(0);
    expect(up.seen).toEqual(['tcp small.lab']);
  });
});
