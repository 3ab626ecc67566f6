// What the kernel holds in one scope: its rule priorities, its tables, its nft table, the links asked for.
import { readLinkState, readRoutes, readRules } from '../mechanism/netlink/read.ts';
import type { NetnsOption } from '../mechanism/netlink/ns.ts';
import { listTable, tableComment } from '../mechanism/nft/table.ts';
import { isOurMark, isOurPriority, isOurTable, type KernelScope } from '../layout/kernel-layout.ts';
import type { ClassifierImage } from '../mechanism/bpf/classifier.ts';
import type { LinkSpec, RouteSpec, RuleSpec } from './types.ts';
import { readSysctls } from './sysctl.ts';

export interface ActualState {
  rules: RuleSpec[];
  routes: RouteSpec[];
  /** The nft table as text (with counter values) and the content hash from its comment. */
  nft: { text: string; hash: string | null } | null;
  /** Values of the sysctl paths asked for (null: path does not exist). */
  sysctls: Record<string, string | null>;
  /** The links asked for (null: no such link). */
  links?: Record<string, LinkState | null>;
  /** The flow classifier's lists in force, when the reconciler has a classifier. */
  classifier?: ClassifierImage;
}

export type LinkState = Omit<LinkSpec, 'name'>;

const ACTIONS = new Set(['lookup', 'unreachable', 'prohibit', 'blackhole']);

export async function readActual(
  scope: KernelScope,
  opts: NetnsOption & {
    sysctlPaths?: readonly string[];
    linkNames?: readonly string[];
    /** false: leave rules and routes out (the caller knows them); they come back empty. */
    routing?: boolean;
    /** false: leave the nft table out (the caller knows it); it comes back null. */
    nft?: boolean;
  } = {},
): Promise<ActualState> {
  const linkNames = opts.linkNames ?? [];
  const routing = opts.routing ?? true;
  const none = Promise.resolve([]);
  const [rules4, rules6, routes4, routes6, nftText, sysctls, linkStates] = await Promise.all([
    routing ? readRules(4, opts) : none,
    routing ? readRules(6, opts) : none,
    routing ? readRoutes(4, opts) : none,
    routing ? readRoutes(6, opts) : none,
    scope.nftTable && opts.nft !== false ? listTable(scope.nftTable, opts) : Promise.resolve(null),
    readSysctls(opts.sysctlPaths ?? [], opts),
    Promise.all(linkNames.map((n) => readLinkState(n, opts))),
  ]);
  const links = Object.fromEntries(linkNames.map((n, i) => [n, linkStates[i] ?? null]));
  const rules: RuleSpec[] = [];
  for (const r of [...rules4, ...rules6]) {
    if (!isOurPriority(scope, r.priority)) continue;
    // We only ever create fwmark rules with these actions; anything else in the range is not ours to touch.
    if (r.fwmark === null || r.other || !ACTIONS.has(r.action) || !isOurMark(scope, r.fwmark)) continue;
    rules.push({
      family: r.family,
      priority: r.priority,
      fwmark: r.fwmark,
      mask: r.fwmask ?? 0xffffffff,
      action: r.action as RuleSpec['action'],
      ...(r.action === 'lookup' && r.table !== null ? { table: r.table } : {}),
      ...(r.suppressPrefixlength !== null ? { suppressPrefixlength: r.suppressPrefixlength } : {}),
    });
  }
  const routes: RouteSpec[] = [];
  for (const r of [...routes4, ...routes6]) {
    if (!isOurTable(scope, r.table) || !r.dev) continue;
    routes.push({
      family: r.family,
      table: r.table,
      dst: r.dst,
      dev: r.dev,
      metric: r.metric,
      ...(r.gateway ? { via: r.gateway } : {}),
      ...(r.prefsrc ? { src: r.prefsrc } : {}),
      ...(r.family === 4 && r.scope === 'link' ? { scope: 'link' as const } : {}),
      ...(r.flags.includes('onlink') ? { onlink: true } : {}),
    });
  }
  const hash = nftText ? (tableComment(nftText)?.replace(/^sy:/, '') ?? null) : null;
  return { rules, routes, nft: nftText ? { text: nftText, hash } : null, sysctls, links };
}
