// Per-device DNS servers from NetworkManager: GetDeviceByIpIface(name) → the device's Ip4Config and
// Ip6Config objects → their Nameservers (IPv4: au, each address as a little-endian uint32; IPv6: aay).
import { addressOf, busctl, firstOf } from './busctl.ts';

const SERVICE = 'org.freedesktop.NetworkManager';

export function ipv4OfUint(n: number): string {
  return [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff].join('.');
}

async function property(path: string, iface: string, name: string): Promise<unknown> {
  return (await busctl(['get-property', SERVICE, path, `${SERVICE}.${iface}`, name]))?.data ?? null;
}

/** The device's DNS servers per NetworkManager; [] when NM is absent or does not manage it. */
export async function networkManagerServers(ifname: string): Promise<string[]> {
  const device = firstOf(
    await busctl([
      'call',
      SERVICE,
      '/org/freedesktop/NetworkManager',
      SERVICE,
      'GetDeviceByIpIface',
      's',
      ifname,
    ]),
  );
  if (typeof device !== 'string') return [];
  const out: string[] = [];
  const ip4 = await property(device, 'Device', 'Ip4Config');
  if (typeof ip4 === 'string' && ip4 !== '/') {
    const v4 = await property(ip4, 'IP4Config', 'Nameservers');
    if (Array.isArray(v4)) for (const n of v4) if (typeof n === 'number') out.push(ipv4OfUint(n));
  }
  const ip6 = await property(device, 'Device', 'Ip6Config');
  if (typeof ip6 === 'string' && ip6 !== '/') {
    const v6 = await property(ip6, 'IP6Config', 'Nameservers');
    if (Array.isArray(v6)) for (const b of v6) out.push(addressOf(b) ?? '');
  }
  return [...new Set(out.filter(Boolean))];
}
