/**
 * Negation over the normal form. Contractions are already expanded there ("didn't" → "did not"),
 * so one list of negators covers every spelling.
 */

/** Words that negate what follows them ("not happy", "never alone", "nobody listens"). */
export const NEGATORS: ReadonlySet<string> = new Set(['not', 'never', 'no', 'nobody', 'nothing', 'neither', 'nor', 'hardly']);

/**
 * True when a negator is among the `window` words before character `index` of a normalised text
 * (`normalise(...)`, or the same padded with spaces). `negators` widens or narrows the list.
 */
export function negatedAt(norm: string, index: number, window = 4, negators: ReadonlySet<string> = NEGATORS): boolean {
  const before = norm.slice(0, index).trim().split(' ').slice(-window);
  return before.some((w) => negators.has(w));
}
