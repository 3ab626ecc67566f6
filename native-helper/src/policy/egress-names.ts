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
 * The names spelt as the helper knows them (WLAN0 → wlan0). Absent names stay as given when
 * allowAbsent, else an ApiError names them, what exists and the nearest name.
 */
export function spellEgresses(
  names: readonly string[],
  known: readonly string[],
  allowAbsent: boolean,
  /** Whether the caller may allow absent names (egress.set may; an override may not). */
  canAllow = true,
): string[] {
  const spelt = names.map((e) => matchIgnoringCase(e, known) ?? e);
  const absent = spelt.filter((e) => !known.includes(e));
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
      `${which} here (${sees}).${didYouMean(first, known)}${canAllow ? ` ${ALLOW_ABSENT_HINT}` : ''}`,
      details,
    );
  }
  return spelt;
}

/** The choice with its egresses checked and spelt by spellEgresses. */
export function checkEgressNames(
  choice: EgressChoice,
  known: readonly string[],
  allowAbsent: boolean,
): EgressChoice {
  if (choice.mode !== 'ordered') return choice;
  return { ...choice, egresses: spellEgresses(choice.egresses, known, allowAbsent) };
}
