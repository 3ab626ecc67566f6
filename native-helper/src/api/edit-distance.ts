// Typo suggestions: "no app 'lab-chatt'. Did you mean lab-chat?" The helper, the CLI and the UI share
// it (it imports nothing), so a misspelt app, command or interface gets the same answer everywhere.

/** Levenshtein distance, case-insensitive: inserts, deletes and substitutions each cost 1. */
export function editDistance(a: string, b: string): number {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  let prev = Array.from({ length: y.length + 1 }, (_, j) => j);
  for (let i = 1; i <= x.length; i++) {
    const row = [i];
    for (let j = 1; j <= y.length; j++) {
      const substitute = prev[j - 1]! + (x[i - 1] === y[j - 1] ? 0 : 1);
      row.push(Math.min(prev[j]! + 1, row[j - 1]! + 1, substitute));
    }
    prev = row;
  }
  return prev[y.length]!;
}

/**
 * The candidate nearest to word, or null when none is close enough to be a typo: at most a third of
 * the word's length (at least 1, at most 3) away. Ties go to the first candidate.
 */
export function nearest(word: string, candidates: readonly string[]): string | null {
  const limit = typoLimit(word);
  let best: string | null = null;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = editDistance(word, c);
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best !== null && bestDistance <= limit ? best : null;
}

/** How far a candidate may be from word and still be taken for a typo of it. */
export function typoLimit(word: string): number {
  return Math.min(3, Math.max(1, Math.floor(word.length / 3)));
}

/** " Did you mean X?" for the nearest candidate, or "" when nothing is close. */
export function didYouMean(word: string, candidates: readonly string[]): string {
  const n = nearest(word, candidates);
  return n ? ` Did you mean ${n}?` : '';
}

/** The candidate equal to word ignoring case (an exact match first), or undefined. */
export function matchIgnoringCase(word: string, candidates: readonly string[]): string | undefined {
  if (candidates.includes(word)) return word;
  const lower = word.toLowerCase();
  return candidates.find((c) => c.toLowerCase() === lower);
}
