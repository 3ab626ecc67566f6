// The kill switch: an app with the kill switch on whose egresses are all gone is held instead of falling
// back to the system routing. Its marked packets pass its lookups (an unusable egress's table is empty)
// and hit an `unreachable` rule at priorities.kill (layout/kernel-layout.ts), so they never reach the
// main table; the nft output chain drops any that still leave by an interface not on its list. Both are
// in the kernel whenever the switch is armed, not only while it holds, so the kernel holds the app the
// moment an egress goes, before the helper hears of it. Pausing disarms every kill switch.
// This file decides when an app is held, what that adds to the desired state, and how it is told.
import type { EgressChoice, EgressState, EventData, Interface } from '../api/schema.ts';
import type { MapSpec, SetSpec } from '../mechanism/nft/spec.ts';
import type { Family, RuleSpec } from '../reconcile/types.ts';
import { hex, MARK_MASK, type Layout } from '../layout/kernel-layout.ts';

const FAMILIES: Family[] = [4, 6];

type Usability = Pick<Interface, 'name' | 'usable'>;

/** The app's own kill switch. It keeps it under the global override; a default or blocked app has none. */
export function ownKillSwitch(choice: EgressChoice): boolean {
  return choice.mode === 'ordered' && choice.killSwitch;
}

/** Armed: its rules are in the kernel, ready to hold the app the moment none of its egresses is usable. */
export function killSwitchArmed(effective: EgressChoice, paused: boolean): boolean {
  return ownKillSwitch(effective) && !paused;
}

/** Held: armed, and none of the egresses of the choice in force is usable. */
export function killSwitchHolds(
  effective: EgressChoice,
  interfaces: readonly Usability[],
  paused: boolean,
): boolean {
  if (effective.mode !== 'ordered' || !killSwitchArmed(effective, paused)) return false;
  return !effective.egresses.some((e) => interfaces.some((i) => i.name === e && i.usable));
}

/** The evaluation of an app says its kill switch holds it. */
export function isHeld(evaluation: { state: EgressState }): boolean {
  return evaluation.state === 'killed';
}

// ---------- what it adds to the desired state ----------

/** The nft guard of one armed app: its mark and the interfaces its packets may still leave by. */
export interface KillGuard {
  mark: number;
  allowed: string[];
  /** The app may also reach its local networks by the uplinks (policy/lan-access.ts guards it). */
  lan?: boolean;
}

/** The counter kind of packets an app's kill switch dropped in nft: counter `kill_<tag>`. */
export const KILL_COUNTER = 'kill';

/**
 * What an armed kill switch adds for the app with this mark: an `unreachable` rule at priorities.kill in
 * both families, behind its lookups, and its nft guard (loopback and its own egresses only). Null when
 * the switch is not armed.
 */
export function killSwitchState(
  effective: EgressChoice,
  paused: boolean,
  mark: number,
  layout: Layout,
  lanAccess = false,
): { rules: RuleSpec[]; guard: KillGuard } | null {
  if (effective.mode !== 'ordered' || !killSwitchArmed(effective, paused)) return null;
  const rules = FAMILIES.map((family): RuleSpec => ({
    family,
    priority: layout.priorities.kill,
    fwmark: mark,
    mask: MARK_MASK,
    action: 'unreachable',
  }));
  const guard = { mark, allowed: ['lo', ...effective.egresses] };
  return { rules, guard: lanAccess ? { ...guard, lan: true } : guard };
}

/**
 * The second line of defence in the nft table: an output rule dropping (and counting per app) a packet
 * of an armed app that leaves by an interface not allowed to it, the sets it matches, and the map from
 * mark to that app's KILL_COUNTER counter (`counters`: [mark, counter name] in nft syntax).
 */
export function killSwitchNft(
  guards: readonly KillGuard[],
  counters: [string, string][],
): { output: string[]; sets: SetSpec[]; counterMap: MapSpec } {
  return {
    // Apps with LAN access have their own guard rules (lan-access.ts lanGuardRules).
    output: guards.some((k) => !k.lan)
      ? [
          'meta mark @kill_marks meta mark . oifname != @kill_allowed counter name meta mark map @kill_counters drop',
        ]
      : [],
    sets: [
      { name: 'kill_marks', type: 'mark', elements: guards.filter((k) => !k.lan).map((k) => hex(k.mark)) },
      {
        name: 'kill_allowed',
        type: 'mark . ifname',
        elements: guards.flatMap((k) => k.allowed.map((e) => `${hex(k.mark)} . "${e}"`)),
      },
    ],
    counterMap: { name: 'kill_counters', type: 'mark : counter', elements: counters },
  };
}

// ---------- how it is told ----------

// A choice with its kill switch in words is api/describe.ts's describeChoice.

/** Why explain blocks a held app. */
export function heldReason(appName: string): string {
  return `None of ${appName}'s egresses is usable and its kill switch drops the traffic.`;
}

/** Why explain lets an app with its egresses gone and no kill switch use the system routing. */
export function notHeldReason(appName: string, dev: string | null): string {
  return `None of ${appName}'s egresses is usable and its kill switch is off, so it uses the system routing (${dev}).`;
}

/**
 * The `egress.killed` event when the app's kill switch has just taken hold (it was not held before),
 * naming the app's own list of egresses; otherwise null.
 */
export function killSwitchTookHold(
  app: { id: string; choice: EgressChoice },
  was: { state: EgressState } | undefined,
  now: { state: EgressState },
): EventData<'egress.killed'> | null {
  if (!isHeld(now) || (was && isHeld(was)) || app.choice.mode !== 'ordered') return null;
  return { app: app.id, egresses: app.choice.egresses };
}
