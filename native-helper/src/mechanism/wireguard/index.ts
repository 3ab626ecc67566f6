// A WireGuard device's public key, listen port and peers: from the UAPI socket when there is one
// (wireguard-go), else from `wg show IFACE dump` (the kernel module).
import { readdir } from 'node:fs/promises';
import { readDump } from './dump.ts';
import { queryUapi, UAPI_DIR, uapiSocketPath } from './uapi.ts';
import type { WireguardDevice } from './types.ts';

export * from './types.ts';
export { parseUapi, queryUapi, UAPI_DIR, uapiSocketPath, hexToBase64 } from './uapi.ts';
export { parseDump, readDump } from './dump.ts';

/** Interface names with a UAPI socket: wireguard-go's TUN devices (a tun to netlink). */
export async function uapiInterfaces(dir = UAPI_DIR): Promise<Set<string>> {
  const names = await readdir(dir).catch(() => [] as string[]);
  return new Set(names.filter((n) => n.endsWith('.sock')).map((n) => n.slice(0, -'.sock'.length)));
}

export async function readWireguard(
  ifname: string,
  opts: { uapi?: boolean; dir?: string } = {},
): Promise<WireguardDevice> {
  if (opts.uapi ?? (await uapiInterfaces(opts.dir)).has(ifname))
    return queryUapi(uapiSocketPath(ifname, opts.dir));
  return readDump(ifname);
}

/**
 * Userspace WireGuard daemons. Their UDP must never take an app's route: in an app sent into their own
 * device it would loop, so the helper never adopts them into an app.
 */
const DAEMONS = new Set(['wireguard-go', 'boringtun', 'boringtun-cli']);

export function isWireguardDaemon(exe: string): boolean {
  return DAEMONS.has(exe.slice(exe.lastIndexOf('/') + 1).replace(/ \(deleted\)$/, ''));
}
export { nudge } from './nudge.ts';
