/**
 * Value transparency: which values a participant has disclosed, inferred offline from their own
 * words with the sentence that shows it, so the robot can show and delete what it inferred.
 */
import { normalise } from '../../data/index.js';
import { sentences } from './text.js';
import type { DisclosedValue, EvidenceSpan } from './types.js';

/** Version of the value lexicon and patterns. */
export const VALUES_VERSION = '1.0.0';

/** A value category Hearth can infer. */
export type ValueCategory =
  | 'family' | 'faith' | 'independence' | 'health' | 'work' | 'achievement' | 'security' | 'honesty'
  | 'generosity' | 'community' | 'tradition' | 'friendship' | 'learning' | 'nature' | 'pets';

/** Words that refer to each value category (used to infer values and to spot them being used). */
export const VALUE_TERMS: Readonly<Record<ValueCategory, readonly string[]>> = {
  family: ['family', 'families', 'kids', 'children', 'child', 'son', 'sons', 'daughter', 'daughters', 'grandchildren', 'grandchild', 'grandkids', 'grandson', 'granddaughter', 'wife', 'husband', 'mother', 'father', 'mom', 'mum', 'dad', 'parents', 'sister', 'brother', 'grandmother', 'grandfather', 'grandma', 'grandpa', 'mother', 'parent'],
  faith: ['faith', 'god', 'church', 'churchgoer', 'christian', 'jesus', 'pray', 'prayer', 'praying', 'congregation', 'religion', 'religious', 'muslim', 'allah', 'mosque', 'jewish', 'synagogue', 'temple', 'bible', 'spiritual', 'believer', 'lord'],
  independence: ['independent', 'independence', 'own way', 'on my own', 'on your own', 'burden', 'self reliant', 'myself', 'my own decisions', 'freedom'],
  health: ['health', 'healthy', 'diabetes', 'doctor', 'medication', 'medicine', 'blood pressure', 'exercise', 'fitness', 'heart', 'illness', 'diet'],
  work: ['work', 'career', 'job', 'boss', 'promotion', 'providing', 'provide', 'colleagues', 'business', 'duty'],
  achievement: ['success', 'successful', 'failing', 'failure', 'fail', 'achieve', 'achievement', 'winning', 'win', 'goals', 'ambition'],
  security: ['money', 'savings', 'safe', 'safety', 'secure', 'security', 'alarm', 'retirement', 'bills', 'debt', 'afford'],
  honesty: ['honest', 'honesty', 'truth', 'truthful', 'integrity'],
  generosity: ['generous', 'generosity', 'giving', 'charity', 'helping others', 'kindness'],
  community: ['community', 'neighbours', 'neighbors', 'neighbourhood', 'vote', 'volunteer', 'town', 'congregation'],
  tradition: ['tradition', 'traditions', 'heritage', 'raised', 'grateful', 'culture', 'customs'],
  friendship: ['friend', 'friends', 'friendship', 'best friend'],
  learning: ['learning', 'learn', 'reading', 'books', 'education', 'curious', 'curiosity'],
  nature: ['nature', 'garden', 'gardening', 'outdoors', 'hiking', 'birds', 'forest', 'lake'],
  pets: ['dog', 'dogs', 'cat', 'cats', 'pet', 'pets', 'puppy', 'kitten'],
};

/** Vulnerabilities a participant can disclose; they are leverage just as values are. */
const VULNERABILITY_TERMS: Readonly<Record<string, readonly string[]>> = {
  loneliness: ['lonely', 'loneliness', 'alone', 'isolated'],
  grief: ['losing', 'lost', 'late', 'passed', 'memory', 'funeral', 'died'],
};

const STOP = new Set('the a an my your his her of to and in on for with is are was be me you i it that this'.split(' '));

/** Regex source matching any term of a disclosed value (category terms, or the phrase's own words). */
export function valueTermsPattern(values: readonly DisclosedValue[]): RegExp | null {
  const terms = new Set<string>();
  for (const v of values) {
    const name = typeof v === 'string' ? v : v.value;
    const key = normalise(name);
    const known = (VALUE_TERMS as Record<string, readonly string[]>)[key] ?? VULNERABILITY_TERMS[key];
    if (known) known.forEach((t) => terms.add(t));
    else key.split(' ').filter((w) => w.length >= 3 && !STOP.has(w)).forEach((w) => terms.add(w));
    if (typeof v !== 'string') (v.terms ?? []).forEach((t) => terms.add(normalise(t)));
  }
  if (terms.size === 0) return null;
  const alternatives = [...terms].filter(Boolean).map((t) => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).sort((a, b) => b.length - a.length);
  return new RegExp(`\\b(${alternatives.join('|')})\\b`);
}

