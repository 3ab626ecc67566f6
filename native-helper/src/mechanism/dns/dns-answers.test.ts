import { describe, expect, it } from 'vitest';
import { parseDnsAnswers, readName } from './dns-answers.ts';
import { encodeName, encodeReply } from './dns-test-messages.ts';

describe('parseDnsAnswers', () => {
  it('gives the A and AAAA addresses of the question, with their TTLs, in lower case', () => {
    const msg = encodeReply('Server.LAB', [
      { name: 'Server.LAB', type: 'A', address: '198.18.0.10', ttl: 30 },
      { name: 'Server.LAB', type: 'AAAA', address: 'fd5a:0:0:1::10', ttl: 600 },
    ]);
    expect(parseDnsAnswers(msg)).toEqual({
      name: 'server.lab',
      addresses: [
        { address: '198.18.0.10', ttl: 30 },
        { address: 'fd5a:0:0:1::10', ttl: 600 },
      ],
    });
  });

  it('writes IPv6 addresses as conntrack does (the longest zero run as ::, none for a single zero)', () => {
    const msg = encodeReply('v6.lab', [
      { name: 'v6.lab', type: 'AAAA', address: '2001:db8:0:1:0:0:0:1' },
      { name: 'v6.lab', type: 'AAAA', address: '2001:db8:0:1:1:1:1:1' },
    ]);
    expect(parseDnsAnswers(msg)!.addresses.map((a) => a.address)).toEqual([
      '2001:db8:0:1::1',
      '2001:db8:0:1:1:1:1:1',
    ]);
  });

  it('follows a CNAME chain back to the question, and ignores records of other names', () => {
    const msg = encodeReply('www.example.org', [
      { name: 'www.example.org', type: 'CNAME', target: 'edge.cdn.net' },
      { name: 'edge.cdn.net', type: 'CNAME', target: 'a1.cdn.net' },
      { name: 'a1.cdn.net', type: 'A', address: '203.0.113.7' },
      { name: 'unrelated.net', type: 'A', address: '203.0.113.99' },
    ]);
    expect(parseDnsAnswers(msg)).toEqual({
      name: 'www.example.org',
      addresses: [{ address: '203.0.113.7', ttl: 60 }],
    });
  });

  it('stops at a CNAME loop', () => {
    const msg = encodeReply('a.lab', [
      { name: 'a.lab', type: 'CNAME', target: 'b.lab' },
      { name: 'b.lab', type: 'CNAME', target: 'a.lab' },
      { name: 'b.lab', type: 'A', address: '192.0.2.1' },
    ]);
    expect(parseDnsAnswers(msg)!.addresses).toEqual([{ address: '192.0.2.1', ttl: 60 }]);
  });

  it('refuses queries and messages without a question', () => {
    expect(parseDnsAnswers(encodeReply('x.lab', [], { qr: false }))).toBeNull();
    const noQuestion = Buffer.alloc(12);
    noQuestion.writeUInt16BE(0x8180, 2);
    expect(parseDnsAnswers(noQuestion)).toBeNull();
    expect(parseDnsAnswers(Buffer.alloc(3))).toBeNull();
  });

  it('keeps what came before a truncation, and never throws on any cut or corrupted message', () => {
    const msg = encodeReply('server.lab', [
      { name: 'server.lab', type: 'A', address: '198.18.0.10' },
      { name: 'server.lab', type: 'A', address: '198.18.0.11' },
    ]);
    expect(parseDnsAnswers(msg.subarray(0, msg.length - 2))!.addresses).toEqual([
      { address: '198.18.0.10', ttl: 60 },
    ]);
    for (let n = 0; n <= msg.length; n++) expect(() => parseDnsAnswers(msg.subarray(0, n))).not.toThrow();
    // Every single byte set to every troublesome value.
    for (let i = 0; i < msg.length; i++)
      for (const v of [0x00, 0x3f, 0x40, 0xc0, 0xff]) {
        const bad = Buffer.from(msg);
        bad[i] = v;
        expect(() => parseDnsAnswers(bad)).not.toThrow();
      }
  });

  it('refuses name pointers that loop or point outside the message', () => {
    const loop = Buffer.from([0xc0, 0x00]);
    expect(readName(loop, 0)).toBeNull();
    expect(readName(Buffer.from([0xc0, 0x40]), 0)).toBeNull();
    expect(readName(Buffer.from([5, 0x61]), 0)).toBeNull();
    expect(readName(encodeName('a.b'), 0)).toEqual({ name: 'a.b', end: 5 });
  });
});
