// The addresses a DNS reply gives for the name that was asked: its A and AAAA records, reached from the
// question's name directly or through a chain of CNAMEs. Pure; a malformed or truncated message yields
// what could be read before the damage (or null), never an exception.

export interface AnsweredAddress {
  address: string;
  /** Seconds, as the record says. */
  ttl: number;
}

export interface DnsAnswers {
  /** The question's name, lower case, without the final dot. */
  name: string;
  addresses: AnsweredAddress[];
}

const TYPE_A = 1;
const TYPE_CNAME = 5;
const TYPE_AAAA = 28;
const CLASS_IN = 1;
/** More CNAME links than this is a loop or abuse. */
const MAX_CHAIN = 16;

/** A (possibly compressed) name at o: the name and where the field ends, or null when it is malformed. */
export function readName(msg: Buffer, start: number): { name: string; end: number } | null {
  const labels: string[] = [];
  let o = start;
  let end = -1;
  let jumps = 0;
  let length = 0;
  for (;;) {
    if (o >= msg.length) return null;
    const len = msg[o]!;
    if (len === 0) {
      if (end < 0) end = o + 1;
      break;
    }
    if ((len & 0xc0) === 0xc0) {
      if (o + 1 >= msg.length || ++jumps > 32) return null;
      if (end < 0) end = o + 2;
      o = ((len & 0x3f) << 8) | msg[o + 1]!;
      continue;
    }
    if (len > 63 || o + 1 + len > msg.length) return null;
    length += len + 1;
    if (length > 255) return null;
    labels.push(msg.toString('latin1', o + 1, o + 1 + len).toLowerCase());
    o += 1 + len;
  }
  return { name: labels.join('.'), end };
}

function ipv6Text(b: Buffer): string {
  const groups = Array.from({ length: 8 }, (_, i) => b.readUInt16BE(i * 2).toString(16));
  // The longest run of two or more zero groups becomes "::", as the kernel and conntrack print it.
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > bestLen) [best, bestLen] = [i, j - i];
    i = j === i ? i + 1 : j;
  }
  if (best < 0) return groups.join(':');
  return `${groups.slice(0, best).join(':')}::${groups.slice(best + bestLen).join(':')}`;
}

/**
 * The question's name and the addresses it resolves to in this reply, or null when the message is not
 * a reply (QR clear), asks no question, or is too broken to read the question. Records of other names
 * (additional data, a CNAME chain that leads elsewhere) are ignored.
 */
export function parseDnsAnswers(msg: Buffer): DnsAnswers | null {
  if (msg.length < 12) return null;
  const flags = msg.readUInt16BE(2);
  if ((flags & 0x8000) === 0) return null;
  const qd = msg.readUInt16BE(4);
  const an = msg.readUInt16BE(6);
  if (qd < 1) return null;
  const q = readName(msg, 12);
  if (!q || q.end + 4 > msg.length) return null;
  let o = q.end + 4;
  for (let i = 1; i < qd; i++) {
    const more = readName(msg, o);
    if (!more || more.end + 4 > msg.length) return { name: q.name, addresses: [] };
    o = more.end + 4;
  }
  const cnames = new Map<string, string>();
  const records: { owner: string; address: string; ttl: number }[] = [];
  for (let i = 0; i < an; i++) {
    const owner = readName(msg, o);
    if (!owner || owner.end + 10 > msg.length) break;
    const type = msg.readUInt16BE(owner.end);
    const cls = msg.readUInt16BE(owner.end + 2);
    const ttl = msg.readUInt32BE(owner.end + 4);
    const rdlen = msg.readUInt16BE(owner.end + 8);
    const rdata = owner.end + 10;
    if (rdata + rdlen > msg.length) break; // truncated: what came before stands
    o = rdata + rdlen;
    if (cls !== CLASS_IN) continue;
    if (type === TYPE_A && rdlen === 4)
      records.push({ owner: owner.name, address: [...msg.subarray(rdata, rdata + 4)].join('.'), ttl });
    else if (type === TYPE_AAAA && rdlen === 16)
      records.push({ owner: owner.name, address: ipv6Text(msg.subarray(rdata, rdata + 16)), ttl });
    else if (type === TYPE_CNAME) {
      const target = readName(msg, rdata);
      if (target && target.end <= o) cnames.set(owner.name, target.name);
    }
  }
  // The names the question's name leads to: itself, then each CNAME target in turn.
  const chain = new Set([q.name]);
  for (let at = q.name, n = 0; cnames.has(at) && n < MAX_CHAIN; n++) {
    at = cnames.get(at)!;
    if (chain.has(at)) break;
    chain.add(at);
  }
  return {
    name: q.name,
    addresses: records.filter((r) => chain.has(r.owner)).map(({ address, ttl }) => ({ address, ttl })),
  };
}
