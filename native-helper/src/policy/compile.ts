// Policy + interfaces → the kernel state the helper wants (rules, routes, nft table, sysctls). Pure.
import { addressValue } from '../api/ip.ts';
import type { Interface } from '../api/schema.ts';
import type { TableSpec } from '../mechanism/nft/spec.ts';
import type { DesiredState, Family, RouteSpec, RuleSpec } from '../reconcile/types.ts';
import { isIP } from 'node:net';
import { effectiveChoice, evaluate } from './evaluate.ts';
import {
  KILL_COUNTER,
  type KillGuard,
  killSwitchHolds,
  killSwitchNft,
  killSwitchState,
} from './kill-switch.ts';
import { modeOf, type PolicyDocument } from './model.ts';
import { BYPASS_TAG, excludeGuardChain, excludeRules, EXCLUDE_KILL_COUNTER } from './exclude-mode.ts';
import { lanGuardRules, lanRoutes, lanRules } from './lan-access.ts';
import { connectedRoutes } from './connected-routes.ts';
import { HELD_COUNTER, type FlowPlan } from './flow-plan.ts';
import {
  CLASS_TAG_BASE,
  hex,
  MARK_MASK,
  markFor,
  MAX_LOOKUPS,
  SLOT_MASK,
  tableFor,
  type Layout,
} from '../layout/kernel-layout.ts';

const FAMILIES: Family[] = [4, 6];
const METRIC: Record<Family, number> = { 4: 0, 6: 1024 };

type Iface = Pick<Interface, 'name' | 'kind' | 'usable' | 'addresses' | 'gateways'>;

function isLinkLocal(family: Family, address: string): boolean {
  return family === 4 ? address.startsWith('169.254.') : /^fe[89ab]/i.test(address);
}

function bigToV6(n: bigint): string {
  const groups = Array.from({ length: 8 }, (_, i) =>
    Number((n >> BigInt(16 * (7 - i))) & 0xffffn).toString(16),
  );
  // Compress the longest run of zero groups, as the kernel prints it.
  let best = -1;
  let bestLen = 0;
  for (let i = 0; i < 8;) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > bestLen && j - i > 1) [best, bestLen] = [i, j - i];
    i = j;
  }
  if (best < 0) return groups.join(':');
  return `${groups.slice(0, best).join(':')}::${groups.slice(best + bestLen).join(':')}`;
}

/** The network prefix of an address, in the kernel's own spelling ("198.18.1.0/24", "fd5a:1::/64"). */
export function networkOf(family: Family, address: string, prefixLength: number): string {
  if (family === 4) {
    const mask = prefixLength === 0 ? 0 : (0xffffffff << (32 - prefixLength)) >>> 0;
    const n = (Number(addressValue(address)) & mask) >>> 0;
    return `${[24, 16, 8, 0].map((s) => (n >>> s) & 0xff).join('.')}/${prefixLength}`;
  }
  const mask = prefixLength === 0 ? 0n : ((1n << 128n) - 1n) ^ ((1n << BigInt(128 - prefixLength)) - 1n);
  return `${bigToV6(addressValue(address) & mask)}/${prefixLength}`;
}

/** The routes of one egress's table: default route(s) with its primary source, and connected prefixes. */
export function egressRoutes(iface: Iface, table: number): RouteSpec[] {
  const routes: RouteSpec[] = [];
  for (const family of FAMILIES) {
    const addrs = iface.addresses.filter((a) => a.family === family && !isLinkLocal(family, a.address));
    const primary = addrs[0]?.address;
    const gw = iface.gateways.find((g) => g.family === family)?.address;
    const metric = METRIC[family];
    if (gw)
      routes.push({
        family,
        table,
        dst: 'default',
        via: gw,
        dev: iface.name,
        ...(primary ? { src: primary } : {}),
        metric,
      });
    else if ((iface.kind === 'tunnel' || iface.kind === 'wireguard') && primary)
      // Without a gateway the kernel gives the route link scope; say so, or verification sees a difference.
      routes.push({
        family,
        table,
        dst: 'default',
        dev: iface.name,
        src: primary,
        metric,
        ...(family === 4 ? { scope: 'link' as const } : {}),
      });
    routes.push(...connectedRoutes(iface.name, family, addrs, table, metric, networkOf));
  }
  return routes;
}

