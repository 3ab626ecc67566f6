// Per-link DNS servers from systemd-resolved (org.freedesktop.resolve1): Manager.GetLink(ifindex) gives
// the link's object, whose DNSEx (a(iayqs): family, address, port, SNI) or older DNS (a(iay)) property
// lists the servers the link's DHCP/RA/NetworkManager configuration gave it.
import { addressOf, busctl, firstOf } from './busctl.ts';

const SERVICE = 'org.freedesktop.resolve1';
const LINK = 'org.freedesktop.resolve1.Link';

/** The servers of entries [family, bytes, ...]; a non-53 port (DNSEx) is left out: DNAT keeps port 53. */
export function serversOf(data: unknown): string[] {
  if (!Array.isArray(data)) return [];
  const out: string[] = [];
  for (const entry of data) {
    if (!Array.isArray(entry)) continue;
    const [, bytes, port] = entry as [number, unknown, number | undefined];
    if (typeof port === 'number' && port !== 0 && port !== 53) continue;
    const a = addressOf(bytes);
    if (a && !out.includes(a)) out.push(a);
  }
  return out;
}

/** The link's DNS servers per resolved; [] when resolved is absent or the link has none. */
export async function resolvedServers(ifindex: number): Promise<string[]> {
  const path = firstOf(
    await busctl([
      'call',
      SERVICE,
      '/org/freedesktop/resolve1',
      `${SERVICE}.Manager`,
      'GetLink',
      'i',
      String(ifindex),
    ]),
  );
  if (typeof path !== 'string') return [];
  const ex = await busctl(['get-property', SERVICE, path, LINK, 'DNSEx']);
  if (ex) return serversOf(ex.data);
  return serversOf((await busctl(['get-property', SERVICE, path, LINK, 'DNS']))?.data);
}