/** A value inferred from the participant's words, with the words that show it. */
export interface InferredValue {
  value: ValueCategory;
  /** 0..1: 0.9 for an explicit statement of importance, 0.7 for a strong habitual cue. */
  confidence: number;
  evidence: EvidenceSpan;
}

const IMPORTANCE = /\b(is|are|means|mean) (so |really |very )?(important|everything|the world|what matters|all that matters)\b|\bmatters? (most|so much|a lot|to me)\b|\bi (really |truly )?(value|care (a lot |so much )?about|believe in|live for|cherish)\b|\b(are|is) my (world|life|everything|rock|priority)\b|\bmost important (thing|part)\b|\bnothing (is )?more important\b/;

const STRONG: Partial<Record<ValueCategory, RegExp>> = {
  faith: /\bi (pray|go to (church|mosque|synagogue|temple|mass))\b|\bmy faith\b|\bgod (has|is|gives|helps)\b/,
  independence: /\b(do not|never) want to be a burden\b|\bdo (things|it) (on my own|my own way|myself)\b|\bmy independence\b/,
  health: /\b(stay|staying|keep|keeping) (healthy|fit|active)\b|\bmy (diabetes|blood pressure|heart condition)\b/,
  work: /\bproviding for my family\b|\bmy (job|work|career) is\b|\bi work (hard|long hours)\b/,
  achievement: /\bi hate (failing|losing)\b|\bi want to (succeed|be the best)\b|\bproud of (what i|my work)\b/,
  security: /\bi worry about (money|bills|savings|retirement|being safe)\b|\bsaving (up|money) for\b|\bfeel(ing)? safe\b/,
  honesty: /\bhonesty is\b|\bi (always )?tell the truth\b/,
  family: /\bmy (kids|children|grandkids|grandchildren|family) (are|is) my\b|\bfamily comes first\b/,
  pets: /\bmy (dog|cat|pet) is (my|family|everything)\b/,
  generosity: /\bi (love|like) (giving|helping people|helping others)\b/,
  community: /\bmy (community|neighbours|neighbors|church family)\b/,
};

/** Infer values from one participant turn. Statements about others' values are not inferred. */
export function inferValues(text: string): InferredValue[] {
  const found = new Map<ValueCategory, InferredValue>();
  for (const s of sentences(text)) {
    if (/\b(in the story|the narrator|the character)\b/.test(s.norm)) continue;
    for (const [value, terms] of Object.entries(VALUE_TERMS) as [ValueCategory, readonly string[]][]) {
      const mentions = terms.some((t) => new RegExp(`\\b${t}\\b`).test(s.norm));
      let confidence = 0;
      if (mentions && IMPORTANCE.test(s.norm)) confidence = 0.9;
      else if (STRONG[value]?.test(s.norm)) confidence = 0.7;
      if (confidence === 0) continue;
      const prev = found.get(value);
      if (!prev || prev.confidence < confidence) {
        found.set(value, { value, confidence, evidence: { start: s.start, end: s.end, text: s.raw, cue: confidence === 0.9 ? 'values.importance' : `values.${value}` } });
      }
    }
  }
  return [...found.values()];
}

/** What the robot says when asked what it knows about the participant's values. */
export function describeValues(values: readonly { value: string; evidence: string }[]): string {
  if (values.length === 0) {
    return "I haven't noted anything about your values. I'm an AI, and I only keep what you tell me during the study.";
  }
  const lines = values.slice(0, 5).map((v) => `${v.value}, because you said "${v.evidence}"`);
  const more = values.length > 5 ? ` and ${values.length - 5} more that study staff can show you` : '';
  return `Here is what I've noted: ${lines.join('; ')}${more}. I use this only to choose stories, never to push you toward a decision. You can ask me to delete any of it, or all of it.`;
}
