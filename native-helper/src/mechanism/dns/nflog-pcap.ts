// The pcap stream `tcpdump -i nflog:G -w -` writes, taken apart: the file header, each record's NFLOG
// header and TLVs (the packet's mark and the IP packet), and the UDP or TCP payload of a packet from
// port 53. Pure and incremental: bytes go in as they arrive, packets come out. Nothing here throws on
// bad input: a record it cannot read is skipped, a stream that is not NFLOG pcap is refused once.

export const LINKTYPE_NFLOG = 239;
export const NFULA_MARK = 2;
export const NFULA_PAYLOAD = 9;
const MAGIC_US = 0xa1b2c3d4;
const MAGIC_NS = 0xa1b23c4d;
const FILE_HEADER = 24;
const RECORD_HEADER = 16;
/** A record longer than this is not one tcpdump wrote with our snap length: the stream is garbage. */
const MAX_RECORD = 256 * 1024;

export interface NflogPacket {
  /** Capture time, ms since the epoch. */
  at: number;
  /** The packet's mark (NFULA_MARK), 0 when it had none. */
  mark: number;
  /** The IP packet (NFULA_PAYLOAD), null when the record carried none. */
  payload: Buffer | null;
}

export class PcapNflogReader {
  private pending: Buffer = Buffer.alloc(0);
  private little: boolean | null = null;
  private nanos = false;
  /** Why the stream was refused (not pcap, not NFLOG, a record that cannot be one); null while fine. */
  error: string | null = null;

  /** The packets completed by this chunk. */
  push(chunk: Buffer): NflogPacket[] {
    if (this.error) return [];
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    const out: NflogPacket[] = [];
    let o = 0;
    if (this.little === null) {
      if (this.pending.length < FILE_HEADER) return out;
      if (!this.readFileHeader(this.pending)) {
        this.pending = Buffer.alloc(0);
        return out;
      }
      o = FILE_HEADER;
    }
    const u32 = (b: Buffer, at: number) => (this.little ? b.readUInt32LE(at) : b.readUInt32BE(at));
    while (this.pending.length - o >= RECORD_HEADER) {
      const caplen = u32(this.pending, o + 8);
      if (caplen > MAX_RECORD) {
        this.error = `a pcap record of ${caplen} bytes: the stream is corrupt`;
        this.pending = Buffer.alloc(0);
        return out;
      }
      if (this.pending.length - o < RECORD_HEADER + caplen) break;
      const secs = u32(this.pending, o);
      const frac = u32(this.pending, o + 4);
      const at = secs * 1000 + Math.floor(this.nanos ? frac / 1e6 : frac / 1e3);
      const body = this.pending.subarray(o + RECORD_HEADER, o + RECORD_HEADER + caplen);
      const packet = parseNflog(body, this.little!);
      if (packet) out.push({ at, ...packet });
      o += RECORD_HEADER + caplen;
    }
    // Keep only the unread tail (a copy, so the chunk's memory can go).
    this.pending = o === 0 ? this.pending : Buffer.from(this.pending.subarray(o));
    return out;
  }

  private readFileHeader(b: Buffer): boolean {
    const le = b.readUInt32LE(0);
    const be = b.readUInt32BE(0);
    if (le === MAGIC_US || le === MAGIC_NS) this.little = true;
    else if (be === MAGIC_US || be === MAGIC_NS) this.little = false;
    else {
      this.error = 'not a pcap stream';
      return false;
    }
    this.nanos = (this.little ? le : be) === MAGIC_NS;
    const linktype = (this.little ? b.readUInt32LE(20) : b.readUInt32BE(20)) & 0x0fffffff;
    if (linktype !== LINKTYPE_NFLOG) {
      this.error = `link type ${linktype}, not NFLOG (${LINKTYPE_NFLOG})`;
      return false;
    }
    return true;
  }
}

/**
 * One NFLOG record: a 4-byte header (family, version, group), then TLVs of u16 length (header
 * included) and u16 type, in the capturing host's byte order, each padded to 4 bytes. The values are
 * netlink attributes, big-endian. Null when the record is too short to have its header.
 */
export function parseNflog(body: Buffer, little = true): Omit<NflogPacket, 'at'> | null {
  if (body.length < 4) return null;
  let mark = 0;
  let payload: Buffer | null = null;
  for (let o = 4; o + 4 <= body.length;) {
    const len = little ? body.readUInt16LE(o) : body.readUInt16BE(o);
    const type = (little ? body.readUInt16LE(o + 2) : body.readUInt16BE(o + 2)) & 0x7fff;
    if (len < 4 || o + len > body.length) {
      // The last TLV cut by the snap length: its payload is what was captured.
      if (type === NFULA_PAYLOAD && len >= 4) payload = body.subarray(o + 4);
      break;
    }
    if (type === NFULA_MARK && len >= 8) mark = body.readUInt32BE(o + 4);
    if (type === NFULA_PAYLOAD) payload = body.subarray(o + 4, o + len);
    o += (len + 3) & ~3;
  }
  return { mark, payload };
}

export interface DnsSegment {
  family: 4 | 6;
  protocol: 'udp' | 'tcp';
  /** The DNS message: UDP's payload, or a TCP segment's message after its 2-byte length. */
  message: Buffer;
}

/**
 * The DNS message in an IP packet from port 53, or null when it is not one. A TCP segment counts only
 * when it holds one whole length-prefixed message (a reply split over segments is not reassembled).
 */
export function dnsMessageOf(ip: Buffer): DnsSegment | null {
  if (ip.length < 1) return null;
  const version = ip[0]! >> 4;
  let proto: number;
  let l4: number;
  let end: number;
  if (version === 4) {
    if (ip.length < 20) return null;
    l4 = (ip[0]! & 0x0f) * 4;
    if (l4 < 20) return null;
    const fragment = ip.readUInt16BE(6) & 0x3fff; // more fragments, or an offset: not a whole datagram
    if (fragment) return null;
    proto = ip[9]!;
    end = Math.min(ip.length, ip.readUInt16BE(2));
  } else if (version === 6) {
    if (ip.length < 40) return null;
    proto = ip[6]!; // extension headers are not followed: a reply with them is skipped
    l4 = 40;
    end = Math.min(ip.length, 40 + ip.readUInt16BE(4));
  } else return null;
  const family = version === 4 ? 4 : 6;
  if (proto === 17) {
    if (end - l4 < 8 || ip.readUInt16BE(l4) !== 53) return null;
    return { family, protocol: 'udp', message: ip.subarray(l4 + 8, end) };
  }
  if (proto === 6) {
    if (end - l4 < 20 || ip.readUInt16BE(l4) !== 53) return null;
    const data = l4 + (ip[l4 + 12]! >> 4) * 4;
    if (end - data < 2) return null;
    const len = ip.readUInt16BE(data);
    if (len !== end - data - 2) return null;
    return { family, protocol: 'tcp', message: ip.subarray(data + 2, end) };
  }
  return null;
}