export interface CompileOptions {
  /** Sysctls of managed egresses; default true (see below). */
  sysctls?: boolean;
  /**
   * Per-egress DNS resolvers (IPv4 addresses are used). When an app's active egress has one, the app's
   * DNS queries to a loopback stub (127.0.0.53 and the like) are sent to that resolver instead, through
   * the egress — see docs/dns.md.
   */
  dnsResolvers?: Record<string, string[]>;
  /** The encryption rules, planned (flow-plan.ts): flow classes, classifier lists, nft rule chains. */
  flows?: FlowPlan;
  /**
   * Copy DNS replies to the apps into the instance's NFLOG group (layout.dnsLogGroup), for the names in
   * the connection history (daemon/dns-names.ts). Only while something reads the group: binding it is
   * also what loads nfnetlink_log, which the rule needs.
   */
  logDnsReplies?: boolean;
}

export interface DnsRedirect {
  mark: number;
  egress: string;
  /** The DNAT target: the egress's IPv4 server, or the app's forwarder when its servers are all IPv6. */
  resolver: string;
  /** To the helper's forwarder (mechanism/dns/forwarder.ts), which asks with the app's mark. */
  forwarded?: boolean;
}

/** Loopback address of an app's DNS forwarder: 127.83.<tag high byte>.<tag low byte>. */
export function forwarderAddress(tag: number): string {
  return `127.83.${(tag >> 8) & 0xff}.${tag & 0xff}`;
}

/**
 * The desired kernel state. Rules per app (mark M, both families):
 *   block            → prohibit at priorities.block (lifted while paused)
 *   ordered E1..En   → lookup table(Ei) at priorities.lookup + i; an egress that is not usable has an empty
 *                      table, so the kernel falls through to the next one by itself (failover without waiting)
 *   kill switch      → unreachable at priorities.kill, always present (lifted only while paused);
 *                      see kill-switch.ts
 * The override replaces each non-blocked app's list with [override] (effectiveChoice).
 */
