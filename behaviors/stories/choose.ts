import { contentWords, detectEmotions, detectThemes } from '../../data/index.js';
import { fnv1a } from '../hash.js';
import type { Story } from './story.js';

/**
 * Story choice for a session. "matched": the story most empathically resonant with what the participant
 * shared (offline: lexical + theme + emotion similarity; with an embedding function: cosine similarity).
 * "random": a seeded draw, the same for the same seed, participant and study day.
 * Never a story the participant has already heard. Every candidate's score is returned for the log.
 */

/** How stories are chosen for a participant. */
export type StoryCondition = 'matched' | 'random';

/** Turns texts into vectors (an OpenAI-compatible embeddings endpoint, for example). */
export type EmbedTexts = (texts: string[], signal?: AbortSignal) => Promise<number[][]>;

/** What story choice needs to know. */
export interface ChooseStoryInput {
  condition: StoryCondition;
  participantId: string;
  studyDay: number;
  /** What the participant has shared (their check-in, their own story); may be empty. */
  shared: string;
  /** Story ids the participant has already heard. */
  heard: readonly string[];
  stories: readonly Story[];
  /** Seed of the random draw (stored with the participant's assignment). Also breaks ties in "matched". */
  seed?: string | number;
  /** When given, "matched" ranks by cosine similarity of embeddings instead of the lexical score. */
  embed?: EmbedTexts;
  /** Caches story vectors across calls (keyed by story id); pass the same map for a whole run. */
  embeddingCache?: Map<string, number[]>;
  signal?: AbortSignal;
}

/** One candidate story's score, with what made it score (for the session log). */
export interface CandidateScore {
  storyId: string;
  /** The score the choice was made on (higher is chosen). */
  score: number;
  /** Parts of the offline score, each 0..1 (absent for embeddings and random draws). */
  lexical?: number;
  theme?: number;
  emotion?: number;
  /** Cosine similarity of embeddings, −1..1. */
  cosine?: number;
  /** Seeded draw 0..1 (random condition, and the tie-break in matched). */
  draw: number;
  /** Shared words, themes and emotions that connected the story to the participant. */
  matched?: { words: string[]; themes: string[]; emotions: string[] };
}

/** How a choice was made. */
export type ChoiceMethod = 'lexical' | 'embedding' | 'seeded-random';

/** The chosen story, how it was chosen, and every candidate's score (best first). */
export interface StoryChoice {
  story: Story;
  condition: StoryCondition;
  method: ChoiceMethod;
  seed: string;
  /** Set when embeddings were asked for but failed, so the lexical score was used. */
  fallbackReason?: string;
  candidates: CandidateScore[];
  /** Stories left unheard after this one. */
  remaining: number;
}

