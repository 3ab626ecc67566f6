// D-Bus reads through `busctl --json=short` (systemd's own client: no npm dependency, no install
// script). Every call has a short timeout; a missing bus, service or object is "nothing known".
import { readlinkSync } from 'node:fs';
import { run } from '../exec.ts';

export interface BusValue {
  type: string;
  data: unknown;
}

/** Runs one busctl call on the system bus; null when the bus, service, object or property is missing. */
export async function busctl(args: string[]): Promise<BusValue | null> {
  const r = await run(['busctl', '--system', '--json=short', '--timeout=2', ...args], {
    allowFailure: true,
  }).catch(() => null);
  if (!r || r.code !== 0 || !r.stdout.trim()) return null;
  try {
    return JSON.parse(r.stdout) as BusValue;
  } catch {
    return null;
  }
}

/** The first value of a method reply ({type:"o", data:["/path"]}) or a property ({type, data}). */
export function firstOf(v: BusValue | null): unknown {
  if (!v) return null;
  return Array.isArray(v.data) && /^[a-z(]/.test(v.type) && !v.type.startsWith('a') ? v.data[0] : v.data;
}

/**
 * systemd-resolved and NetworkManager number links in the network namespace they run in, the host's.
 * A helper in another namespace (the lab's desktop) would read another machine's links by the same
 * index: only the first namespace's helper asks them.
 */
export function inInitialNetns(): boolean {
  try {
    return readlinkSync('/proc/self/ns/net') === readlinkSync('/proc/1/ns/net');
  } catch {
    return false;
  }
}

/** An address from D-Bus bytes (4 or 16 of them), in the form node prints. */
export function addressOf(bytes: unknown): string | null {
  if (!Array.isArray(bytes) || !bytes.every((b) => typeof b === 'number')) return null;
  if (bytes.length === 4) return bytes.join('.');
  if (bytes.length !== 16) return null;
  const groups = Array.from({ length: 8 }, (_, g) =>
    (((bytes[2 * g] as number) << 8) | (bytes[2 * g + 1] as number)).toString(16),
  );
  return new URL(`http://[${groups.join(':')}]/`).hostname.slice(1, -1);
}
