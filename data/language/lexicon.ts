/**
 * Hearth's hand-written lexicons, kept as data (`lexicon/*.json`) and read in the normal form:
 * every cue is normalised once here, so a cue written "can't wait" matches "can’t wait",
 * "cannot wait" and "can not wait" alike.
 */
import emotionsJson from './lexicon/emotions.json' with { type: 'json' };
import feelingsJson from './lexicon/feelings.json' with { type: 'json' };
import stopwordsJson from './lexicon/stopwords.json' with { type: 'json' };
import themesJson from './lexicon/themes.json' with { type: 'json' };
import { normalise } from './normalise.js';

/** A family of feelings the responder can hear, with the phrases that signal it (normal form). */
export interface FeelingCues {
  id: string;
  valence: -1 | 0 | 1;
  cues: readonly string[];
}

const normalisedCues = (table: Record<string, string[]>): Readonly<Record<string, readonly string[]>> =>
  Object.freeze(Object.fromEntries(Object.entries(table).map(([name, cues]) => [name, unique(cues.map(normalise))])));

function unique(xs: string[]): string[] {
  return [...new Set(xs.filter((x) => x !== ''))];
}

/** Phrases that evoke each story theme (the theme names of the story library). */
export const THEME_CUES = normalisedCues(themesJson);

/** Phrases that signal each emotion, keyed by the emotion names of the story library. */
export const EMOTION_CUES = normalisedCues(emotionsJson);

/** The responder's feeling families, most specific first. */
export const FEELING_CUES: readonly FeelingCues[] = Object.freeze(
  (feelingsJson as { id: string; valence: number; cues: string[] }[]).map((f): FeelingCues => {
    const valence = f.valence;
    if (valence !== -1 && valence !== 0 && valence !== 1) throw new Error(`data/language/lexicon/feelings.json: ${f.id}: valence ${valence} is not -1, 0 or 1`);
    return { id: f.id, valence, cues: unique(f.cues.map(normalise)) };
  }),
);

/** Words too common to say what a text is about (story matching, memory overlap). */
export const CONTENT_STOPWORDS: ReadonlySet<string> = new Set(stopwordsJson.content);

/** Words that never make a good concrete detail to reflect back ("my … X"). */
export const DETAIL_STOPWORDS: ReadonlySet<string> = new Set(stopwordsJson.details);

/** Lower-case content words of a text (normal form, letters only), lightly stemmed, stopwords removed. */
export function contentWords(text: string): string[] {
  return (normalise(text).match(/\p{L}+/gu) ?? [])
    .filter((w) => w.length > 2 && !CONTENT_STOPWORDS.has(w))
    .map(stem)
    .filter((w) => w.length > 2);
}

/** A deliberately small suffix stripper: enough to match "walked"/"walking"/"walks". */
export function stem(w: string): string {
  if (w.length > 5 && w.endsWith('ies')) return `${w.slice(0, -3)}y`;
  if (w.length > 5 && w.endsWith('ing')) return undouble(w.slice(0, -3));
  if (w.length > 4 && w.endsWith('ed')) return undouble(w.slice(0, -2));
  if (w.length > 4 && w.endsWith('ly')) return w.slice(0, -2);
  if (w.length > 3 && w.endsWith('s') && !w.endsWith('ss') && !w.endsWith('us')) return w.slice(0, -1);
  return w;
}

function undouble(w: string): string {
  return w.length > 3 && w.at(-1) === w.at(-2) && !/[lsz]/.test(w.at(-1)!) ? w.slice(0, -1) : w;
}

/** Names of a lexicon table whose cues occur in a text as whole words. */
export function namesFound(text: string, table: Readonly<Record<string, readonly string[]>>): string[] {
  const padded = ` ${normalise(text)} `;
  return Object.entries(table).filter(([, cues]) => cues.some((c) => padded.includes(` ${c} `))).map(([name]) => name);
}

/** Themes whose cues occur in a text (names from `THEME_CUES`). */
export function detectThemes(text: string): string[] {
  return namesFound(text, THEME_CUES);
}

/** Emotions whose cues occur in a text (names from `EMOTION_CUES`). */
export function detectEmotions(text: string): string[] {
  return namesFound(text, EMOTION_CUES);
}
