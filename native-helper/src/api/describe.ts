// An egress choice in words, the same everywhere people read it: the helper's policy.changed
// summaries, explain's steps, the CLI and the UI's demo. A phrase; callers frame the sentence.
import type { EgressChoice } from './model.ts';

/** 'default', 'block', or the egresses in order, e.g. 'wlan0 → enp3s0 with kill switch'. */
export function describeChoice(choice: EgressChoice): string {
  if (choice.mode === 'ordered')
    return `${choice.egresses.join(' → ')}${choice.killSwitch ? ' with kill switch' : ''}`;
  return choice.mode;
}

/**
 * The summary of an egress.set for the activity log. A list reads as an order ("enp3s0, then wlan0"),
 * not as a change from one to the other as an arrow would.
 */
export function describeEgressSet(appName: string, choice: EgressChoice): string {
  if (choice.mode !== 'ordered') return `${appName}: egress set to ${choice.mode}`;
  const [first, ...rest] = choice.egresses;
  const list = rest.length ? `${first}, then ${rest.join(', then ')}` : `${first}`;
  return `${appName}: egress set${rest.length ? ':' : ' to'} ${list}${choice.killSwitch ? ' (kill switch on)' : ''}`;
}
