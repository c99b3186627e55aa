/**
 * The offline responder's feelings: which words signal each family comes from the shared text layer
 * (`data/language/lexicon/feelings.json`, normal form); how the robot names a feeling back is its own.
 */
import { DETAIL_STOPWORDS, FEELING_CUES, NEGATORS as LANGUAGE_NEGATORS } from '../../data/index.js';

/** A family of feelings, with words that signal it and ways to name it back. */
export interface FeelingFamily {
  id: string;
  valence: -1 | 0 | 1;
  cues: readonly string[];
  /** Adjectives for "that sounds …". */
  adjectives: readonly string[];
  /** Nouns for "I can hear the … in that". */
  nouns: readonly string[];
}

/** How the robot names each feeling family back. */
const WORDING: Readonly<Record<string, { adjectives: readonly string[]; nouns: readonly string[] }>> = {
  grief: { adjectives: ['heavy', 'painful', 'tender'], nouns: ['grief', 'loss'] },
  lonely: { adjectives: ['lonely', 'isolating'], nouns: ['loneliness', 'longing for company'] },
  anxious: { adjectives: ['stressful', 'unsettling', 'nerve-racking'], nouns: ['worry', 'unease', 'pressure'] },
  angry: { adjectives: ['frustrating', 'maddening', 'unfair'], nouns: ['frustration', 'anger'] },
  sad: { adjectives: ['hard', 'sad', 'painful'], nouns: ['sadness', 'hurt', 'disappointment'] },
  guilty: { adjectives: ['heavy to carry', 'hard to sit with'], nouns: ['regret', 'guilt'] },
  tired: { adjectives: ['draining', 'exhausting', 'tiring'], nouns: ['tiredness', 'weariness'] },
  proud: { adjectives: ['rewarding', 'meaningful'], nouns: ['pride'] },
  grateful: { adjectives: ['warm', 'touching'], nouns: ['gratitude', 'warmth'] },
  relieved: { adjectives: ['a relief', 'freeing'], nouns: ['relief'] },
  nostalgic: { adjectives: ['bittersweet', 'full of memories'], nouns: ['nostalgia', 'memories'] },
  hopeful: { adjectives: ['hopeful', 'promising'], nouns: ['hope', 'anticipation'] },
  happy: { adjectives: ['lovely', 'joyful', 'warm'], nouns: ['joy', 'happiness', 'warmth'] },
};

/** Feeling families, most specific first. Cues are whole words or phrases in the normal form. */
export const FEELINGS: readonly FeelingFamily[] = FEELING_CUES.map((f) => {
  const wording = WORDING[f.id];
  if (!wording) throw new Error(`responder: no wording for the feeling family "${f.id}" of data/language/lexicon/feelings.json`);
  return { ...f, ...wording };
});

/** Words that flip the feeling that follows ("not happy", "never lonely", "without joy"). */
export const NEGATORS: ReadonlySet<string> = new Set([...LANGUAGE_NEGATORS, 'without']);

/** Words that never make a good "concrete detail". */
export const STOPWORDS = DETAIL_STOPWORDS;
