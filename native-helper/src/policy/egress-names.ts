// An egress choice names interfaces the helper can see, spelt as the kernel spells them. A name it
// cannot see is refused (the app would silently use the system default) unless the caller says the
// interface comes later: a tether, a dock.
import { ApiError } from '../api/schema.ts';
import type { EgressChoice } from '../api/model.ts';
import { didYouMean, matchIgnoringCase } from '../api/edit-distance.ts';

/** What the refusal carries for clients, which word the hint their own way (the CLI's --allow-absent). */
export interface AbsentEgressDetails {
  absent: string[];
  known: string[];
}

export const ALLOW_ABSENT_HINT = 'If it comes later (a tether, a dock), allow absent interfaces.';

/**
 * The choice with each egress spelt as the helper knows it (WLAN0 → wlan0). Absent names stay as
 * given when allowAbsent, else an ApiError names them, what exists and the nearest name.
 */
export function checkEgressNames(
  choice: EgressChoice,
  known: readonly string[],
  allowAbsent: boolean,
): EgressChoice {
  if (choice.mode !== 'ordered') return choice;
  const egresses = choice.egresses.map((e) => matchIgnoringCase(e, known) ?? e);
  const absent = egresses.filter((e) => !known.includes(e));
  if (absent.length && !allowAbsent) {
    const first = absent[0]!;
    const which =
      absent.length === 1
        ? `no interface '${first}'`
        : `no interfaces ${absent.map((a) => `'${a}'`).join(', ')}`;
    const sees = known.length ? `the helper sees ${known.join(', ')}` : 'the helper sees no interfaces';
    const details: AbsentEgressDetails = { absent, known: [...known] };
    throw new ApiError(
      'NOT_FOUND',
      `${which} here (${sees}).${didYouMean(first, known)} ${ALLOW_ABSENT_HINT}`,
      details,
    );
  }
  return { ...choice, egresses };
}
