// Where an app's traffic goes, as the FakeHelper computes it. Mirrors the helper's rule
// (native-helper/src/policy/evaluate.ts) closely enough for the UI to show every state.
import type { App, EgressChoice } from '#switchyard/api/schema.ts';

/** Where traffic goes for a choice, given which interfaces are usable. Mirrors the helper's rule. */
export function egressFor(choice: EgressChoice, usable: ReadonlySet<string>, paused: boolean): App['egress'] {
  if (paused) return { state: 'paused', active: null };
  if (choice.mode === 'default') return { state: 'default', active: null };
  if (choice.mode === 'block') return { state: 'blocked', active: null };
  const i = choice.egresses.findIndex((e) => usable.has(e));
  if (i === 0) return { state: 'routed', active: choice.egresses[0] ?? null };
  if (i > 0) return { state: 'failed-over', active: choice.egresses[i] ?? null };
  return choice.killSwitch ? { state: 'killed', active: null } : { state: 'fallback-default', active: null };
}
