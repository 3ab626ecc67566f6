// Destinations as the rule editor takes them: CIDRs or single addresses, IPv4 or IPv6. The API's
// Destination schema decides; when it refuses a network for its host bits, the editor names the network.
import { Destination } from '#switchyard/api/rules-model.ts';
import { isIP } from '#switchyard/api/ip.ts';

function v4ToBig(address: string): bigint {
  return address.split('.').reduce((n, part) => (n << 8n) | BigInt(Number(part)), 0n);
}

function v6ToBig(address: string): bigint {
  let text = address.split('%')[0] ?? '';
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4?.[1]) {
    const n = v4ToBig(v4[1]);
    text = `${text.slice(0, -v4[1].length)}${(n >> 16n).toString(16)}:${(n & 0xffffn).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const left = head ? head.split(':') : [];
  const right = tail === undefined ? [] : tail ? tail.split(':') : [];
  const groups =
    tail === undefined ? left : [...left, ...Array(8 - left.length - right.length).fill('0'), ...right];
  return groups.reduce((n, g) => (n << 16n) | BigInt(parseInt(g, 16)), 0n);
}

function bigToV4(n: bigint): string {
  return [24n, 16n, 8n, 0n].map((s) => Number((n >> s) & 0xffn)).join('.');
}

function bigToV6(n: bigint): string {
  const groups = Array.from({ length: 8 }, (_, i) => Number((n >> BigInt(112 - 16 * i)) & 0xffffn));
  // The longest run of zero groups becomes "::".
  let best = { at: -1, len: 0 };
  for (let i = 0; i < 8;) {
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > best.len && j - i > 1) best = { at: i, len: j - i };
    i = j === i ? i + 1 : j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best.at < 0) return hex.join(':');
  return `${hex.slice(0, best.at).join(':')}::${hex.slice(best.at + best.len).join(':')}`;
}

export type DestinationCheck = { ok: true; value: string } | { ok: false; error: string };

/** The network a prefix names ("198.18.3.4/15" → "198.18.0.0/15"), or null when it is no prefix. */
export function networkOf(text: string): string | null {
  const [address = '', length, extra] = text.split('/');
  const family = isIP(address);
  if (!family || extra !== undefined || length === undefined || !/^\d{1,3}$/.test(length)) return null;
  const bits = family === 4 ? 32n : 128n;
  if (BigInt(length) > bits) return null;
  const n = family === 4 ? v4ToBig(address) : v6ToBig(address);
  const hostBits = bits - BigInt(length);
  const network = (n >> hostBits) << hostBits;
  return network === n ? text : `${family === 4 ? bigToV4(network) : bigToV6(network)}/${length}`;
}

/** One destination, as the API takes it; a prefix with host bits set gets the network it meant. */
export function checkDestination(text: string): DestinationCheck {
  const value = text.trim();
  const parsed = Destination.safeParse(value);
  if (parsed.success) return { ok: true, value };
  const network = networkOf(value);
  if (network && network !== value)
    return { ok: false, error: `"${value}" has host bits set; the network is ${network}.` };
  return { ok: false, error: `${parsed.error.issues[0]?.message ?? `"${value}" is not a destination`}.` };
}

/** Destinations separated by commas, spaces or new lines; empty means everywhere. */
export function parseDestinations(text: string): { values: string[] } | { error: string } {
  const parts = text.split(/[\s,]+/).filter(Boolean);
  if (parts.length > 64) return { error: 'A rule takes at most 64 destinations; use wider networks.' };
  const values: string[] = [];
  for (const part of parts) {
    const r = checkDestination(part);
    if (!r.ok) return { error: r.error };
    if (!values.includes(r.value)) values.push(r.value);
  }
  return { values };
}