export function compile(
  policy: PolicyDocument,
  interfaces: readonly Iface[],
  layout: Layout,
  opts: CompileOptions = {},
): DesiredState {
  const rules: RuleSpec[] = [];
  const inUse = new Set<string>();
  const kill: KillGuard[] = [];
  const dns: DnsRedirect[] = [];
  /** Marks of held apps: their lookups to a loopback stub are dropped too (the stub would send them). */
  const dnsHeld: number[] = [];

  for (const app of policy.apps) {
    const mark = markFor(layout, app.tag);
    const eff = effectiveChoice(app.choice, policy.override, policy.mode);
    const active = evaluate(app.choice, interfaces, policy).active;
    const servers = (active && opts.dnsResolvers?.[active]) || [];
    const resolver = servers.find((r) => isIP(r) === 4);
    if (active && resolver) dns.push({ mark, egress: active, resolver });
    else if (active && servers.some((r) => isIP(r) === 6))
      dns.push({ mark, egress: active, resolver: forwarderAddress(app.tag), forwarded: true });
    if (!active && killSwitchHolds(eff, interfaces, policy.paused)) dnsHeld.push(mark);
    if (eff.mode === 'block') {
      if (!policy.paused)
        for (const family of FAMILIES)
          rules.push({
            family,
            priority: layout.priorities.block,
            fwmark: mark,
            mask: MARK_MASK,
            action: 'prohibit',
          });
      continue;
    }
    if (eff.mode !== 'ordered') continue;
    if (eff.egresses.length > MAX_LOOKUPS)
      throw new Error(
        `app ${app.id} lists ${eff.egresses.length} egresses; at most ${MAX_LOOKUPS} are supported.`,
      );
    eff.egresses.forEach((egress, i) => {
      const n = policy.egressTables[egress];
      if (n === undefined)
        throw new Error(
          `egress ${egress} has no routing table in the policy; call ensureEgressTables() before compile().`,
        );
      inUse.add(egress);
      for (const family of FAMILIES)
        rules.push({
          family,
          priority: layout.priorities.lookup + i,
          fwmark: mark,
          mask: MARK_MASK,
          action: 'lookup',
          table: tableFor(layout, n),
        });
    });
    if (app.lanAccess) rules.push(...lanRules(mark, layout));
    const killSwitch = killSwitchState(eff, policy.paused, mark, layout, app.lanAccess === true);
    if (killSwitch) {
      rules.push(...killSwitch.rules);
      kill.push(killSwitch.guard);
    }
  }

  // A flow class goes into its tunnel or nowhere: one lookup, then unreachable, whatever the pause.
  for (const c of opts.flows?.classes ?? []) {
    const n = policy.egressTables[c.tunnel];
    if (n === undefined)
      throw new Error(
        `tunnel ${c.tunnel} has no routing table in the policy; call ensureEgressTables() first.`,
      );
    inUse.add(c.tunnel);
    for (const family of FAMILIES)
      rules.push({
        family,
        priority: layout.priorities.lookup,
        fwmark: c.mark,
        mask: MARK_MASK,
        action: 'lookup',
        table: tableFor(layout, n),
      });
    const held = killSwitchState(
      { mode: 'ordered', egresses: [c.tunnel], killSwitch: true },
      false,
      c.mark,
      layout,
    )!;
    rules.push(...held.rules);
    kill.push(held.guard);
    // A lookup the rule sent into the tunnel goes to the tunnel's server, through it, or nowhere.
    const tunnelDns = opts.dnsResolvers?.[c.tunnel]?.find((r) => isIP(r) === 4);
    const tunnelUp = interfaces.some((i) => i.name === c.tunnel && i.usable);
    if (tunnelDns && tunnelUp) dns.push({ mark: c.mark, egress: c.tunnel, resolver: tunnelDns });
    else dnsHeld.push(c.mark);
  }

  // Exclude mode: everything unmarked into its egress (exclude-mode.ts).
  const mode = modeOf(policy);
  rules.push(...excludeRules(mode, policy.egressTables, policy.paused, layout));
  if (mode.kind === 'exclude') inUse.add(mode.via);

  const routes: RouteSpec[] = [];
  if (
    policy.apps.some(
      (a) => a.lanAccess && effectiveChoice(a.choice, policy.override, policy.mode).mode === 'ordered',
    )
  )
    routes.push(...lanRoutes(interfaces, layout, networkOf));
  const sysctls: Record<string, string> = {};
  for (const egress of [...inUse].sort()) {
    const iface = interfaces.find((i) => i.name === egress);
    if (!iface) continue;
    if (iface.usable) routes.push(...egressRoutes(iface, tableFor(layout, policy.egressTables[egress]!)));
    if (opts.sysctls ?? true) {
      // Replies to a socket bound to this egress's address must pass strict rp_filter: the nft prerouting
      // chain puts the connection's mark back on them and src_valid_mark makes rp_filter use it.
      sysctls[`net/ipv4/conf/${egress}/src_valid_mark`] = '1';
      // A carrier loss keeps IPv4/IPv6 routes (flagged linkdown); ignoring them lets the kernel fail over.
      sysctls[`net/ipv4/conf/${egress}/ignore_routes_with_linkdown`] = '1';
      sysctls[`net/ipv6/conf/${egress}/ignore_routes_with_linkdown`] = '1';
    }
  }

  for (const egress of new Set(dns.filter((d) => !d.forwarded).map((d) => d.egress))) {
    // The redirected query leaves with a 127/8 source until masquerade rewrites it, and its reply is
    // un-NATed back to 127/8 on arrival: both need route_localnet on that egress. nft drops any other
    // packet for 127/8 arriving there (dns_guard), so the egress does not accept loopback traffic from outside.
    if (opts.sysctls ?? true) sysctls[`net/ipv4/conf/${egress}/route_localnet`] = '1';
  }

  return {
    rules,
    routes,
    nft: nftTable(policy, layout, kill, dns, interfaces, opts.flows, dnsHeld, opts.logDnsReplies),
    sysctls,
    ...(opts.flows ? { classifier: opts.flows.lists } : {}),
  };
}

