import { describe, expect, it } from 'vitest';
import { dnsMessageOf, parseNflog, PcapNflogReader } from './nflog-pcap.ts';
import { encodeReply } from './dns-test-messages.ts';

/**
 * Written by `tcpdump -i nflog:23041 -U -w -` (tcpdump 4.99.3) for one UDP datagram from 127.0.0.1:53
 * that an nft rule (`udp sport 53 meta mark set 0x5a010007 log group 23041`) logged.
 */
const CAPTURED = Buffer.from(
  'd4c3b2a102000400000000000000000000100000ef0000007aff086b849d0000a0000000a000000002005a0108000100' +
    '0800010005000a00000000000800040000000001080002005a0100071000080000060000000000000000000006000f00' +
    '0304000006001100000e0000120010000000000000000000000000000800000014000300000000006b08ff7900000000' +
    '00005aae310009004500002d0dfa400040112ec47f0000017f0000010035270f0019fe2c68656c6c6f2d646e732d7061' +
    '796c6f6164000000',
  'hex',
);

function ipv4Udp(payload: Buffer, sport = 53): Buffer {
  const ip = Buffer.alloc(28);
  ip[0] = 0x45;
  ip.writeUInt16BE(28 + payload.length, 2);
  ip[8] = 64;
  ip[9] = 17;
  Buffer.from([198, 18, 1, 1]).copy(ip, 12);
  Buffer.from([198, 18, 1, 2]).copy(ip, 16);
  ip.writeUInt16BE(sport, 20);
  ip.writeUInt16BE(40000, 22);
  ip.writeUInt16BE(8 + payload.length, 24);
  return Buffer.concat([ip, payload]);
}

function ipv6Tcp(message: Buffer): Buffer {
  const tcp = Buffer.alloc(20);
  tcp.writeUInt16BE(53, 0);
  tcp.writeUInt16BE(40000, 2);
  tcp[12] = 5 << 4;
  const len = Buffer.alloc(2);
  len.writeUInt16BE(message.length);
  const body = Buffer.concat([tcp, len, message]);
  const ip = Buffer.alloc(40);
  ip[0] = 0x60;
  ip.writeUInt16BE(body.length, 4);
  ip[6] = 6;
  ip[7] = 64;
  return Buffer.concat([ip, body]);
}

/** One NFLOG record as libpcap writes it on a little-endian host: TLV headers LE, values BE. */
function nflogRecord(mark: number, payload: Buffer): Buffer {
  const tlv = (type: number, value: Buffer) => {
    const h = Buffer.alloc(4);
    h.writeUInt16LE(4 + value.length, 0);
    h.writeUInt16LE(type, 2);
    return Buffer.concat([h, value, Buffer.alloc((4 - (value.length % 4)) % 4)]);
  };
  const m = Buffer.alloc(4);
  m.writeUInt32BE(mark);
  return Buffer.concat([
    Buffer.from([2, 0, 0x5a, 0x01]),
    tlv(1, Buffer.alloc(4)),
    tlv(2, m),
    tlv(9, payload),
  ]);
}

function pcapRecord(body: Buffer, secs = 1_800_000_000, micros = 250_000): Buffer {
  const h = Buffer.alloc(16);
  h.writeUInt32LE(secs, 0);
  h.writeUInt32LE(micros, 4);
  h.writeUInt32LE(body.length, 8);
  h.writeUInt32LE(body.length, 12);
  return Buffer.concat([h, body]);
}

const FILE_HEADER = CAPTURED.subarray(0, 24);

