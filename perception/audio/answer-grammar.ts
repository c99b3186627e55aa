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

/** Words people put around a short answer ("I think four", "four, I guess"). Each must be in the dictionary. */
const LEADS = ['i think', "i'd say", 'i would say', 'i guess', 'maybe', 'probably', 'um', 'uh', 'well', "it's", 'about', 'i feel', "i'm", 'i am', 'definitely', 'i said'];
const TAILS = ['i think', 'i guess', 'please', 'probably', 'i suppose'];

/** A grammar ready for a decoder: its search name, JSGF text, and the phrases it holds. */
export interface AnswerGrammar {
  /** Stable for the same phrases, so a decoder keeps one search per distinct question. */
  name: string;
  jsgf: string;
  phrases: string[];
}

/**
 * A JSGF grammar accepting exactly one of `phrases` (normalised by `grammarWords`), optionally with a
 * lead ("I think") or a tail ("please"). `known` drops phrases with a word the dictionary lacks
 * (pocketsphinx refuses the whole grammar otherwise); returns null when no phrase is left.
 */
export function answerGrammar(phrases: readonly string[], known: (word: string) => boolean = () => true): AnswerGrammar | null {
  const ok = (p: string) => p !== '' && p.split(' ').every(known);
  const kept = [...new Set(phrases.map(grammarWords))].filter(ok).sort();
  if (kept.length === 0) return null;
  const leads = LEADS.map(grammarWords).filter(ok);
  const tails = TAILS.map(grammarWords).filter(ok);
  const name = `answers_${createHash('sha1').update(kept.join('|')).digest('hex').slice(0, 12)}`;
  const alt = (xs: string[]) => xs.map((x) => x).join(' | ');
  const lines = [
    '#JSGF V1.0;',
    `grammar ${name};`,
    `public <answer> = ${leads.length ? '[ <lead> ] ' : ''}<choice>${tails.length ? ' [ <tail> ]' : ''};`,
    `<choice> = ${alt(kept)};`,
  ];
  if (leads.length) lines.push(`<lead> = ${alt(leads)};`);
  if (tails.length) lines.push(`<tail> = ${alt(tails)};`);
  return { name, jsgf: `${lines.join('\n')}\n`, phrases: kept };
}

/** Every word a grammar over `phrases` could use, for a dictionary check first. */
export function grammarVocabulary(phrases: readonly string[]): string[] {
  const words = new Set<string>();
  for (const p of [...phrases, ...LEADS, ...TAILS]) for (const w of grammarWords(p).split(' ')) if (w) words.add(w);
  return [...words];
}

/** The answer phrase inside a grammar hypothesis ("i think four" → "four"), or the hypothesis when none matches. */
export function answerPhrase(hyp: string, grammar: AnswerGrammar): string {
  const h = ` ${hyp} `;
  let best = '';
  for (const p of grammar.phrases) if (h.includes(` ${p} `) && p.length > best.length) best = p;
  return best || hyp;
}
