// The kernel state the helper wants, in the helper's own ranges only. compile() produces it, the
// reconciler makes the kernel match it.
import type { ClassifierList } from '../mechanism/bpf/classifier.ts';
import type { TableSpec } from '../mechanism/nft/spec.ts';

export type Family = 4 | 6;

export interface RuleSpec {
  family: Family;
  priority: number;
  fwmark: number;
  mask: number;
  action: 'lookup' | 'unreachable' | 'prohibit' | 'blackhole';
  /** Only for action 'lookup'. */
  table?: number;
  /** Ignore routes with a prefix this short or shorter (0: the default route) in the looked-up table. */
  suppressPrefixlength?: number;
}

export interface RouteSpec {
  family: Family;
  table: number;
  /** 'default' or a prefix "198.18.1.0/24". */
  dst: string;
  via?: string;
  dev: string;
  /** Preferred source address (ip route … src), so bind-time source selection matches the egress. */
  src?: string;
  /** Always explicit: IPv6 routes default to 1024 in the kernel, IPv4 to 0. */
  metric: number;
  scope?: 'link';
  /** The gateway is on the link even without a matching prefix (copied from the route we follow). */
  onlink?: boolean;
}

/** A link the caller owns (e.g. a TUN it created): its MTU, state and exact global addresses. */
export interface LinkSpec {
  name: string;
  mtu: number;
  up: boolean;
  /** CIDR text, e.g. "10.77.0.1/24"; global addresses not listed are removed. */
  addresses: string[];
}

export interface DesiredState {
  rules: RuleSpec[];
  routes: RouteSpec[];
  /** The helper's nftables table; null means no table at all. */
  nft: TableSpec | null;
  /** sysctl path (slash form, e.g. "net/ipv4/conf/eth0/src_valid_mark") → value. */
  sysctls: Record<string, string>;
  /** Links whose settings are wanted; links not listed are never touched, and teardown leaves them. */
  links?: LinkSpec[];
  /** The flow classifier's lists (encryption rules); absent: the classifier is not touched. */
  classifier?: ClassifierList[];
}

export function emptyDesired(): DesiredState {
  return { rules: [], routes: [], nft: null, sysctls: {}, links: [] };
}

/** "fd00:0::1/64" → "fd00::1/64": the form `ip` prints, so desired and actual compare as text. */
export function canonicalCidr(cidr: string): string {
  const [address = '', prefix] = cidr.split('/');
  const canonical = address.includes(':') ? new URL(`http://[${address}]/`).hostname.slice(1, -1) : address;
  return prefix === undefined ? canonical : `${canonical}/${prefix}`;
}

export function ruleKey(r: RuleSpec): string {
  const suppress = r.suppressPrefixlength === undefined ? '' : `|suppress ${r.suppressPrefixlength}`;
  return `${r.family}|${r.priority}|${r.fwmark >>> 0}/${r.mask >>> 0}|${r.action}|${r.action === 'lookup' ? r.table : ''}${suppress}`;
}

/** Routes are identified by table, destination and metric; other fields changing means "replace". */
export function routeKey(r: RouteSpec): string {
  return `${r.family}|${r.table}|${r.dst}|${r.metric}`;
}

export function routeSame(a: RouteSpec, b: RouteSpec): boolean {
  return (
    routeKey(a) === routeKey(b) &&
    a.dev === b.dev &&
    (a.via ?? '') === (b.via ?? '') &&
    (a.src ?? '') === (b.src ?? '') &&
    (a.scope ?? '') === (b.scope ?? '') &&
    !!a.onlink === !!b.onlink
  );
}
