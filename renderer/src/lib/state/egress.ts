// Editing an app's egress choice: pure functions, so the rules are tested without any UI.
import type { EgressChoice, EgressState } from '#switchyard/api/schema.ts';

export const MAX_EGRESSES = 8;

export const MANAGED_REASON = 'Pinned by the managed policy; ask your administrator to change it.';

/** The value the row's egress combobox shows: 'default', 'block' or 'egress:<first in the list>'. */
export function selectValueFor(choice: EgressChoice): string {
  if (choice.mode === 'ordered') return `egress:${choice.egresses[0] ?? ''}`;
  return choice.mode;
}

/**
 * What picking a combobox value means. Picking an egress puts it first and keeps the rest of an
 * existing list (and its kill switch) behind it as fallbacks.
 */
export function choiceFromSelect(value: string, current: EgressChoice): EgressChoice {
  if (value === 'default') return { mode: 'default' };
  if (value === 'block') return { mode: 'block' };
  if (!value.startsWith('egress:')) throw new Error(`unknown egress option ${value}`);
  const name = value.slice('egress:'.length);
  if (current.mode !== 'ordered') return { mode: 'ordered', egresses: [name], killSwitch: false };
  const rest = current.egresses.filter((e) => e !== name);
  return {
    mode: 'ordered',
    egresses: [name, ...rest].slice(0, MAX_EGRESSES),
    killSwitch: current.killSwitch,
  };
}

/** Move one item of a list from one position to another (drag and drop, or the up/down buttons). */
export function moveItem<T>(list: readonly T[], from: number, to: number): T[] {
  if (from < 0 || from >= list.length) return [...list];
  const clamped = Math.max(0, Math.min(list.length - 1, to));
  const next = [...list];
  const [item] = next.splice(from, 1);
  next.splice(clamped, 0, item as T);
  return next;
}

export function reorder(choice: EgressChoice, from: number, to: number): EgressChoice {
  if (choice.mode !== 'ordered') return choice;
  return { ...choice, egresses: moveItem(choice.egresses, from, to) };
}

export function addFallback(choice: EgressChoice, name: string): EgressChoice {
  if (choice.mode !== 'ordered') return { mode: 'ordered', egresses: [name], killSwitch: false };
  if (choice.egresses.includes(name) || choice.egresses.length >= MAX_EGRESSES) return choice;
  return { ...choice, egresses: [...choice.egresses, name] };
}

/** Remove an egress; removing the last one leaves the app on system routing. */
export function removeEgress(choice: EgressChoice, name: string): EgressChoice {
  if (choice.mode !== 'ordered') return choice;
  const egresses = choice.egresses.filter((e) => e !== name);
  return egresses.length ? { ...choice, egresses } : { mode: 'default' };
}

export function withKillSwitch(choice: EgressChoice, on: boolean): EgressChoice {
  if (choice.mode !== 'ordered') return choice;
  return { ...choice, killSwitch: on };
}

export function sameChoice(a: EgressChoice, b: EgressChoice): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

export interface StateBadge {
  label: string;
  tone: 'ok' | 'warn' | 'bad' | 'neutral' | 'muted';
  description: string;
}

/**
 * The row's badge from what the helper reports. Under an override the helper routes the app through the
 * override's egress (state 'routed'), so the badge says "Override", not the app's own choice.
 */
export function badgeFor(
  state: EgressState,
  active: string | null,
  override: string | null = null,
): StateBadge {
  if (override && state === 'routed' && active === override)
    return {
      label: 'Override',
      tone: 'warn',
      description: `The override sends every app through ${override}; its own choice applies again when the override ends.`,
    };
  if (override && (state === 'fallback-default' || state === 'killed'))
    return {
      ...badgeFor(state, active),
      description: `The override sends every app through ${override}, which is not up.${state === 'killed' ? ' Its kill switch holds its traffic.' : ' It uses system routing.'}`,
    };
  switch (state) {
    case 'routed':
      return {
        label: 'Routed',
        tone: 'ok',
        description: `Traffic leaves through ${active ?? 'its first choice'}.`,
      };
    case 'failed-over':
      return {
        label: 'Failed over',
        tone: 'warn',
        description: `Its first choice is down; traffic uses ${active ?? 'a fallback'}.`,
      };
    case 'fallback-default':
      return {
        label: 'System route',
        tone: 'warn',
        description: 'None of its egresses is up, so it uses system routing.',
      };
    case 'killed':
      return {
        label: 'Blocked (kill switch)',
        tone: 'bad',
        description:
          'None of its egresses is up, so its kill switch blocks its traffic. Its processes keep running.',
      };
    case 'blocked':
      return { label: 'Blocked', tone: 'bad', description: 'Everything this app sends is dropped.' };
    case 'paused':
      return {
        label: 'Paused',
        tone: 'muted',
        description: 'All policies are paused; the app uses system routing.',
      };
    case 'default':
      return { label: 'Default', tone: 'neutral', description: 'The app uses system routing.' };
  }
}
