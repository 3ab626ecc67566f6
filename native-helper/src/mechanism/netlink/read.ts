// Reads links, addresses, routes and rules with `ip -json`, and turns them into interfaces.
import { access } from 'node:fs/promises';
import { CommandError, output, run } from '../exec.ts';
import { ipArgv, type Family, type NetnsOption } from './ns.ts';
import { uapiInterfaces } from '../wireguard/index.ts';

export interface Link {
  index: number;
  name: string;
  flags: string[];
  mtu: number;
  operstate: string;
  linkType: string;
  mac: string | null;
  /** linkinfo.info_kind from `ip -d`: veth, wireguard, tun, bridge, … (null for plain devices). */
  infoKind: string | null;
  stats: { rxBytes: number; txBytes: number };
}

export interface LinkAddress {
  ifname: string;
  family: Family;
  address: string;
  prefixLength: number;
  scope: string;
  tentative: boolean;
}

export interface Route {
  family: Family;
  /** Numeric table id; main = 254, local = 255. */
  table: number;
  type: string;
  dst: string;
  gateway: string | null;
  dev: string | null;
  prefsrc: string | null;
  metric: number;
  scope: string | null;
  protocol: string | null;
  flags: string[];
}

export interface Rule {
  family: Family;
  priority: number;
  fwmark: number | null;
  fwmask: number | null;
  /** 'lookup' for table rules, else the action (unreachable, prohibit, blackhole, goto, nop). */
  action: string;
  table: number | null;
  suppressPrefixlength: number | null;
  /** True when the rule has selectors we do not model (src, dst, iif, uid…). */
  other: boolean;
}

const TABLE_NAMES: Record<string, number> = { unspec: 0, default: 253, main: 254, local: 255 };

export function tableId(v: unknown): number {
  if (v === undefined || v === null) return 254;
  if (typeof v === 'number') return v;
  const s = String(v);
  if (s in TABLE_NAMES) return TABLE_NAMES[s]!;
  const n = Number(s);
  if (!Number.isInteger(n)) throw new Error(`unknown routing table name "${s}"; use numeric table ids.`);
  return n;
}

async function ipJson(
  opts: NetnsOption,
  args: string[],
  family?: Family,
): Promise<Record<string, unknown>[]> {
  const text = await output(ipArgv(opts, ['-json', ...args], family));
  return text.trim() ? (JSON.parse(text) as Record<string, unknown>[]) : [];
}

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);

export async function readLinks(opts: NetnsOption = {}): Promise<Link[]> {
  const rows = await ipJson(opts, ['-details', '-statistics', 'link', 'show']);
  return rows.map((r) => {
    const stats = (r.stats64 ?? r.stats) as { rx?: { bytes?: number }; tx?: { bytes?: number } } | undefined;
    const linkinfo = r.linkinfo as { info_kind?: string } | undefined;
    return {
      index: Number(r.ifindex),
      name: String(r.ifname),
      flags: (r.flags as string[] | undefined) ?? [],
      mtu: Number(r.mtu ?? 0),
      operstate: String(r.operstate ?? 'UNKNOWN'),
      linkType: String(r.link_type ?? ''),
      mac: r.link_type === 'ether' ? str(r.address) : null,
      infoKind: linkinfo?.info_kind ?? null,
      stats: { rxBytes: Number(stats?.rx?.bytes ?? 0), txBytes: Number(stats?.tx?.bytes ?? 0) },
    };
  });
}

export async function readAddresses(opts: NetnsOption = {}): Promise<LinkAddress[]> {
  const rows = await ipJson(opts, ['address', 'show']);
  const out: LinkAddress[] = [];
  for (const r of rows) {
    for (const a of (r.addr_info as Record<string, unknown>[] | undefined) ?? []) {
      if (a.family !== 'inet' && a.family !== 'inet6') continue;
      out.push({
        ifname: String(r.ifname),
        family: a.family === 'inet' ? 4 : 6,
        address: String(a.local),
        prefixLength: Number(a.prefixlen),
        scope: String(a.scope ?? 'global'),
        tentative: a.tentative === true || a.dadfailed === true,
      });
    }
  }
  return out;
}

