// Exclude mode: "every app through X except these". Traffic the helper does not manage (sockets with
// no mark at all: unmanaged processes, the helper itself, system daemons) is routed into the egress X;
// managed apps carry their own marks, so they keep their own choices. Sockets that carry any other mark
// are left alone: the tunnel's own UDP (its data path's sockets carry BYPASS_TAG's mark, see
// tunnel/datapath.ts), and e.g. wg-quick's fwmark on a WireGuard interface's socket.
// Loopback stays loopback: the kernel's `local` table is looked up before any of our rules.
// The global kill switch: behind the lookup, an `unreachable` rule for the same packets, and an nft
// guard that drops an unmarked packet leaving by anything but X or lo (link-local and multicast
// IPv6, i.e. neighbour discovery, excepted: it never leaves the link).
import type { PolicyMode } from '../api/schema.ts';
import type { ChainSpec } from '../mechanism/nft/spec.ts';
import type { Family, RuleSpec } from '../reconcile/types.ts';
import { MARK_MASK, MAX_TAG, tableFor, type Layout } from '../layout/kernel-layout.ts';

const FAMILIES: Family[] = [4, 6];
/** The kernel's main table. */
const MAIN_TABLE = 254;

/**
 * The tag whose mark the helper gives its tunnels' own UDP sockets: ours, but no rule routes it, so the
 * tunnel's packets take the system routing (a physical uplink) and never the tunnel itself. Flow classes
 * end at 0xfffe, so no app or class has it.
 */
export const BYPASS_TAG = MAX_TAG;

/** The counter of unmanaged packets the exclude mode's kill switch dropped. */
export const EXCLUDE_KILL_COUNTER = 'exclude_kill';

/** Priorities of the exclude mode's rules: after every app's lookups, before the apps' kill rules. */
export function excludePriorities(layout: Layout): { lookup: number; kill: number } {
  return { lookup: layout.priorities.lookup + 8, kill: layout.priorities.lookup + 9 };
}

/** The mode's rules: unmarked packets look up X's table, then (kill switch armed) go nowhere. */
export function excludeRules(
  mode: PolicyMode,
  egressTables: Record<string, number>,
  paused: boolean,
  layout: Layout,
): RuleSpec[] {
  if (mode.kind !== 'exclude') return [];
  const n = egressTables[mode.via];
  if (n === undefined)
    throw new Error(
      `egress ${mode.via} has no routing table in the policy; call ensureEgressTables() before compile().`,
    );
  const p = excludePriorities(layout);
  const rules: RuleSpec[] = FAMILIES.flatMap((family): RuleSpec[] => [
    // The main table without its default routes first (as wg-quick does): connected subnets stay
    // local, and the kernel's own lookup when a gateway route is added (it checks the gateway is
    // reachable, with no mark) finds the uplink's subnet instead of the kill switch's unreachable.
    {
      family,
      priority: layout.priorities.first,
      fwmark: 0,
      mask: MARK_MASK,
      action: 'lookup',
      table: MAIN_TABLE,
      suppressPrefixlength: 0,
    },
    {
      family,
      priority: p.lookup,
      fwmark: 0,
      mask: MARK_MASK,
      action: 'lookup',
      table: tableFor(layout, n),
    },
  ]);
  if (excludeKillArmed(mode, paused))
    for (const family of FAMILIES)
      rules.push({ family, priority: p.kill, fwmark: 0, mask: MARK_MASK, action: 'unreachable' });
  return rules;
}

/** The global kill switch is in the kernel: exclude mode with it on, and not paused. */
export function excludeKillArmed(mode: PolicyMode, paused: boolean): boolean {
  return mode.kind === 'exclude' && mode.killSwitch && !paused;
}

