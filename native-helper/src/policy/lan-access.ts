// LAN access per app: an app with lanAccess reaches its local networks directly, whatever its egress
// and even while its kill switch holds it. Local means the uplinks' connected subnets (IPv4 and IPv6),
// link-local (169.254.0.0/16, fe80::/10) and multicast DNS (224.0.0.251, ff02::fb). Everything else of
// the app stays with its choice (and held by its kill switch).
// Routing: one LAN table (the policy's last table index) holds a route per local network and uplink;
// the app's mark looks it up before its own lookups. A destination not in it falls through to them.
// nft: the kill switch's guard lets such an app's packet leave by an uplink only towards a local network.
import type { Interface } from '../api/schema.ts';
import type { Family, RouteSpec, RuleSpec } from '../reconcile/types.ts';
import { MARK_MASK, TABLES_PER_SLOT, tableFor, type Layout } from '../layout/kernel-layout.ts';
import { connectedRoutes } from './connected-routes.ts';

const FAMILIES: Family[] = [4, 6];

/** The index of the LAN table among the policy's egress tables (never given to an egress). */
export const LAN_TABLE_INDEX = TABLES_PER_SLOT - 1;

export const MDNS = { 4: '224.0.0.251', 6: 'ff02::fb' } as const;
export const LINK_LOCAL = { 4: '169.254.0.0/16', 6: 'fe80::/10' } as const;

type Iface = Pick<Interface, 'name' | 'kind' | 'usable' | 'addresses'>;

/** The uplinks whose networks count as local: usable interfaces that are not tunnels or loopback. */
export function lanUplinks<T extends Iface>(interfaces: readonly T[]): T[] {
  return interfaces.filter(
    (i) => i.usable && i.kind !== 'tunnel' && i.kind !== 'wireguard' && i.kind !== 'loopback',
  );
}

function isLinkLocalAddress(family: Family, address: string): boolean {
  return family === 4 ? address.startsWith('169.254.') : /^fe[89ab]/i.test(address);
}

/** The app looks up the LAN table first (at the block priority's slot before it: nothing else uses it). */
export function lanRules(mark: number, layout: Layout): RuleSpec[] {
  return FAMILIES.map((family) => ({
    family,
    priority: layout.priorities.first,
    fwmark: mark,
    mask: MARK_MASK,
    action: 'lookup',
    table: tableFor(layout, LAN_TABLE_INDEX),
  }));
}

/**
 * The LAN table's routes: each uplink's connected subnets, link-local and mDNS, each uplink with its own
 * metric so two uplinks' routes to the same prefix can coexist (the kernel picks the first; a socket bound
 * to an interface gets that interface's).
 */
export function lanRoutes(
  interfaces: readonly Iface[],
  layout: Layout,
  networkOf: (family: Family, address: string, prefixLength: number) => string,
): RouteSpec[] {
  const table = tableFor(layout, LAN_TABLE_INDEX);
  const routes: RouteSpec[] = [];
  lanUplinks(interfaces).forEach((iface, index) => {
    for (const family of FAMILIES) {
      const metric = (family === 4 ? 0 : 1024) + index;
      const addrs = iface.addresses.filter(
        (a) => a.family === family && !isLinkLocalAddress(family, a.address),
      );
      routes.push(...connectedRoutes(iface.name, family, addrs, table, metric, networkOf));
      // Host routes are named without /32 or /128, as `ip` prints them.
      const local = family === 4 ? [LINK_LOCAL[4], MDNS[4]] : ['fe80::/64', MDNS[6]];
      for (const dst of local)
        routes.push({
          family,
          table,
          dst,
          dev: iface.name,
          metric,
          ...(family === 4 ? { scope: 'link' as const } : {}),
        });
    }
  });
  return routes;
}

/** The local destinations of one family, as nft set elements (prefixes and addresses). */
export function lanDestinations(
  interfaces: readonly Iface[],
  family: Family,
  networkOf: (family: Family, address: string, prefixLength: number) => string,
): string[] {
  const out = new Set<string>([LINK_LOCAL[family], MDNS[family]]);
  for (const iface of lanUplinks(interfaces))
    for (const a of iface.addresses)
      if (a.family === family && !isLinkLocalAddress(family, a.address))
        out.add(
          a.prefixLength >= (family === 4 ? 32 : 128)
            ? a.address
            : networkOf(family, a.address, a.prefixLength),
        );
  return [...out].sort();
}

/**
 * The guard rules of kill-switched apps with LAN access (marks in nft syntax): a packet that leaves by
 * an interface not on the app's list is dropped unless it leaves by an uplink towards a local network.
 */
export function lanGuardRules(
  marks: readonly string[],
  interfaces: readonly Iface[],
  counter: string,
  networkOf: (family: Family, address: string, prefixLength: number) => string,
): string[] {
  if (!marks.length) return [];
  const uplinks = lanUplinks(interfaces).map((i) => `"${i.name}"`);
  const held = `meta mark { ${marks.join(', ')} } meta mark . oifname != @kill_allowed`;
  const drop = `counter name meta mark map @${counter} drop`;
  if (!uplinks.length) return [`${held} ${drop}`];
  return [
    `${held} oifname != { ${uplinks.join(', ')} } ${drop}`,
    `${held} meta nfproto ipv4 ip daddr != { ${lanDestinations(interfaces, 4, networkOf).join(', ')} } ${drop}`,
    `${held} meta nfproto ipv6 ip6 daddr != { ${lanDestinations(interfaces, 6, networkOf).join(', ')} } ${drop}`,
  ];
}