/** Routes of one family in every table (or one table when given). */
export async function readRoutes(
  family: Family,
  opts: NetnsOption & { table?: number | 'all' } = {},
): Promise<Route[]> {
  const rows = await ipJson(opts, ['route', 'show', 'table', String(opts.table ?? 'all')], family);
  return rows.map((r) => ({
    family,
    table: tableId(r.table),
    type: str(r.type) ?? 'unicast',
    dst: String(r.dst),
    gateway: str(r.gateway),
    dev: str(r.dev),
    prefsrc: str(r.prefsrc),
    metric: Number(r.metric ?? 0),
    scope: str(r.scope),
    protocol: str(r.protocol),
    flags: (r.flags as string[] | undefined) ?? [],
  }));
}

const MODELLED_RULE_KEYS = new Set([
  'priority',
  'src',
  'table',
  'fwmark',
  'fwmask',
  'action',
  'flags',
  'suppress_prefixlen',
]);

export async function readRules(family: Family, opts: NetnsOption = {}): Promise<Rule[]> {
  const rows = await ipJson(opts, ['rule', 'show'], family);
  return rows.map((r) => ({
    family,
    priority: Number(r.priority),
    fwmark: r.fwmark === undefined ? null : Number(r.fwmark),
    // `ip` omits fwmask when it is all ones.
    fwmask: r.fwmark === undefined ? null : r.fwmask === undefined ? 0xffffffff : Number(r.fwmask),
    action: str(r.action) ?? 'lookup',
    table: r.table === undefined ? null : tableId(r.table),
    suppressPrefixlength: r.suppress_prefixlen === undefined ? null : Number(r.suppress_prefixlen),
    other: r.src !== 'all' || Object.keys(r).some((k) => !MODELLED_RULE_KEYS.has(k)),
  }));
}

/** One link's MTU, state and global addresses ("10.0.0.1/24"), or null when there is no such link. */
export async function readLinkState(
  name: string,
  opts: NetnsOption = {},
): Promise<{ mtu: number; up: boolean; addresses: string[] } | null> {
  const res = await run(ipArgv(opts, ['-json', 'address', 'show', 'dev', name]), { allowFailure: true });
  if (res.code !== 0) {
    if (/does not exist|Cannot find device/i.test(res.stderr)) return null;
    throw new CommandError(ipArgv(opts, ['-json', 'address', 'show', 'dev', name]), res.code, res.stderr);
  }
  const row = (JSON.parse(res.stdout || '[]') as Record<string, unknown>[])[0];
  if (!row) return null;
  const addrs = (row.addr_info as Record<string, unknown>[] | undefined) ?? [];
  return {
    mtu: Number(row.mtu ?? 0),
    up: ((row.flags as string[] | undefined) ?? []).includes('UP'),
    addresses: addrs
      .filter((a) => (a.family === 'inet' || a.family === 'inet6') && (a.scope ?? 'global') === 'global')
      .map((a) => `${String(a.local)}/${Number(a.prefixlen)}`),
  };
}

export type InterfaceKind = 'ethernet' | 'wifi' | 'tunnel' | 'wireguard' | 'loopback' | 'virtual' | 'other';

/**
 * A link as the helper reports it: the same shape as the API's Interface (the daemon fills in `apps`
 * and the rates), kept here so that mechanisms do not depend on the API.
 */
export interface NetInterface {
  name: string;
  index: number;
  kind: InterfaceKind;
  up: boolean;
  usable: boolean;
  mac: string | null;
  mtu: number;
  addresses: { family: 4 | 6; address: string; prefixLength: number }[];
  gateways: { family: 4 | 6; address: string }[];
  apps: string[];
  counters: { txBytes: number; rxBytes: number; txRate: number; rxRate: number };
}

/**
 * Classifies a link; `wireless` says whether sysfs shows wireless/ or phy80211 for it, `uapi` whether
 * a WireGuard UAPI socket is named after it (wireguard-go's device is a plain tun to netlink).
 */
