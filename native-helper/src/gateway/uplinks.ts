// Per-app uplinks: the data path files each app's uplink mark under the packet's flow, the TUN's
// tc ingress program sets it as skb->mark, and one policy rule + table per uplink routes marked
// packets out of that uplink. The numbers come from gatewayLayout(); this file says what to want.
import { readRoutes } from '../mechanism/netlink/read.ts';
import type { NetnsOption } from '../mechanism/netlink/ns.ts';
import { uplinkMark, type GatewayLayout } from '../layout/kernel-layout.ts';
import type { Family, RouteSpec, RuleSpec } from '../reconcile/types.ts';

export interface Uplink {
  name: string;
  interface: string;
}

/** A default route of the main table, the one an uplink's own table copies. */
export interface MainDefault {
  family: Family;
  dev: string;
  via?: string;
  onlink?: boolean;
}

const FAMILIES: readonly Family[] = [4, 6];
const MAIN_TABLE = 254;
/** What the kernel gives a route without a metric: 0 for IPv4, 1024 for IPv6. */
const metricOf = (family: Family) => (family === 4 ? 0 : 1024);

/** The main table's default routes through the uplinks' interfaces (read, never changed). */
export async function readMainDefaults(
  interfaces: readonly string[],
  opts: NetnsOption = {},
): Promise<MainDefault[]> {
  const out: MainDefault[] = [];
  for (const family of FAMILIES) {
    const routes = await readRoutes(family, { ...opts, table: MAIN_TABLE });
    for (const dev of interfaces) {
      const r = routes.find((x) => x.dst === 'default' && x.dev === dev && x.type === 'unicast');
      if (!r) continue;
      out.push({
        family,
        dev,
        ...(r.gateway ? { via: r.gateway } : {}),
        ...(r.flags.includes('onlink') ? { onlink: true } : {}),
      });
    }
  }
  return out;
}

/**
 * Each uplink's table holds a copy of its default routes, and two rules per family send its marked
 * packets there (more specific main-table routes, like the tunnel subnet, still win). An uplink
 * without a default route gets no table (its marked packets follow the main table), unless an app
 * names it: then this throws, since that app's traffic could not be kept on it.
 */
export function uplinkRouting(
  layout: GatewayLayout,
  uplinks: readonly Uplink[],
  pinned: ReadonlySet<string>,
  mainDefaults: readonly MainDefault[],
): { rules: RuleSpec[]; routes: RouteSpec[] } {
  const rules: RuleSpec[] = [];
  const routes: RouteSpec[] = [];
  for (const [i, u] of uplinks.entries()) {
    const mark = uplinkMark(layout, i);
    const copies = mainDefaults.filter((d) => d.dev === u.interface);
    if (!copies.length && pinned.has(u.name))
      throw new Error(
        `uplink ${u.name} (${u.interface}) has no default route in the main table; add one (a higher metric keeps it from being preferred) so apps assigned to it can leave through it`,
      );
    for (const d of copies)
      routes.push({
        family: d.family,
        table: mark,
        dst: 'default',
        dev: d.dev,
        metric: metricOf(d.family),
        ...(d.via ? { via: d.via } : {}),
        ...(d.onlink ? { onlink: true } : {}),
      });
    for (const family of FAMILIES) {
      const base = { family, fwmark: mark, mask: 0xffffffff, action: 'lookup' as const };
      rules.push({ ...base, priority: layout.priorities.first, table: MAIN_TABLE, suppressPrefixlength: 0 });
      rules.push({ ...base, priority: layout.priorities.first + 1, table: mark });
    }
  }
  return { rules, routes };
}