/** Counters per app, ct-mark copy for rx and rp_filter, and the kill switch's second line of defence. */
export function nftTable(
  policy: PolicyDocument,
  layout: Layout,
  kill: readonly KillGuard[],
  dns: readonly DnsRedirect[] = [],
  interfaces: readonly Pick<Iface, 'name' | 'kind' | 'usable' | 'addresses'>[] = [],
  flows?: FlowPlan,
  dnsHeld: readonly number[] = [],
  logDnsReplies = false,
): TableSpec {
  const ours = `${hex(SLOT_MASK)} == ${hex(layout.markBase)}`;
  const apps = [...policy.apps].sort((a, b) => a.tag - b.tag);
  const classes = flows?.classes ?? [];
  // A flow class counts as its app.
  const entries = (kind: string) => [
    ...apps.map((a): [string, string] => [hex(markFor(layout, a.tag)), `"${kind}_${a.tag}"`]),
    ...classes.map((c): [string, string] => [hex(c.mark), `"${kind}_${c.appTag}"`]),
  ];
  const killSwitch = killSwitchNft(kill, entries(KILL_COUNTER));
  const classRange = `meta mark & ${hex(0xfffff000)} == ${hex(layout.markBase | CLASS_TAG_BASE)}`;
  const output = [
    `meta mark & ${hex(SLOT_MASK)} != ${hex(layout.markBase)} return`,
    // A tunnel's own UDP: ours so that no app rule routes it, otherwise system traffic (it sits in the
    // flow-class range, whose unknown marks are dropped below).
    `meta mark ${hex(markFor(layout, BYPASS_TAG))} return`,
    'ct mark set meta mark',
    'counter name meta mark map @tx_counters',
    // A held app's lookup to the loopback stub would leave by the stub's own socket: drop it here.
    ...(dnsHeld.length
      ? [
          `meta mark { ${dnsHeld.map(hex).join(', ')} } ip daddr 127.0.0.0/8 meta l4proto { udp, tcp } th dport 53 counter name meta mark map @kill_counters drop`,
          `meta mark { ${dnsHeld.map(hex).join(', ')} } ip6 daddr ::1 meta l4proto { udp, tcp } th dport 53 counter name meta mark map @kill_counters drop`,
        ]
      : []),
    ...killSwitch.output,
    ...lanGuardRules(
      kill.filter((k) => k.lan).map((k) => hex(k.mark)),
      interfaces,
      'kill_counters',
      networkOf,
    ),
    // The rules again, per packet: counting, and the backstop for flows the classifier missed. A class
    // mark no rule gives any more (a socket from before a change) leaves nowhere.
    ...(flows
      ? [
          `${classRange} meta mark != @flow_classes counter name "${HELD_COUNTER}" drop`,
          'oifname != "lo" meta mark vmap @rule_chains',
        ]
      : []),
  ];
  // Source guard: an app's packet leaves an interface only with that interface's own address. When an
  // app moves to another egress, its old connections' last packets (FIN, RST) would otherwise go out of
  // the new egress with the old egress's address. DNS-redirected packets are rewritten later (masquerade).
  const guard = `oifname != "lo" ct status & dnat == 0`;
  if (!policy.paused)
    output.push(
      `${guard} meta nfproto ipv4 oifname . ip saddr != @own_sources4 counter name wrong_source drop`,
      `${guard} meta nfproto ipv6 ip6 saddr != fe80::/10 oifname . ip6 saddr != @own_sources6 counter name wrong_source drop`,
    );
  const sources = (family: 4 | 6) =>
    interfaces
      .flatMap((i) =>
        i.addresses
          .filter((a) => a.family === family && !isLinkLocal(family, a.address))
          .map((a) => `"${i.name}" . ${a.address}`),
      )
      .sort();
  const excludeGuard = excludeGuardChain(modeOf(policy), policy.paused);
  const dnsChains: TableSpec['chains'] = [];
  if (dns.length)
    dnsChains.push({
      name: 'dns_redirect',
      hook: { type: 'nat', hook: 'output', priority: -100 },
      rules: [
        'ip daddr 127.0.0.0/8 meta l4proto { udp, tcp } th dport 53 dnat ip to meta mark map @dns_resolvers',
      ],
    });
  const offHost = dns.filter((d) => !d.forwarded);
  if (offHost.length) {
    const egresses = [...new Set(offHost.map((d) => `"${d.egress}"`))].join(', ');
    dnsChains.push(
      {
        name: 'dns_masquerade',
        hook: { type: 'nat', hook: 'postrouting', priority: 100 },
        rules: [`meta mark & ${ours} ip saddr 127.0.0.0/8 oifname != "lo" masquerade`],
      },
      {
        name: 'dns_guard',
        hook: { type: 'filter', hook: 'prerouting', priority: 'filter' },
        rules: [
          `iifname { ${egresses} } ip daddr 127.0.0.0/8 ct status dnat accept`,
          `iifname { ${egresses} } ip daddr 127.0.0.0/8 drop`,
        ],
      },
    );
  }
  return {
    name: layout.nftTable,
    counters: [
      { name: 'wrong_source' },
      ...(excludeGuard ? [{ name: EXCLUDE_KILL_COUNTER }] : []),
      ...apps.flatMap((a) => ['tx', 'rx', KILL_COUNTER].map((k) => ({ name: `${k}_${a.tag}` }))),
      ...(flows?.counters ?? []).map((name) => ({ name })),
    ],
    sets: [
      { name: 'own_sources4', type: 'ifname . ipv4_addr', elements: sources(4) },
      { name: 'own_sources6', type: 'ifname . ipv6_addr', elements: sources(6) },
      ...killSwitch.sets,
      ...(flows ? [{ name: 'flow_classes', type: 'mark', elements: classes.map((c) => hex(c.mark)) }] : []),
    ],
    maps: [
      ...(flows
        ? [
            {
              name: 'rule_chains',
              type: 'mark : verdict',
              elements: flows.chains.flatMap((c) =>
                c.marks.map((m): [string, string] => [hex(m), `jump ${c.name}`]),
              ),
            },
          ]
        : []),
      { name: 'tx_counters', type: 'mark : counter', elements: entries('tx') },
      { name: 'rx_counters', type: 'mark : counter', elements: entries('rx') },
      killSwitch.counterMap,
      ...(dns.length
        ? [
            {
              name: 'dns_resolvers',
              type: 'mark : ipv4_addr',
              elements: dns.map((d): [string, string] => [hex(d.mark), d.resolver]),
            },
          ]
        : []),
    ],
    chains: [
      { name: 'output', hook: { type: 'filter', hook: 'output', priority: 'filter' }, rules: output },
      {
        name: 'input',
        hook: { type: 'filter', hook: 'input', priority: 'filter' },
        rules: [
          // A reply from port 53 to one of our apps (from its egress's resolver, the stub or the forwarder):
          // logged with the app's mark, so the lookup's names are the app's.
          ...(logDnsReplies
            ? [
                `ct mark & ${ours} meta l4proto { udp, tcp } th sport 53 meta mark set ct mark log group ${layout.dnsLogGroup}`,
              ]
            : []),
          `ct mark & ${ours} counter name ct mark map @rx_counters`,
        ],
      },
      {
        name: 'prerouting',
        hook: { type: 'filter', hook: 'prerouting', priority: 'mangle' },
        rules: [`ct mark & ${ours} meta mark set ct mark`],
      },
      ...dnsChains,
      ...(excludeGuard ? [excludeGuard] : []),
      ...(flows?.chains ?? []).map((c) => ({ name: c.name, rules: c.rules })),
    ],
  };
}
