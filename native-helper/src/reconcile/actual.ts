// What the kernel holds in the helper's ranges: its rule priorities, its tables, its nft table.
import { readRoutes, readRules } from '../mechanism/netlink/read.ts';
import type { NetnsOption } from '../mechanism/netlink/ns.ts';
import { listTable, tableComment } from '../mechanism/nft/table.ts';
import { isOurPriority, isOurTable, type Layout } from '../layout/kernel-layout.ts';
import type { RouteSpec, RuleSpec } from './types.ts';
import { readSysctls } from './sysctl.ts';

export interface ActualState {
  rules: RuleSpec[];
  routes: RouteSpec[];
  /** The nft table as text (with counter values) and the content hash from its comment. */
  nft: { text: string; hash: string | null } | null;
  /** Values of the sysctl paths asked for (null: path does not exist). */
  sysctls: Record<string, string | null>;
}

const ACTIONS = new Set(['lookup', 'unreachable', 'prohibit', 'blackhole']);

export async function readActual(
  layout: Layout,
  opts: NetnsOption & { sysctlPaths?: readonly string[] } = {},
): Promise<ActualState> {
  const [rules4, rules6, routes4, routes6, nftText, sysctls] = await Promise.all([
    readRules(4, opts),
    readRules(6, opts),
    readRoutes(4, opts),
    readRoutes(6, opts),
    listTable(layout.nftTable, opts),
    readSysctls(opts.sysctlPaths ?? [], opts),
  ]);
  const rules: RuleSpec[] = [];
  for (const r of [...rules4, ...rules6]) {
    if (!isOurPriority(layout, r.priority)) continue;
    // We only ever create fwmark rules with these actions; anything else in the range is not ours to touch.
    if (r.fwmark === null || r.other || !ACTIONS.has(r.action)) continue;
    rules.push({
      family: r.family,
      priority: r.priority,
      fwmark: r.fwmark,
      mask: r.fwmask ?? 0xffffffff,
      action: r.action as RuleSpec['action'],
      ...(r.action === 'lookup' && r.table !== null ? { table: r.table } : {}),
    });
  }
  const routes: RouteSpec[] = [];
  for (const r of [...routes4, ...routes6]) {
    if (!isOurTable(layout, r.table) || !r.dev) continue;
    routes.push({
      family: r.family,
      table: r.table,
      dst: r.dst,
      dev: r.dev,
      metric: r.metric,
      ...(r.gateway ? { via: r.gateway } : {}),
      ...(r.prefsrc ? { src: r.prefsrc } : {}),
      ...(r.family === 4 && r.scope === 'link' ? { scope: 'link' as const } : {}),
    });
  }
  const hash = nftText ? (tableComment(nftText)?.replace(/^sy:/, '') ?? null) : null;
  return { rules, routes, nft: nftText ? { text: nftText, hash } : null, sysctls };
}