/** The nft guard chain of the global kill switch; null when it is not armed. */
export function excludeGuardChain(mode: PolicyMode, paused: boolean): ChainSpec | null {
  if (mode.kind !== 'exclude' || !excludeKillArmed(mode, paused)) return null;
  return {
    name: 'exclude_guard',
    hook: { type: 'filter', hook: 'output', priority: 'filter' },
    rules: [
      'meta mark != 0 return',
      `oifname { "lo", "${mode.via}" } return`,
      // Neighbour discovery, MLD and router solicitations never leave the link.
      'meta nfproto ipv6 ip6 daddr { fe80::/10, ff00::/8 } return',
      `counter name ${EXCLUDE_KILL_COUNTER} drop`,
    ],
  };
}

/** The mode in words, as status, explain and the CLI say it. */
export function describeMode(mode: PolicyMode): string {
  if (mode.kind === 'include') return 'include mode: only the apps given a choice are routed';
  return `exclude mode: via ${mode.via}, kill switch ${mode.killSwitch ? 'on' : 'off'}; every app without a choice of its own goes through ${mode.via}`;
}

/** What explain needs of the kernel: its answer for a packet with this mark (mark 0: unmanaged). */
export type RouteGet = (
  address: string,
  mark: number,
  protocol: 'tcp' | 'udp',
  port: number,
) => Promise<{
  ok: boolean;
  dev: string | null;
  src: string | null;
  gateway: string | null;
  error: string | null;
}>;

/** Where a flow of a process in no app goes: exclude mode's egress, or the system routing. */
export async function explainUnmanaged(
  mode: PolicyMode,
  paused: boolean,
  interfaces: readonly { name: string; usable: boolean }[],
  destination: { host: string; address: string; port: number; protocol: 'tcp' | 'udp' },
  routeGet: RouteGet,
) {
  const steps = [
    'A process in no app has no mark on its sockets.',
    `The helper is in ${describeMode(mode)}.`,
  ];
  const usable = mode.kind === 'exclude' && interfaces.some((i) => i.name === mode.via && i.usable);
  if (mode.kind === 'exclude') steps.push(`${mode.via} is ${usable ? 'usable' : 'not usable'}.`);
  if (paused) steps.push('Policies are paused: routing stays, the kill switch is lifted.');
  const k = await routeGet(destination.address, 0, destination.protocol, destination.port);
  steps.push(
    k.ok
      ? `The kernel routes it out of ${k.dev}${k.gateway ? ` via ${k.gateway}` : ''} from ${k.src ?? 'an automatic source'}.`
      : `The kernel refuses it: ${k.error}.`,
  );
  const base = { destination, sourceAddress: k.ok ? (k.src ?? null) : null, steps };
  if (mode.kind === 'include')
    return {
      ...base,
      verdict: 'default' as const,
      egress: k.ok ? (k.dev ?? null) : null,
      reason: `Include mode: a process in no app follows the system's routing${k.ok ? ` (${k.dev})` : ''}.`,
    };
  if (!k.ok)
    return {
      ...base,
      verdict: 'block' as const,
      egress: null,
      reason: usable
        ? `Exclude mode via ${mode.via}: the kernel has no route for it (${k.error}).`
        : `Exclude mode via ${mode.via}: ${mode.via} is down, so the global kill switch holds every process in no app.`,
    };
  if (k.dev !== mode.via)
    steps.push(
      usable
        ? `The kernel does not match the decision yet (${k.dev} instead of ${mode.via}); the helper may still be applying it.`
        : `${mode.via} is down and the kill switch is ${mode.killSwitch ? 'lifted' : 'off'}, so the system routing is used.`,
    );
  return {
    ...base,
    verdict: k.dev === mode.via ? ('egress' as const) : ('default' as const),
    egress: k.dev ?? null,
    reason:
      k.dev === mode.via
        ? `Exclude mode via ${mode.via}: a process in no app goes through ${mode.via}; with ${mode.via} down it ${mode.killSwitch ? 'is held by the global kill switch' : "follows the system's routing (the kill switch is off)"}.`
        : `Exclude mode via ${mode.via}: ${usable ? `${mode.via} is not used yet` : `${mode.via} is down`}, so a process in no app follows the system's routing (${k.dev}).`,
  };
}