/** Raised for unusable input to story choice. */
export class StoryChoiceError extends Error {
  override readonly name = 'StoryChoiceError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** Weights of the offline matched score. */
export const MATCH_WEIGHTS = { lexical: 0.5, theme: 0.3, emotion: 0.2 } as const;

/**
 * Choose the session's story. Returns `undefined` when the participant has heard every story.
 * Embedding failures fall back to the offline score (and say so in `fallbackReason`): a session never stalls on it.
 */
export async function chooseStory(input: ChooseStoryInput): Promise<StoryChoice | undefined> {
  if (input.condition !== 'matched' && input.condition !== 'random') {
    throw new StoryChoiceError(`story choice: unknown condition "${String(input.condition)}" (expected "matched" or "random")`);
  }
  if (!input.participantId) throw new StoryChoiceError('story choice: participantId is empty');
  const heard = new Set(input.heard);
  const pool = input.stories.filter((s) => !heard.has(s.id));
  if (pool.length === 0) return undefined;
  const seed = String(input.seed ?? 'hearth');
  const drawKey = `${seed}|${input.participantId}|${input.studyDay}`;
  const draws = new Map(pool.map((s) => [s.id, seededUnit(`${drawKey}|${s.id}`)]));

  let method: ChoiceMethod;
  let fallbackReason: string | undefined;
  let candidates: CandidateScore[];
  if (input.condition === 'random') {
    method = 'seeded-random';
    candidates = pool.map((s) => ({ storyId: s.id, score: draws.get(s.id)!, draw: draws.get(s.id)! }));
  } else if (input.embed && input.shared.trim() !== '') {
    try {
      candidates = await embeddingScores(input, pool, draws);
      method = 'embedding';
    } catch (err) {
      fallbackReason = `embeddings failed: ${err instanceof Error ? err.message : String(err)}`;
      candidates = lexicalScores(input.shared, pool, input.stories, draws);
      method = 'lexical';
    }
  } else {
    candidates = lexicalScores(input.shared, pool, input.stories, draws);
    method = 'lexical';
  }
  // Best first; equal scores (an empty check-in, say) are broken by the seeded draw, not by file order.
  candidates.sort((a, b) => b.score - a.score || b.draw - a.draw || a.storyId.localeCompare(b.storyId));
  const story = pool.find((s) => s.id === candidates[0]!.storyId)!;
  return {
    story, condition: input.condition, method, seed, candidates, remaining: pool.length - 1,
    ...(fallbackReason ? { fallbackReason } : {}),
  };
}

async function embeddingScores(input: ChooseStoryInput, pool: Story[], draws: Map<string, number>): Promise<CandidateScore[]> {
  const cache = input.embeddingCache ?? new Map<string, number[]>();
  const missing = pool.filter((s) => !cache.has(s.id));
  const texts = [input.shared, ...missing.map(storyText)];
  const vectors = await input.embed!(texts, input.signal);
  if (!Array.isArray(vectors) || vectors.length !== texts.length) {
    throw new StoryChoiceError(`embeddings: asked for ${texts.length} vectors, got ${Array.isArray(vectors) ? vectors.length : typeof vectors}`);
  }
  const dim = vectors[0]?.length ?? 0;
  vectors.forEach((v, i) => {
    if (!Array.isArray(v) || v.length !== dim || dim === 0 || v.some((x) => !Number.isFinite(x))) {
      throw new StoryChoiceError(`embeddings: vector #${i} is not a finite vector of length ${dim}`);
    }
  });
  missing.forEach((s, i) => cache.set(s.id, vectors[i + 1]!));
  const q = vectors[0]!;
  return pool.map((s) => {
    const v = cache.get(s.id)!;
    if (v.length !== q.length) throw new StoryChoiceError(`embeddings: cached vector for ${s.id} has length ${v.length}, query has ${q.length}`);
    const cosine = cosineSimilarity(q, v);
    return { storyId: s.id, score: cosine, cosine, draw: draws.get(s.id)! };
  });
}

/** The text of a story used for matching: title, main event, themes, emotions and the story itself. */
export function storyText(s: Story): string {
  return [s.title, s.mainEvent, s.themes.join(', '), s.emotions.join(', '), ...s.paragraphs].join('\n');
}

/** Cosine similarity of two equal-length vectors (0 when either is all zeros). */
export function cosineSimilarity(a: readonly number[], b: readonly number[]): number {
  let dot = 0, na = 0, nb = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!, y = b[i]!;
    dot += x * y; na += x * x; nb += y * y;
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}

// ---------------------------------------------------------------------------------------------
// Offline matching: TF-IDF cosine over content words, plus themes and emotions found in the text.

// Content words, stems, and the theme and emotion lexicons are the shared text layer's (data/language/).
export { contentWords, detectEmotions, detectThemes, EMOTION_CUES, stem, THEME_CUES } from '../../data/index.js';

function lexicalScores(shared: string, pool: Story[], library: readonly Story[], draws: Map<string, number>): CandidateScore[] {
  const idf = inverseDocumentFrequency(library);
  const q = weighted(contentWords(shared), idf);
  const sharedThemes = new Set(detectThemes(shared));
  const sharedEmotions = new Set(detectEmotions(shared));
  const sharedWords = new Set(contentWords(shared));
  return pool.map((s) => {
    const d = storyVector(s, library, idf);
    const lexical = sparseCosine(q, d);
    const words = [...q.keys()].filter((w) => d.has(w)).sort((a, b) => q.get(b)! * d.get(b)! - q.get(a)! * d.get(a)!).slice(0, 5);
    // A story theme matches when the participant's text evokes it, or names it outright.
    const themes = s.themes.filter((t) => sharedThemes.has(t) || contentWords(t).some((w) => sharedWords.has(w)));
    const emotions = s.emotions.filter((e) => sharedEmotions.has(e) || contentWords(e).some((w) => sharedWords.has(w)));
    const theme = themes.length / s.themes.length;
    const emotion = emotions.length / s.emotions.length;
    const score = round(MATCH_WEIGHTS.lexical * lexical + MATCH_WEIGHTS.theme * theme + MATCH_WEIGHTS.emotion * emotion);
    return {
      storyId: s.id, score, lexical: round(lexical), theme: round(theme), emotion: round(emotion),
      draw: draws.get(s.id)!, matched: { words, themes, emotions },
    };
  });
}

const idfCache = new WeakMap<readonly Story[], Map<string, number>>();

function inverseDocumentFrequency(library: readonly Story[]): Map<string, number> {
  let idf = idfCache.get(library);
  if (idf) return idf;
  const df = new Map<string, number>();
  for (const s of library) for (const w of new Set(contentWords(storyText(s)))) df.set(w, (df.get(w) ?? 0) + 1);
  idf = new Map([...df].map(([w, n]) => [w, Math.log((1 + library.length) / (1 + n)) + 1]));
  idfCache.set(library, idf);
  return idf;
}

const vectorCache = new WeakMap<readonly Story[], WeakMap<Story, Map<string, number>>>();

function storyVector(s: Story, library: readonly Story[], idf: Map<string, number>): Map<string, number> {
  let perLibrary = vectorCache.get(library);
  if (!perLibrary) vectorCache.set(library, (perLibrary = new WeakMap()));
  let v = perLibrary.get(s);
  if (!v) perLibrary.set(s, (v = weighted(contentWords(storyText(s)), idf)));
  return v;
}

function weighted(words: string[], idf: Map<string, number>): Map<string, number> {
  const tf = new Map<string, number>();
  for (const w of words) tf.set(w, (tf.get(w) ?? 0) + 1);
  // Words absent from the library get the highest idf; they cannot match anyway but keep the norm honest.
  const maxIdf = Math.max(1, ...idf.values());
  return new Map([...tf].map(([w, n]) => [w, (1 + Math.log(n)) * (idf.get(w) ?? maxIdf)]));
}

function sparseCosine(a: Map<string, number>, b: Map<string, number>): number {
  let dot = 0, na = 0, nb = 0;
  for (const [w, x] of a) { na += x * x; const y = b.get(w); if (y !== undefined) dot += x * y; }
  for (const y of b.values()) nb += y * y;
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}

const round = (x: number): number => Math.round(x * 10_000) / 10_000;

/** A number in [0, 1) determined by a string: FNV-1a hash then a mulberry32 step. */
export function seededUnit(key: string): number {
  let t = (fnv1a(key) + 0x6d2b79f5) >>> 0;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

/** The detail to log with a session's story choice (event `story.chosen`): condition, method, seed and every candidate's score. */
export function choiceLogDetail(choice: StoryChoice): Record<string, unknown> {
  return {
    condition: choice.condition, method: choice.method, seed: choice.seed, storyId: choice.story.id, remaining: choice.remaining,
    ...(choice.fallbackReason ? { fallbackReason: choice.fallbackReason } : {}),
    candidates: choice.candidates.map((c) => ({
      id: c.storyId, score: c.score, draw: round(c.draw),
      ...(c.lexical !== undefined ? { lexical: c.lexical, theme: c.theme, emotion: c.emotion } : {}),
      ...(c.cosine !== undefined ? { cosine: round(c.cosine) } : {}),
      ...(c.matched && (c.matched.words.length || c.matched.themes.length || c.matched.emotions.length) ? { matched: c.matched } : {}),
    })),
  };
}
