// Byte counters of every interface in the helper's network namespace, from /proc/net/dev: one file read
// instead of an `ip -statistics link show` per second (a fork of the whole helper each time).
// /proc/net follows the reading process's network namespace, unlike /sys/class/net, which shows the
// namespace that mounted /sys.
import { readFile } from 'node:fs/promises';

export interface LinkBytes {
  rxBytes: number;
  txBytes: number;
}

/** Parses /proc/net/dev: two header lines, then `name: rx_bytes rx_packets … (8 fields) tx_bytes …`. */
export function parseNetDev(text: string): Map<string, LinkBytes> {
  const out = new Map<string, LinkBytes>();
  for (const line of text.split('\n').slice(2)) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const fields = line
      .slice(colon + 1)
      .trim()
      .split(/\s+/);
    if (fields.length < 9) continue;
    out.set(line.slice(0, colon).trim(), { rxBytes: Number(fields[0]), txBytes: Number(fields[8]) });
  }
  return out;
}

export async function readLinkBytes(path = '/proc/net/dev'): Promise<Map<string, LinkBytes>> {
  return parseNetDev(await readFile(path, 'utf8'));
}
