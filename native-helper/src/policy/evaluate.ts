// Where an app's traffic goes, decided from its choice, the interfaces and the global switches; and
// explain(), which also asks the kernel what it would really do with such a packet.
import { isIP } from 'node:net';
import type { KernelRoute } from '../mechanism/netlink/route-get.ts';
import { describeChoice } from '../api/describe.ts';
import type { EgressChoice, EgressState, Explanation, Interface, PolicyMode } from '../api/schema.ts';
import { type AppRules, explainRule } from './explain-rules.ts';
import { excludedStep, type ExplainInterface, lanDestination, lanReason, lanStep } from './explain-modes.ts';
import { hex, markFor, type Layout } from '../layout/kernel-layout.ts';
import { heldReason, isHeld, killSwitchHolds, notHeldReason, ownKillSwitch } from './kill-switch.ts';

export interface GlobalSwitches {
  paused: boolean;
  /** Send every non-blocked app through this egress (with the app's own kill switch, if any). */
  override: string | null;
  /** Exclude mode sends the apps left on default through its egress (exclude-mode.ts); absent: include. */
  mode?: PolicyMode | undefined;
}

export interface Evaluation {
  state: EgressState;
  active: string | null;
}

type Usability = Pick<Interface, 'name' | 'usable'>;

/**
 * The choice actually in force. The override replaces the list of every app except blocked ones;
 * an app's own kill switch still applies to it, a default app gets no kill switch. Without an
 * override, exclude mode sends an app left on default through its egress, with the mode's kill switch:
 * only the apps given a choice of their own are excluded.
 */
export function effectiveChoice(
  choice: EgressChoice,
  override: string | null,
  mode?: PolicyMode,
): EgressChoice {
  if (!override && mode?.kind === 'exclude' && choice.mode === 'default')
    return { mode: 'ordered', egresses: [mode.via], killSwitch: mode.killSwitch };
  if (!override || choice.mode === 'block') return choice;
  return {
    mode: 'ordered',
    egresses: [override],
    killSwitch: ownKillSwitch(choice),
  };
}

export function firstUsable(egresses: readonly string[], interfaces: readonly Usability[]): number {
  return egresses.findIndex((e) => interfaces.some((i) => i.name === e && i.usable));
}

/**
 * Paused keeps each app's routing (moving live flows to another interface would break them) but lifts
 * block and kill switch: pausing only ever lets more traffic through.
 */
export function evaluate(
  choice: EgressChoice,
  interfaces: readonly Usability[],
  sw: GlobalSwitches,
): Evaluation {
  const eff = effectiveChoice(choice, sw.override, sw.mode);
  if (eff.mode === 'block')
    return sw.paused ? { state: 'paused', active: null } : { state: 'blocked', active: null };
  if (eff.mode === 'default')
    return sw.paused ? { state: 'paused', active: null } : { state: 'default', active: null };
  const i = firstUsable(eff.egresses, interfaces);
  const active = i >= 0 ? eff.egresses[i]! : null;
  if (sw.paused) return { state: 'paused', active };
  if (i === 0) return { state: 'routed', active };
  if (i > 0) return { state: 'failed-over', active };
  return { state: killSwitchHolds(eff, interfaces, sw.paused) ? 'killed' : 'fallback-default', active: null };
}

// ---------- explain ----------

export interface Destination {
  host: string;
  address: string;
  port: number;
  protocol: 'tcp' | 'udp';
}

/** Parses "HOST:PORT" or "[IPv6]:PORT" and resolves the host to one address with resolve(). */
export async function resolveDestination(
  spec: string,
  protocol: 'tcp' | 'udp',
  resolve: (host: string) => Promise<string>,
): Promise<Destination> {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(spec) ?? /^([^:[\]]+):(\d+)$/.exec(spec);
  if (!m) throw new Error(`destination "${spec}" is not HOST:PORT or [IPv6]:PORT.`);
  const host = m[1]!;
  const port = Number(m[2]);
  if (port < 1 || port > 65535) throw new Error(`port ${port} is out of range 1..65535.`);
  const address = isIP(host) ? host : await resolve(host);
  return { host, address, port, protocol };
}

export interface ExplainApp {
  id: string;
  name: string;
  tag: number;
  choice: EgressChoice;
  /** May reach its local networks even while held (lan-access.ts). */
  lanAccess?: boolean;
}

export interface ExplainContext extends GlobalSwitches {
  layout: Layout;
  /** What the kernel would do with such a packet (mechanism/netlink/route-get.ts, in the right netns). */
  routeGet: (address: string, mark: number, protocol: 'tcp' | 'udp', port: number) => Promise<KernelRoute>;
  /** The app's encryption rules in force, if any apply to it. */
  rules?: AppRules | null;
}

