// An egress choice in words, the same everywhere people read it: the helper's policy.changed
// summaries, explain's steps, the CLI and the UI's demo. A phrase; callers frame the sentence.
import type { EgressChoice } from './model.ts';

/** 'default', 'block', or the egresses in order, e.g. 'wlan0 → enp3s0 with kill switch'. */
export function describeChoice(choice: EgressChoice): string {
  if (choice.mode === 'ordered')
    return `${choice.egresses.join(' → ')}${choice.killSwitch ? ' with kill switch' : ''}`;
  return choice.mode;
}
