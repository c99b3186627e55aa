import { contentWords, detectEmotions, detectThemes } from '../../data/index.js';
import { splitSentences } from '../dialogue/sentences.js';

/**
 * Offline, extractive summaries of what a participant shared: the key sentence (turned to the second
 * person, so the robot can say it back), the people, places and feelings mentioned. No model involved:
 * everything kept is the participant's own words or a label found in them.
 */

/** A short summary of one thing a participant shared. */
export interface MemoryNote {
  /** A clause in the second person, e.g. "you went to the coast with your sister". */
  summary: string;
  people: string[];
  places: string[];
  feelings: string[];
  topics: string[];
}

const RELATIONS = ['mother', 'mum', 'mom', 'father', 'dad', 'parents', 'sister', 'brother', 'son', 'daughter', 'children', 'kids', 'grandson',
  'granddaughter', 'grandchildren', 'grandmother', 'grandma', 'grandfather', 'grandpa', 'nan', 'aunt', 'uncle', 'cousin', 'niece', 'nephew',
  'husband', 'wife', 'partner', 'boyfriend', 'girlfriend', 'friend', 'best friend', 'neighbour', 'neighbor', 'boss', 'colleague', 'coworker',
  'doctor', 'nurse', 'teacher', 'dog', 'cat', 'family', 'carer', 'roommate', 'flatmate'];
const PLACE_NOUNS = ['hospital', 'park', 'church', 'mosque', 'temple', 'synagogue', 'school', 'university', 'office', 'beach', 'market',
  'supermarket', 'gym', 'library', 'garden', 'allotment', 'cafe', 'restaurant', 'pub', 'station', 'airport', 'clinic', 'village', 'farm',
  'lake', 'river', 'mountains', 'seaside', 'coast', 'home', 'work', 'cinema', 'theatre', 'pool'];
const NOT_NAMES = new Set(['I', 'I\'m', 'I\'ve', 'I\'d', 'I\'ll', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday',
  'January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December', 'Christmas',
  'Easter', 'God', 'OK', 'Okay', 'Mum', 'Mom', 'Dad', 'Hearth', 'TV', 'English']);
const FILLER = /^(?:yes|yeah|no|nope|ok|okay|fine|good|not much|nothing|i don'?t know|maybe|sure|um+|uh+|hmm+|thanks?|thank you)\b/i;

/** Summarise what a participant said; undefined when there is nothing worth keeping ("fine, thanks"). */
export function summariseShared(text: string): MemoryNote | undefined {
  const sentences = splitSentences(text.replace(/\s+/g, ' ')).filter((s) => s.length > 0);
  if (sentences.length === 0) return undefined;
  const people = findPeople(text);
  const places = findPlaces(text);
  const scored = sentences.map((s, i) => {
    const words = contentWords(s).length;
    let score = Math.min(words, 10);
    score += 2 * findPeople(s).length + 1.5 * detectEmotions(s).length + findPlaces(s).length + detectThemes(s).length;
    if (/\?\s*$/.test(s)) score -= 4; // a question to the robot is not something they shared
    if (/\byou\b/i.test(s)) score -= 2; // talk addressed to the robot
    if (FILLER.test(s) && words < 4) score -= 5;
    return { s, i, words, score: score - i * 0.1 };
  });
  const best = scored.sort((a, b) => b.score - a.score)[0]!;
  if (best.words < 3 || best.score < 3) return undefined;
  return {
    summary: toSecondPerson(shorten(best.s)),
    people: people.map(toSecondPerson),
    places,
    feelings: detectEmotions(text),
    topics: detectThemes(text),
  };
}

/** People mentioned: relations ("my sister", "my friend Ana") and capitalised names. */
export function findPeople(text: string): string[] {
  const found: string[] = [];
  const rel = new RegExp(`\\b(my|our) (${RELATIONS.join('|')})(?: ([A-Z][a-z]+))?`, 'gi');
  for (const m of text.matchAll(rel)) {
    const name = m[3] && !NOT_NAMES.has(m[3]) && /^[A-Z]/.test(m[3]) ? ` ${m[3]}` : '';
    found.push(`${m[1]!.toLowerCase()} ${m[2]!.toLowerCase()}${name}`);
  }
  // Capitalised words not at a sentence start: likely names ("Then Priya called").
  for (const m of text.matchAll(/(?<=[a-z,;:] )([A-Z][a-z]{2,})\b/g)) {
    const w = m[1]!;
    if (NOT_NAMES.has(w) || found.some((f) => f.endsWith(` ${w}`)) || isPlaceName(text, m.index!)) continue;
    found.push(w);
  }
  return [...new Set(found)];
}

function isPlaceName(text: string, index: number): boolean {
  return /\b(?:in|at|to|from|near|visited|visit)\s+$/i.test(text.slice(Math.max(0, index - 10), index));
}

/** Places mentioned: proper names after in/at/to/from, and common places ("the hospital"). */
export function findPlaces(text: string): string[] {
  const found: string[] = [];
  for (const m of text.matchAll(/\b(?:in|at|to|from|near|visited|visit)\s+((?:[A-Z][a-z]+)(?:\s+[A-Z][a-z]+)?)/g)) {
    if (!NOT_NAMES.has(m[1]!.split(' ')[0]!)) found.push(m[1]!);
  }
  const lower = text.toLowerCase();
  for (const p of PLACE_NOUNS) {
    if (new RegExp(`\\b(?:the|a|at|to|from|in) ${p}\\b`).test(lower)) found.push(p);
  }
  return [...new Set(found)];
}

/** Keep a long sentence speakable: cut at a clause boundary before ~25 words. */
function shorten(sentence: string): string {
  const s = sentence.replace(/[.!?…]+["'”’)]*$/, '').trim();
  const words = s.split(/\s+/);
  if (words.length <= 25) return s;
  const head = words.slice(0, 25).join(' ');
  const cut = Math.max(head.lastIndexOf(','), head.lastIndexOf(' and '), head.lastIndexOf(' but '), head.lastIndexOf(' because '));
  return cut > 30 ? head.slice(0, cut).trim() : head;
}

const SWAP: Record<string, string> = {
  i: 'you', me: 'you', my: 'your', mine: 'yours', myself: 'yourself', we: 'you', us: 'you', our: 'your', ours: 'yours',
  ourselves: 'yourselves', "i'm": "you're", "i've": "you've", "i'd": "you'd", "i'll": "you'll", am: 'are', "we're": "you're",
  "we've": "you've", "we'd": "you'd", "we'll": "you'll",
};

/** Turn the participant's first-person words into the robot's second person ("I lost my keys" → "you lost your keys"). */
export function toSecondPerson(text: string): string {
  const out = text.replace(/\b(I|me|my|mine|myself|we|us|our|ours|ourselves|I'm|I've|I'd|I'll|am|we're|we've|we'd|we'll)\b/gi, (w) => {
    const r = SWAP[w.toLowerCase().replace('’', "'")] ?? w;
    return r;
  });
  // "you was" (from "I was") and sentence-initial capitals.
  return out.replace(/\byou was\b/gi, 'you were').replace(/\byou wasn't\b/gi, "you weren't").replace(/^./, (c) => c.toLowerCase())
    .replace(/\b(you|your)\b/g, (w) => w);
}
