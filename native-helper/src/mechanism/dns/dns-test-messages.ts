// DNS replies built byte by byte for the parsers' unit tests (names uncompressed or as pointers).

export type TestRecord =
  | { name: string; type: 'A' | 'AAAA'; address: string; ttl?: number }
  | { name: string; type: 'CNAME'; target: string; ttl?: number };

export function encodeName(name: string): Buffer {
  return Buffer.concat([
    ...name.split('.').map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l, 'latin1')])),
    Buffer.from([0]),
  ]);
}

function rdataOf(r: TestRecord): Buffer {
  if (r.type === 'CNAME') return encodeName(r.target);
  if (r.type === 'A') return Buffer.from(r.address.split('.').map(Number));
  const [head, tail] = r.address.split('::') as [string, string | undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  const b = Buffer.alloc(16);
  groups.forEach((g, i) => b.writeUInt16BE(parseInt(g, 16), i * 2));
  return b;
}

/** A reply (QR set) to one question for `question`, type A, with these answers. */
export function encodeReply(question: string, records: TestRecord[], opts: { qr?: boolean } = {}): Buffer {
  const header = Buffer.alloc(12);
  header.writeUInt16BE(0x1234, 0);
  header.writeUInt16BE(opts.qr === false ? 0x0100 : 0x8180, 2);
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(records.length, 6);
  const q = Buffer.concat([encodeName(question), Buffer.from([0, 1, 0, 1])]);
  const rr = records.map((r) => {
    const rdata = rdataOf(r);
    const fixed = Buffer.alloc(10);
    fixed.writeUInt16BE(r.type === 'A' ? 1 : r.type === 'AAAA' ? 28 : 5, 0);
    fixed.writeUInt16BE(1, 2);
    fixed.writeUInt32BE(r.ttl ?? 60, 4);
    fixed.writeUInt16BE(rdata.length, 8);
    // The owner as a pointer to the question when it is the question's name.
    const owner = r.name === question ? Buffer.from([0xc0, 12]) : encodeName(r.name);
    return Buffer.concat([owner, fixed, rdata]);
  });
  return Buffer.concat([header, q, ...rr]);
}
