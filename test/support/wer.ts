/** Word error rate: word-level edit distance (substitutions, deletions, insertions) over the reference's length. */
export function wordErrorRate(reference: string, hypothesis: string): { wer: number; errors: number; words: number } {
  const norm = (s: string) => s.toLowerCase().replace(/[^a-z' ]+/g, ' ').split(/\s+/).filter(Boolean);
  const r = norm(reference);
  const h = norm(hypothesis);
  let prev = Array.from({ length: h.length + 1 }, (_, j) => j);
  for (let i = 1; i <= r.length; i++) {
    const row = [i];
    for (let j = 1; j <= h.length; j++) row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (r[i - 1] === h[j - 1] ? 0 : 1));
    prev = row;
  }
  const errors = prev[h.length]!;
  return { wer: r.length ? errors / r.length : h.length ? 1 : 0, errors, words: r.length };
}