export async function explain(
  app: ExplainApp,
  destination: Destination,
  interfaces: readonly ExplainInterface[],
  ctx: ExplainContext,
): Promise<Explanation> {
  const mark = markFor(ctx.layout, app.tag);
  const steps: string[] = [`${app.name} has tag ${app.tag}, so its sockets carry mark ${hex(mark)}.`];
  steps.push(`Its choice: ${describeChoice(app.choice)}.`);
  if (ctx.override && app.choice.mode !== 'block')
    steps.push(`The global override sends it through ${ctx.override}.`);
  if (ctx.paused) steps.push('Policies are paused: routing stays, block and kill switch are lifted.');
  const excluded = excludedStep(ctx.mode, app.name, app.choice);
  if (excluded) steps.push(excluded);
  const eff = effectiveChoice(app.choice, ctx.override, ctx.mode);
  if (eff.mode === 'ordered')
    for (const e of eff.egresses)
      steps.push(`${e} is ${interfaces.some((i) => i.name === e && i.usable) ? 'usable' : 'not usable'}.`);
  const ev = evaluate(app.choice, interfaces, ctx);
  steps.push(`The helper's decision: ${ev.state}${ev.active ? ` via ${ev.active}` : ''}.`);
  const byRule = await explainRule(app.name, destination, ctx.rules ?? null, ctx);
  if (byRule) steps.push(...byRule.steps);
  if (byRule?.answer) return { app: app.id, destination, steps, ...byRule.answer };
  const rule = byRule?.rule ? { rule: byRule.rule } : {};

  const k = await ctx.routeGet(destination.address, mark, destination.protocol, destination.port);
  steps.push(
    k.ok
      ? `The kernel routes it out of ${k.dev}${k.gateway ? ` via ${k.gateway}` : ''} from ${k.src ?? 'an automatic source'} (table ${k.table}).`
      : `The kernel refuses it: ${k.error}.`,
  );

  const base = { app: app.id, destination, sourceAddress: k.ok ? k.src : null, steps, ...rule };
  // LAN access: the app's LAN table comes before its lookups and its kill switch.
  const lan =
    app.lanAccess && eff.mode === 'ordered' ? lanDestination(interfaces, destination.address) : null;
  if (lan && k.ok && k.dev) {
    steps.splice(steps.length - 1, 0, lanStep(app.name, destination.address, lan));
    if (k.dev !== lan.uplink)
      steps.push(
        `The kernel does not match the decision yet (${k.dev} instead of ${lan.uplink}); the helper may still be applying it.`,
      );
    const reason = lanReason(app.name, destination.host, lan, k.dev, isHeld(ev));
    return { ...base, verdict: 'egress', egress: k.dev, reason };
  }
  if (!k.ok) {
    const why =
      ev.state === 'blocked'
        ? `${app.name} is blocked.`
        : isHeld(ev)
          ? heldReason(app.name)
          : `the kernel has no route for it (${k.error}).`;
    return { ...base, verdict: 'block', egress: null, reason: capitalize(why) };
  }
  if (ev.state === 'blocked' || isHeld(ev)) {
    // The kernel would route it (the helper has not applied yet); the decision still stands.
    steps.push('The kernel does not match the decision yet; the helper may still be applying it.');
    const why = ev.state === 'blocked' ? `${app.name} is blocked.` : heldReason(app.name);
    return { ...base, verdict: 'block', egress: null, reason: why };
  }
  if (
    (ev.state === 'routed' || ev.state === 'failed-over' || (ev.state === 'paused' && ev.active)) &&
    k.dev
  ) {
    const mismatch = ev.active && k.dev !== ev.active;
    if (mismatch)
      steps.push(
        `The kernel does not match the decision yet (${k.dev} instead of ${ev.active}); the helper may still be applying it.`,
      );
    const reason =
      ev.state === 'failed-over'
        ? `${app.name} fails over to ${k.dev} because its earlier choices are not usable.`
        : `${app.name} is routed through ${k.dev}${ev.state === 'paused' ? ' (policies are paused)' : ''}.`;
    return { ...base, verdict: 'egress', egress: k.dev, reason };
  }
  const reason =
    ev.state === 'fallback-default'
      ? notHeldReason(app.name, k.dev)
      : `${app.name} uses the system routing, which sends this destination out of ${k.dev}.`;
  // In exclude mode "default" would read as "through the exclude egress": say it is not.
  const keeps =
    ctx.mode?.kind === 'exclude' && app.choice.mode !== 'default'
      ? ` It is excluded from exclude mode (via ${ctx.mode.via}).`
      : '';
  return { ...base, verdict: 'default', egress: k.dev, reason: reason + keeps };
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
