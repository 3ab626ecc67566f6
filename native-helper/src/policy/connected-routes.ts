// An interface's connected prefixes as routes in one of our tables: an egress's table (compile.ts) and
// the LAN table (lan-access.ts) both need them, with the interface's own address as the source.
import type { Family, RouteSpec } from '../reconcile/types.ts';

export function connectedRoutes(
  dev: string,
  family: Family,
  addrs: readonly { address: string; prefixLength: number }[],
  table: number,
  metric: number,
  networkOf: (family: Family, address: string, prefixLength: number) => string,
): RouteSpec[] {
  const routes: RouteSpec[] = [];
  const seen = new Set<string>();
  for (const a of addrs) {
    if (a.prefixLength >= (family === 4 ? 32 : 128)) continue; // a host address has no subnet
    const dst = networkOf(family, a.address, a.prefixLength);
    if (seen.has(dst)) continue;
    seen.add(dst);
    routes.push({
      family,
      table,
      dst,
      dev,
      src: a.address,
      metric,
      ...(family === 4 ? { scope: 'link' as const } : {}),
    });
  }
  return routes;
}