export function classifyKind(
  link: Pick<Link, 'name' | 'linkType' | 'infoKind' | 'flags'>,
  wireless = false,
  uapi = false,
): InterfaceKind {
  const { name, infoKind } = link;
  if (link.linkType === 'loopback' || link.flags.includes('LOOPBACK')) return 'loopback';
  if (infoKind === 'wireguard' || (infoKind === 'tun' && uapi)) return 'wireguard';
  if (wireless || /^wl/.test(name)) return 'wifi';
  if (infoKind === 'tun' || /^(tun|tap|wg|sy-)/.test(name) || link.linkType === 'none') return 'tunnel';
  if (infoKind === 'veth' || /^(en|eth)/.test(name)) return 'ethernet';
  if (infoKind) return 'virtual';
  return link.linkType === 'ether' ? 'other' : 'other';
}

/** Whether sysfs marks the link as wireless; only meaningful for the helper's own namespace. */
export async function isWireless(name: string): Promise<boolean> {
  for (const p of [`/sys/class/net/${name}/wireless`, `/sys/class/net/${name}/phy80211`]) {
    if (
      await access(p).then(
        () => true,
        () => false,
      )
    )
      return true;
  }
  return false;
}

export interface Snapshot {
  links: Link[];
  addresses: LinkAddress[];
  routes: Route[];
}

export async function readSnapshot(opts: NetnsOption = {}): Promise<Snapshot> {
  const [links, addresses, r4, r6] = await Promise.all([
    readLinks(opts),
    readAddresses(opts),
    readRoutes(4, { ...opts, table: 254 }),
    readRoutes(6, { ...opts, table: 254 }),
  ]);
  return { links, addresses, routes: [...r4, ...r6] };
}

/**
 * The API view of every link. Usable = up, carrier, and a default route in the main table through it.
 * `apps` is left empty (the caller knows which apps use which egress); rates are 0 (the caller derives them).
 */
export async function readInterfaces(opts: NetnsOption = {}): Promise<NetInterface[]> {
  const snap = await readSnapshot(opts);
  const wireless = new Map<string, boolean>();
  if (!opts.netns) for (const l of snap.links) wireless.set(l.name, await isWireless(l.name));
  // The UAPI sockets are those of our own mount namespace: only meaningful for our network namespace.
  const uapi = opts.netns ? new Set<string>() : await uapiInterfaces();
  return interfacesFromSnapshot(snap, wireless, uapi);
}

export function interfacesFromSnapshot(
  snap: Snapshot,
  wireless: Map<string, boolean> = new Map(),
  uapi: ReadonlySet<string> = new Set(),
): NetInterface[] {
  return snap.links
    .filter((l) => l.name.length <= 15)
    .map((l) => {
      const defaults = snap.routes.filter(
        (r) => r.table === 254 && r.dst === 'default' && r.dev === l.name && r.type === 'unicast',
      );
      const up = l.flags.includes('UP');
      const carrier = l.flags.includes('LOWER_UP');
      const kind = classifyKind(l, wireless.get(l.name) ?? false, uapi.has(l.name));
      // A WireGuard device is point-to-point: no gateway, and wg-quick keeps its default route out of
      // the main table (table 51820, or none with narrow AllowedIPs). An address is what it needs.
      const routed =
        kind === 'wireguard'
          ? snap.addresses.some((a) => a.ifname === l.name && a.scope === 'global' && !a.tentative)
          : defaults.length > 0 && !defaults.every((d) => d.flags.includes('linkdown'));
      return {
        name: l.name,
        index: l.index,
        kind,
        up,
        usable: up && carrier && routed,
        mac: l.mac,
        mtu: l.mtu,
        // Tentative (DAD pending) addresses cannot be a route's source yet; the address event that ends
        // DAD makes the caller re-read.
        addresses: snap.addresses
          .filter((a) => a.ifname === l.name && a.scope !== 'host' && !a.tentative)
          .map((a) => ({ family: a.family, address: a.address, prefixLength: a.prefixLength })),
        gateways: defaults
          .filter((d) => d.gateway)
          .sort((a, b) => a.metric - b.metric)
          .map((d) => ({ family: d.family, address: d.gateway! })),
        apps: [],
        counters: { txBytes: l.stats.txBytes, rxBytes: l.stats.rxBytes, txRate: 0, rxRate: 0 },
      };
    });
}
