// A JSGF grammar of the answers a question accepts, for constrained recognition of survey answers.
import { createHash } from 'node:crypto';

const ONES = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten', 'eleven', 'twelve',
  'thirteen', 'fourteen', 'fifteen', 'sixteen', 'seventeen', 'eighteen', 'nineteen'];
const TENS = ['', '', 'twenty', 'thirty', 'forty', 'fifty', 'sixty', 'seventy', 'eighty', 'ninety'];

/** A whole number 0..999 in words, as a recogniser's dictionary spells it ("twenty one"). */
export function numberWords(n: number): string {
  if (!Number.isInteger(n) || n < 0 || n > 999) return String(n);
  if (n < 20) return ONES[n]!;
  if (n < 100) return `${TENS[Math.floor(n / 10)]}${n % 10 ? ` ${ONES[n % 10]}` : ''}`;
  return `${ONES[Math.floor(n / 100)]} hundred${n % 100 ? ` ${numberWords(n % 100)}` : ''}`;
}

/** Lowercase words a recogniser's dictionary can hold: digits spelled out, punctuation other than apostrophes dropped. */
export function grammarWords(phrase: string): string {
  return phrase.toLowerCase()
    .replace(/[’‘]/g, "'")
    .replace(/\d+/g, (d) => ` ${numberWords(Number(d))} `)
    .replace(/[^a-z' ]+/g, ' ')
    .replace(/(^| )'+|'+( |$)/g, ' ')
    .trim()
    .replace(/\s+/g, ' ');
}

/** A grammar ready for a decoder: its search name, JSGF text, and the phrases it holds. */
export interface AnswerGrammar {
  /** Stable for the same phrases, so a decoder keeps one search per distinct question. */
  name: string;
  jsgf: string;
  phrases: string[];
}

/**
 * A JSGF grammar accepting exactly one of `phrases` (normalised by `grammarWords`). `known` drops
 * phrases with a word the dictionary lacks (pocketsphinx refuses the whole grammar otherwise); returns
 * null when no phrase is left. No optional lead or tail words ("I think …", "… please"): measured on the
 * espeak-ng answer set they cost 25 points of accuracy (short filler words soak up the answer's sounds:
 * "nine" → "i am eight"); the open pass hears "I think seven" and the session reads the number from it.
 */
export function answerGrammar(phrases: readonly string[], known: (word: string) => boolean = () => true): AnswerGrammar | null {
  const ok = (p: string) => p !== '' && p.split(' ').every(known);
  const kept = [...new Set(phrases.map(grammarWords))].filter(ok).sort();
  if (kept.length === 0) return null;
  const name = `answers_${createHash('sha1').update(kept.join('|')).digest('hex').slice(0, 12)}`;
  const lines = ['#JSGF V1.0;', `grammar ${name};`, `public <answer> = ${kept.join(' | ')};`];
  return { name, jsgf: `${lines.join('\n')}\n`, phrases: kept };
}

/** Every word a grammar over `phrases` could use, for a dictionary check first. */
export function grammarVocabulary(phrases: readonly string[]): string[] {
  const words = new Set<string>();
  for (const p of phrases) for (const w of grammarWords(p).split(' ')) if (w) words.add(w);
  return [...words];
}

/** The grammar phrase a hypothesis is, or '' (pocketsphinx's n-best also lists paths that never reached the end of the grammar). */
export function answerPhrase(hyp: string, grammar: AnswerGrammar): string {
  const h = hyp.replace(/<\/?s>|<sil>|\[[A-Z_]+\]|\(\d+\)/g, ' ').replace(/\s+/g, ' ').trim();
  return grammar.phrases.includes(h) ? h : '';
}
