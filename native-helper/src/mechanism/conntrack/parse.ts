// conntrack-tools' text output (`conntrack -E -o timestamp,extended,id`, `conntrack -L -o extended,id`)
// → one record per line. Pure. The fields come in a fixed order: the original direction's tuple and,
// with accounting on (net.netfilter.nf_conntrack_acct=1), its packets/bytes, then the reply's.

export type ConntrackEventType = 'NEW' | 'UPDATE' | 'DESTROY';

/** One direction of a flow. Ports are null for protocols without them (ICMP). */
export interface Tuple {
  src: string;
  dst: string;
  sport: number | null;
  dport: number | null;
  /** Present only with accounting on (always on DESTROY events and in dumps). */
  packets: number | null;
  bytes: number | null;
}

export interface ConntrackRecord {
  /** Null for a dump line. */
  type: ConntrackEventType | null;
  /** Unix time in ms from the `[seconds.micros]` prefix (events only). */
  at: number | null;
  family: 4 | 6;
  /** tcp, udp, icmp, icmpv6, sctp… as conntrack names it. */
  protocol: string;
  /** The TCP state (SYN_SENT, ESTABLISHED, TIME_WAIT…), or null for other protocols. */
  state: string | null;
  orig: Tuple;
  reply: Tuple;
  mark: number;
  /** The kernel's id of the entry: NEW, UPDATE and DESTROY of one flow share it. */
  id: number;
}

const HEAD =
  /^(?:\[(\d+)\.(\d+)\]\s+)?(?:\[(NEW|UPDATE|DESTROY)\]\s+)?(ipv4|ipv6)\s+\d+\s+([a-z0-9-]+)\s+\d+\s+(.*)$/;

function tupleFrom(fields: Map<string, string>): Tuple | null {
  const src = fields.get('src');
  const dst = fields.get('dst');
  if (!src || !dst) return null;
  const num = (k: string): number | null => {
    const v = fields.get(k);
    return v !== undefined && /^\d+$/.test(v) ? Number(v) : null;
  };
  return { src, dst, sport: num('sport'), dport: num('dport'), packets: num('packets'), bytes: num('bytes') };
}

/** One line, or null when it is not a flow (a summary line, a warning, an empty line). */
export function parseConntrackLine(line: string): ConntrackRecord | null {
  const m = HEAD.exec(line.trim());
  if (!m) return null;
  const [, secs, micros, type, fam, protocol, rest] = m;
  const words = rest!.split(/\s+/);
  // An optional number (the timeout) and, for TCP, the state come before the first key=value.
  let i = 0;
  let state: string | null = null;
  while (i < words.length && !words[i]!.includes('=')) {
    if (/^[A-Z_]+$/.test(words[i]!) && !words[i]!.startsWith('[')) state = words[i]!;
    i++;
  }
  const orig = new Map<string, string>();
  const reply = new Map<string, string>();
  const after = new Map<string, string>();
  let side = orig;
  for (; i < words.length; i++) {
    const w = words[i]!;
    const eq = w.indexOf('=');
    if (eq < 0) continue; // [UNREPLIED], [ASSURED], [USERSPACE]
    const key = w.slice(0, eq);
    const value = w.slice(eq + 1);
    // The second src= starts the reply tuple; mark, id and the rest come after both.
    if (key === 'src' && side === orig && orig.has('src')) side = reply;
    // ICMP tuples carry an id= of their own: the entry's id is the last one on the line.
    if (key === 'mark' || key === 'id' || key === 'use' || key === 'zone' || key === 'portid') {
      after.set(key, value);
      continue;
    }
    if (!side.has(key)) side.set(key, value);
  }
  const o = tupleFrom(orig);
  const r = tupleFrom(reply);
  const id = after.get('id');
  if (!o || !r || id === undefined || !/^\d+$/.test(id)) return null;
  const mark = after.get('mark');
  return {
    type: (type as ConntrackEventType | undefined) ?? null,
    at: secs ? Number(secs) * 1000 + Math.floor(Number(micros!.padEnd(6, '0').slice(0, 6)) / 1000) : null,
    family: fam === 'ipv6' ? 6 : 4,
    protocol: protocol!,
    state,
    orig: o,
    reply: r,
    mark: mark && /^\d+$/.test(mark) ? Number(mark) : 0,
    id: Number(id),
  };
}
