// actual vs desired → ordered operations. Order keeps the kernel safe at every step:
//   sysctls, link settings and new addresses (routes may name the link and its addresses), route replaces (tables are filled before rules point at them), rule adds (new rules exist
//   before old ones go, so there is never a gap and a kill rule is never missing), the nft table swap
//   (atomic), then rule deletes, route deletes and finally address deletes.
// The reconciler runs sysctls, then the nft swap, then one ip batch per family in this order. nft going
// first is safe: a changed allow-list can only drop a marked packet for a moment, never let one leak.
import { createHash } from 'node:crypto';
import { imageOf, type ClassifierList } from '../mechanism/bpf/classifier.ts';
import { renderTable, type TableSpec } from '../mechanism/nft/spec.ts';
import { hex } from '../layout/kernel-layout.ts';
import {
  canonicalCidr,
  type LinkSpec,
  routeKey,
  routeSame,
  ruleKey,
  type DesiredState,
  type Family,
  type RouteSpec,
  type RuleSpec,
} from './types.ts';
import type { ActualState } from './actual.ts';

export type Operation =
  | { op: 'sysctl'; path: string; value: string }
  | { op: 'link-set'; link: LinkSpec }
  | { op: 'addr-add'; dev: string; cidr: string; family: Family }
  | { op: 'route-replace'; route: RouteSpec }
  | { op: 'rule-add'; rule: RuleSpec }
  | { op: 'nft-replace'; table: TableSpec }
  | { op: 'nft-delete'; name: string }
  | { op: 'rule-del'; rule: RuleSpec }
  | { op: 'route-del'; route: RouteSpec }
  | { op: 'addr-del'; dev: string; cidr: string; family: Family }
  | { op: 'classifier-replace'; lists: ClassifierList[] };

const familyOf = (cidr: string): Family => (cidr.includes(':') ? 6 : 4);

/** Hash of the table's content (without counter values or comment): equal hashes mean nothing to do. */
export function nftHash(spec: TableSpec): string {
  const plain = { ...spec, comment: undefined, counters: spec.counters.map((c) => ({ name: c.name })) };
  return createHash('sha256').update(renderTable(plain)).digest('hex').slice(0, 16);
}

export function diff(actual: ActualState, desired: DesiredState, nftName?: string): Operation[] {
  const ops: Operation[] = [];
  for (const [path, value] of Object.entries(desired.sysctls)) {
    if (actual.sysctls[path] !== value) ops.push({ op: 'sysctl', path, value });
  }

  const addrDels: Operation[] = [];
  for (const link of desired.links ?? []) {
    const now = actual.links?.[link.name] ?? null;
    if (!now || now.mtu !== link.mtu || now.up !== link.up) ops.push({ op: 'link-set', link });
    const want = new Set(link.addresses.map(canonicalCidr));
    const have = new Set(now?.addresses.map(canonicalCidr) ?? []);
    for (const cidr of want)
      if (!have.has(cidr)) ops.push({ op: 'addr-add', dev: link.name, cidr, family: familyOf(cidr) });
    for (const cidr of have)
      if (!want.has(cidr)) addrDels.push({ op: 'addr-del', dev: link.name, cidr, family: familyOf(cidr) });
  }

  const actualRoutes = new Map(actual.routes.map((r) => [routeKey(r), r]));
  const desiredRoutes = new Map(desired.routes.map((r) => [routeKey(r), r]));
  for (const [k, r] of desiredRoutes) {
    const a = actualRoutes.get(k);
    if (!a || !routeSame(a, r)) ops.push({ op: 'route-replace', route: r });
  }

  const actualRules = new Map<string, RuleSpec[]>();
  for (const r of actual.rules) actualRules.set(ruleKey(r), [...(actualRules.get(ruleKey(r)) ?? []), r]);
  const desiredRules = new Map(desired.rules.map((r) => [ruleKey(r), r]));
  for (const [k, r] of desiredRules) if (!actualRules.has(k)) ops.push({ op: 'rule-add', rule: r });

  if (desired.nft) {
    const hash = nftHash(desired.nft);
    if (actual.nft?.hash !== hash)
      ops.push({ op: 'nft-replace', table: { ...desired.nft, comment: `sy:${hash}` } });
  } else if (actual.nft && nftName) ops.push({ op: 'nft-delete', name: nftName });

  for (const [k, rs] of actualRules) {
    // Duplicates (e.g. left by a helper killed mid-apply) go too, keeping one if it is wanted.
    const extra = desiredRules.has(k) ? rs.slice(1) : rs;
    for (const r of extra) ops.push({ op: 'rule-del', rule: r });
  }
  for (const [k, r] of actualRoutes) if (!desiredRoutes.has(k)) ops.push({ op: 'route-del', route: r });
  // Last: new classes are routed (and old ones still are) when sockets start getting their marks.
  if (
    desired.classifier &&
    actual.classifier &&
    !sameImage(imageOf(desired.classifier).lists, actual.classifier.lists)
  )
    ops.push({ op: 'classifier-replace', lists: desired.classifier });
  return [...ops, ...addrDels];
}

export function ruleLine(verb: 'add' | 'del', r: RuleSpec): string {
  const action = r.action === 'lookup' ? `lookup ${r.table}` : r.action;
  const suppress =
    r.suppressPrefixlength === undefined ? '' : ` suppress_prefixlength ${r.suppressPrefixlength}`;
  return `rule ${verb} priority ${r.priority} fwmark ${hex(r.fwmark)}/${hex(r.mask)} ${action}${suppress}`;
}

export function routeLine(verb: 'replace' | 'del', r: RouteSpec): string {
  const parts = ['route', verb, r.dst];
  if (r.via) parts.push('via', r.via);
  parts.push('dev', r.dev);
  if (verb === 'replace') {
    if (r.onlink) parts.push('onlink');
    if (r.src) parts.push('src', r.src);
    if (r.scope) parts.push('scope', r.scope);
  }
  parts.push('table', String(r.table), 'metric', String(r.metric));
  return parts.join(' ');
}

/** The batch lines of one family, in operation order. */
export function batchLines(ops: readonly Operation[], family: Family): string[] {
  const lines: string[] = [];
  for (const o of ops) {
    // Link settings are not per family: they go with the IPv4 batch, which runs first.
    if (o.op === 'link-set' && family === 4)
      lines.push(`link set dev ${o.link.name} mtu ${o.link.mtu} ${o.link.up ? 'up' : 'down'}`);
    if (o.op === 'addr-add' && o.family === family) lines.push(`address add ${o.cidr} dev ${o.dev}`);
    if (o.op === 'addr-del' && o.family === family) lines.push(`address del ${o.cidr} dev ${o.dev}`);
    if (o.op === 'route-replace' && o.route.family === family) lines.push(routeLine('replace', o.route));
    if (o.op === 'route-del' && o.route.family === family) lines.push(routeLine('del', o.route));
    if (o.op === 'rule-add' && o.rule.family === family) lines.push(ruleLine('add', o.rule));
    if (o.op === 'rule-del' && o.rule.family === family) lines.push(ruleLine('del', o.rule));
  }
  return lines;
}

function sameImage(a: Record<string, string>, b: Record<string, string>): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k]);
}
