// Just enough of the DNS wire format (RFC 1035) for the lab: parse one question, answer A/AAAA/TXT.
import { isIPv4, isIPv6 } from 'node:net';

export const TYPE = { A: 1, TXT: 16, AAAA: 28 } as const;
export const RCODE = { NOERROR: 0, FORMERR: 1, NXDOMAIN: 3, NOTIMP: 4 } as const;
const CLASS_IN = 1;

export interface Question {
  id: number;
  flags: number;
  name: string;
  type: number;
  qclass: number;
  /** The raw question section, echoed back in the answer. */
  questionBytes: Buffer;
}

export type Answer =
  | { type: typeof TYPE.A; address: string }
  | { type: typeof TYPE.AAAA; address: string }
  | { type: typeof TYPE.TXT; text: string };

/** Parse a query with exactly one question; throws on anything malformed. */
export function parseQuery(msg: Buffer): Question {
  if (msg.length < 12) throw new Error('DNS message shorter than its header');
  const id = msg.readUInt16BE(0);
  const flags = msg.readUInt16BE(2);
  if (msg.readUInt16BE(4) !== 1) throw new Error('DNS query must have exactly one question');
  const labels: string[] = [];
  let offset = 12;
  while (true) {
    const len = msg[offset];
    if (len === undefined) throw new Error('DNS name runs past the message');
    offset += 1;
    if (len === 0) break;
    if (len > 63) throw new Error('DNS name uses compression or a bad label length in a question');
    if (offset + len > msg.length) throw new Error('DNS label runs past the message');
    labels.push(msg.subarray(offset, offset + len).toString('latin1'));
    offset += len;
  }
  if (offset + 4 > msg.length) throw new Error('DNS question is missing its type and class');
  const type = msg.readUInt16BE(offset);
  const qclass = msg.readUInt16BE(offset + 2);
  return {
    id,
    flags,
    name: labels.join('.').toLowerCase(),
    type,
    qclass,
    questionBytes: msg.subarray(12, offset + 4),
  };
}

export function encodeName(name: string): Buffer {
  const parts = name.split('.').filter(Boolean);
  return Buffer.concat([
    ...parts.map((p) => Buffer.concat([Buffer.from([p.length]), Buffer.from(p, 'latin1')])),
    Buffer.from([0]),
  ]);
}

export function encodeQuery(id: number, name: string, type: number): Buffer {
  const header = Buffer.alloc(12);
  header.writeUInt16BE(id, 0);
  header.writeUInt16BE(0x0100, 2); // RD
  header.writeUInt16BE(1, 4);
  const tail = Buffer.alloc(4);
  tail.writeUInt16BE(type, 0);
  tail.writeUInt16BE(CLASS_IN, 2);
  return Buffer.concat([header, encodeName(name), tail]);
}

function ipv6Bytes(address: string): Buffer {
  const [head = '', tail = ''] = address.split('::');
  const h = head ? head.split(':') : [];
  const t = address.includes('::') ? (tail ? tail.split(':') : []) : [];
  const groups = address.includes('::') ? [...h, ...Array(8 - h.length - t.length).fill('0'), ...t] : h;
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  return out;
}

function rdata(answer: Answer): Buffer {
  if (answer.type === TYPE.A) {
    if (!isIPv4(answer.address)) throw new Error(`not an IPv4 address: ${answer.address}`);
    return Buffer.from(answer.address.split('.').map(Number));
  }
  if (answer.type === TYPE.AAAA) {
    if (!isIPv6(answer.address) || answer.address.includes('.'))
      throw new Error(`not a plain IPv6 address: ${answer.address}`);
    return ipv6Bytes(answer.address);
  }
  const text = Buffer.from(answer.text, 'utf8');
  if (text.length > 255) throw new Error('TXT string longer than 255 bytes');
  return Buffer.concat([Buffer.from([text.length]), text]);
}

export function encodeResponse(q: Question, rcode: number, answers: Answer[], ttl = 5): Buffer {
  const header = Buffer.alloc(12);
  header.writeUInt16BE(q.id, 0);
  // QR, AA, RD copied from the query, RA; opcode 0.
  header.writeUInt16BE(0x8000 | 0x0400 | (q.flags & 0x0100) | 0x0080 | (rcode & 0xf), 2);
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(answers.length, 6);
  const records = answers.map((a) => {
    const data = rdata(a);
    const fixed = Buffer.alloc(12);
    fixed.writeUInt16BE(0xc00c, 0); // pointer to the question's name at offset 12
    fixed.writeUInt16BE(a.type, 2);
    fixed.writeUInt16BE(CLASS_IN, 4);
    fixed.writeUInt32BE(ttl, 6);
    fixed.writeUInt16BE(data.length, 10);
    return Buffer.concat([fixed, data]);
  });
  return Buffer.concat([header, q.questionBytes, ...records]);
}

/** Header-only error answer, for queries we cannot parse (FORMERR keeps the id when there is one). */
export function encodeError(msg: Buffer, rcode: number): Buffer {
  const header = Buffer.alloc(12);
  if (msg.length >= 2) header.writeUInt16BE(msg.readUInt16BE(0), 0);
  header.writeUInt16BE(0x8000 | (rcode & 0xf), 2);
  return header;
}

/** "fd5a:1:0:0:0:0:0:2" → "fd5a:1::2", the form the kernel and node print. */
export function compressIPv6(address: string): string {
  return new URL(`http://[${address}]/`).hostname.slice(1, -1);
}

export interface ParsedResponse {
  id: number;
  rcode: number;
  answers: Answer[];
}

/** Parse the answers of a response built by encodeResponse (names as pointers); used by tests. */
export function parseResponse(msg: Buffer): ParsedResponse {
  const id = msg.readUInt16BE(0);
  const rcode = msg.readUInt16BE(2) & 0xf;
  const ancount = msg.readUInt16BE(6);
  let offset = 12;
  for (let q = msg.readUInt16BE(4); q > 0; q--) {
    while (msg[offset] !== 0) offset += (msg[offset] ?? 0) + 1;
    offset += 5;
  }
  const answers: Answer[] = [];
  for (let i = 0; i < ancount; i++) {
    const b = msg[offset] ?? 0;
    if ((b & 0xc0) === 0xc0) offset += 2;
    else {
      while (msg[offset] !== 0) offset += (msg[offset] ?? 0) + 1;
      offset += 1;
    }
    const type = msg.readUInt16BE(offset);
    const len = msg.readUInt16BE(offset + 8);
    const data = msg.subarray(offset + 10, offset + 10 + len);
    offset += 10 + len;
    if (type === TYPE.A) answers.push({ type, address: [...data].join('.') });
    else if (type === TYPE.AAAA) {
      const groups = Array.from({ length: 8 }, (_, g) => data.readUInt16BE(g * 2).toString(16));
      answers.push({ type, address: compressIPv6(groups.join(':')) });
    } else if (type === TYPE.TXT)
      answers.push({ type, text: data.subarray(1, 1 + (data[0] ?? 0)).toString('utf8') });
  }
  return { id, rcode, answers };
}