describe('PcapNflogReader', () => {
  it("reads tcpdump's real NFLOG capture: the mark and the IP packet", () => {
    const [p, ...rest] = new PcapNflogReader().push(CAPTURED);
    expect(rest).toEqual([]);
    expect(p!.mark).toBe(0x5a010007);
    expect(p!.at).toBe(0x6b08ff7a * 1000 + Math.floor(0x9d84 / 1000));
    expect(p!.payload!.length).toBe(45);
    const udp = p!.payload!.subarray(28).toString();
    expect(udp).toBe('hello-dns-payload');
  });

  it('gives the same packets however the stream is cut into chunks', () => {
    const reply = encodeReply('server.lab', [{ name: 'server.lab', type: 'A', address: '198.18.0.10' }]);
    const stream = Buffer.concat([
      FILE_HEADER,
      pcapRecord(nflogRecord(0x5a010002, ipv4Udp(reply))),
      pcapRecord(nflogRecord(0x5a010003, ipv6Tcp(reply)), 1_800_000_001, 0),
    ]);
    const whole = new PcapNflogReader().push(stream);
    expect(whole.map((p) => p.mark)).toEqual([0x5a010002, 0x5a010003]);
    expect(whole[0]!.at).toBe(1_800_000_000_250);
    for (const size of [1, 3, 7, 24, 50]) {
      const r = new PcapNflogReader();
      const got = [];
      for (let o = 0; o < stream.length; o += size) got.push(...r.push(stream.subarray(o, o + size)));
      expect(got).toEqual(whole);
    }
  });

  it('refuses a stream that is not NFLOG pcap, once, without throwing', () => {
    const ethernet = Buffer.from(FILE_HEADER);
    ethernet.writeUInt32LE(1, 20);
    const r = new PcapNflogReader();
    expect(r.push(Buffer.concat([ethernet, pcapRecord(Buffer.alloc(40))]))).toEqual([]);
    expect(r.error).toMatch(/link type 1/);
    const garbage = new PcapNflogReader();
    expect(garbage.push(Buffer.from('this is not a capture at all'))).toEqual([]);
    expect(garbage.error).toBe('not a pcap stream');
    const huge = Buffer.alloc(16);
    huge.writeUInt32LE(0x7fffffff, 8);
    const corrupt = new PcapNflogReader();
    expect(corrupt.push(Buffer.concat([FILE_HEADER, huge]))).toEqual([]);
    expect(corrupt.error).toMatch(/corrupt/);
  });

  it('reads a big-endian capture too', () => {
    const header = Buffer.alloc(24);
    header.writeUInt32BE(0xa1b2c3d4, 0);
    header.writeUInt32BE(239, 20);
    const body = Buffer.from([2, 0, 0, 1, 0, 8, 0, 2, 0x5a, 1, 0, 9]);
    const rec = Buffer.alloc(16);
    rec.writeUInt32BE(10, 0);
    rec.writeUInt32BE(body.length, 8);
    const [p] = new PcapNflogReader().push(Buffer.concat([header, rec, body]));
    expect(p).toEqual({ at: 10_000, mark: 0x5a010009, payload: null });
  });
});

describe('parseNflog', () => {
  it('keeps a payload cut by the snap length and never throws on cut or corrupted records', () => {
    const reply = encodeReply('server.lab', [{ name: 'server.lab', type: 'A', address: '198.18.0.10' }]);
    const rec = nflogRecord(0x5a010002, ipv4Udp(reply));
    const cut = Buffer.from(rec.subarray(0, rec.length - 10));
    expect(parseNflog(cut)!.payload!.length).toBeGreaterThan(20);
    for (let n = 0; n <= rec.length; n++) expect(() => parseNflog(rec.subarray(0, n))).not.toThrow();
    for (let i = 0; i < rec.length; i++)
      for (const v of [0x00, 0x03, 0xff]) {
        const bad = Buffer.from(rec);
        bad[i] = v;
        expect(() => parseNflog(bad)).not.toThrow();
        const packet = parseNflog(bad);
        if (packet?.payload) expect(() => dnsMessageOf(packet.payload!)).not.toThrow();
      }
  });
});

describe('dnsMessageOf', () => {
  const reply = encodeReply('server.lab', [{ name: 'server.lab', type: 'A', address: '198.18.0.10' }]);

  it('finds the DNS message in a UDP datagram from port 53 and in a whole TCP message', () => {
    expect(dnsMessageOf(ipv4Udp(reply))).toEqual({ family: 4, protocol: 'udp', message: reply });
    expect(dnsMessageOf(ipv6Tcp(reply))).toEqual({ family: 6, protocol: 'tcp', message: reply });
  });

  it('skips other ports, fragments, partial TCP messages and cut packets', () => {
    expect(dnsMessageOf(ipv4Udp(reply, 5353))).toBeNull();
    const fragment = ipv4Udp(reply);
    fragment.writeUInt16BE(0x2000, 6);
    expect(dnsMessageOf(fragment)).toBeNull();
    const partial = ipv6Tcp(reply);
    expect(dnsMessageOf(partial.subarray(0, partial.length - 5))).toBeNull();
    const packet = ipv4Udp(reply);
    for (let n = 0; n <= packet.length; n++) expect(() => dnsMessageOf(packet.subarray(0, n))).not.toThrow();
    expect(dnsMessageOf(Buffer.from([0x45]))).toBeNull();
  });
});
