/**
 * A small n-gram language model in ARPA format, built from sentences: what `SphinxDecoder`'s
 * `adaptedLm` interpolates with pocketsphinx's general en-us model. Debian packages no n-gram toolkit
 * (no SRILM, KenLM or cmuclmtk), so this is the one piece written here.
 *
 * Smoothing: interpolated Witten–Bell (Witten & Bell 1991; as in SRILM's `-wbdiscount -interpolate`),
 * written as a back-off model: for a history h seen c(h) times followed by T(h) distinct words,
 * P(w | h) = (c(h, w) + T(h)·P(w | h′)) / (c(h) + T(h)) for a word seen after h, and
 * bow(h)·P(w | h′) with bow(h) = T(h) / (c(h) + T(h)) otherwise, h′ being h without its first word.
 * Unigrams are relative frequencies (the general model covers every other word). Sentences are wrapped in <s> … </s>; a word the
 * recogniser's dictionary does not know (`known`) ends the stretch of words it is in, so no n-gram
 * spans it.
 */

/** Lower-case words of a sentence as the dictionary spells them (apostrophes kept: "don't"). */
export function lmWords(sentence: string): string[] {
  return sentence.toLowerCase().replace(/[‘’]/g, "'").replace(/[^a-z' ]+/g, ' ').split(/\s+/).map((w) => w.replace(/^'+|'+$/g, '')).filter(Boolean);
}

export interface ArpaOptions {
  /** Highest order; default 3. */
  order?: number;
  /** Whether the recogniser can say a word (e.g. in its dictionary); default every word. */
  known?: (word: string) => boolean;
}

/** A model built from `sentences`; `arpa` is the text to write to a file pocketsphinx reads. */
export function buildArpa(sentences: Iterable<string>, o: ArpaOptions = {}): { arpa: string; counts: number[]; vocabulary: number } {
  const order = o.order ?? 3;
  if (!Number.isInteger(order) || order < 1) throw new RangeError(`buildArpa: order must be an integer >= 1, got ${order}`);
  const known = o.known ?? (() => true);
  // counts[n - 1]: n-gram (words joined by spaces) → count.
  const counts: Map<string, number>[] = Array.from({ length: order }, () => new Map());
  for (const sentence of sentences) {
    const words = lmWords(sentence);
    // Stretches of known words; the first starts the sentence, the last ends it.
    const stretches: string[][] = [[]];
    for (const w of words) {
      if (known(w)) stretches.at(-1)!.push(w);
      else if (stretches.at(-1)!.length) stretches.push([]);
    }
    stretches.forEach((stretch, i) => {
      if (!stretch.length && stretches.length > 1) return;
      const seq = [...(i === 0 ? ['<s>'] : []), ...stretch, ...(i === stretches.length - 1 ? ['</s>'] : [])];
      for (let n = 1; n <= order; n++) {
        for (let j = 0; j + n <= seq.length; j++) {
          const gram = seq.slice(j, j + n);
          // <s> is a history only, never predicted.
          if (gram[n - 1] === '<s>') continue;
          const key = gram.join(' ');
          counts[n - 1]!.set(key, (counts[n - 1]!.get(key) ?? 0) + 1);
        }
      }
    });
  }
  const vocabulary = [...counts[0]!.keys()];
  const V = vocabulary.length + 1; // + <s>
  // Per history of each order: total count and distinct followers.
  const histories: Map<string, { c: number; t: number }>[] = Array.from({ length: order }, () => new Map());
  for (let n = 2; n <= order; n++) {
    for (const [key, c] of counts[n - 1]!) {
      const h = key.slice(0, key.lastIndexOf(' '));
      const e = histories[n - 1]!.get(h) ?? { c: 0, t: 0 };
      e.c += c;
      e.t += 1;
      histories[n - 1]!.set(h, e);
    }
  }
  const total = [...counts[0]!.values()].reduce((a, b) => a + b, 0);
  // Probabilities, order by order (interpolated: each uses the one below). Every word of the
  // vocabulary was seen, so unigrams are relative frequencies; what this model never saw is left to
  // the general model it is interpolated with.
  const prob: Map<string, number>[] = Array.from({ length: order }, () => new Map());
  for (const [w, c] of counts[0]!) prob[0]!.set(w, c / total);
  const lower = (n: number, gram: string): number => {
    // P(w | h') for the n-gram `gram` of order n: its suffix of order n - 1, backing off as needed.
    if (n === 1) return prob[0]!.get(gram) ?? 1 / V;
    const seen = prob[n - 1]!.get(gram);
    if (seen !== undefined) return seen;
    const h = gram.slice(0, gram.lastIndexOf(' '));
    const hs = histories[n - 1]!.get(h);
    const rest = gram.slice(gram.indexOf(' ') + 1);
    return (hs ? hs.t / (hs.c + hs.t) : 1) * lower(n - 1, rest);
  };
  for (let n = 2; n <= order; n++) {
    for (const [key, c] of counts[n - 1]!) {
      const h = key.slice(0, key.lastIndexOf(' '));
      const hs = histories[n - 1]!.get(h)!;
      const suffix = key.slice(key.indexOf(' ') + 1);
      prob[n - 1]!.set(key, (c + hs.t * lower(n - 1, suffix)) / (hs.c + hs.t));
    }
  }
  const log10 = (p: number) => (p > 0 ? Math.log10(p).toFixed(6) : '-99');
  const bow = (n: number, gram: string): string | null => {
    // The back-off weight of `gram` as a history of order n + 1.
    if (n >= order) return null;
    const hs = histories[n]!.get(gram);
    return hs ? log10(hs.t / (hs.c + hs.t)) : null;
  };
  const lines: string[] = ['\\data\\'];
  const sizes = [counts[0]!.size + 1, ...counts.slice(1).map((m) => m.size)];
  sizes.forEach((k, i) => lines.push(`ngram ${i + 1}=${k}`));
  lines.push('');
  for (let n = 1; n <= order; n++) {
    lines.push(`\\${n}-grams:`);
    if (n === 1) {
      const b = bow(1, '<s>');
      lines.push(`-99\t<s>${b !== null ? `\t${b}` : ''}`);
    }
    for (const key of [...prob[n - 1]!.keys()].sort()) {
      const b = bow(n, key);
      lines.push(`${log10(prob[n - 1]!.get(key)!)}\t${key}${b !== null ? `\t${b}` : ''}`);
    }
    lines.push('');
  }
  lines.push('\\end\\', '');
  return { arpa: lines.join('\n'), counts: sizes, vocabulary: V };
}
