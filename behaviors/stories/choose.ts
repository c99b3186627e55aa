import { contentWords, detectEmotions, detectThemes } from '../../data/index.js';
import { fnv1a } from '../hash.js';
import type { SentenceEncoder } from '../ports.js';
import type { Story } from './story.js';
import type { StoryVectors } from './vectors.js';

/**
 * Story choice for a session. "matched": the story most empathically resonant with what the participant
 * shared: by meaning with the device's sentence encoder (USE-lite) and pinned story vectors, blended with
 * the lexical score (shared words, themes and emotion words); lexical alone when no encoder is available
 * (and the log says why); with an embeddings endpoint and no encoder, cosine similarity of its vectors.
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
  /**
   * Matching by meaning (the default of the matched condition on a device): the sentence encoder and the
   * library's story vectors; or why the encoder is unavailable (then the lexical score is used and logged so).
   */
  sentence?: SentenceMatching | { unavailable: string };
  /** When given (and no sentence encoder is), "matched" ranks by cosine similarity of these embeddings. */
  embed?: EmbedTexts;
  /** Caches story vectors across calls (keyed by story id); pass the same map for a whole run. */
  embeddingCache?: Map<string, number[]>;
  signal?: AbortSignal;
}

/** The device's sentence encoder and the story vectors it made (`loadStoryVectors`). */
export interface SentenceMatching {
  encoder: SentenceEncoder;
  vectors: StoryVectors;
  /** Where the vectors came from, for the log. */
  vectorsSource?: 'pinned' | 'computed';
  /** Weight of the encoder in the blend, 0..1 (1: the encoder alone). Default `ENCODER_BLEND`. */
  blend?: number;
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
  /** Sentence-encoder similarity, −1..1: the mean of the summary line's cosine and the paragraphs' mean cosine. */
  encoder?: number;
  /** Seeded draw 0..1 (random condition, and the tie-break in matched). */
  draw: number;
  /** Shared words, themes and emotions that connected the story to the participant. */
  matched?: { words: string[]; themes: string[]; emotions: string[] };
}

/** How a choice was made. */
export type ChoiceMethod = 'lexical' | 'encoder' | 'blend' | 'embedding' | 'seeded-random';

/** The chosen story, how it was chosen, and every candidate's score (best first). */
export interface StoryChoice {
  story: Story;
  condition: StoryCondition;
  method: ChoiceMethod;
  seed: string;
  /** Set when the sentence encoder or embeddings were asked for but unavailable or failed, so the lexical score was used. */
  fallbackReason?: string;
  /** The sentence encoder used, and where its story vectors came from (methods encoder and blend). */
  encoder?: { id: string; vectors: 'pinned' | 'computed' | 'given'; blend: number };
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
 * Weight of the sentence encoder in the blend with the lexical score (each standardised over the unheard
 * stories first). Chosen on the tuning split of test/fixtures/matching (0.5 and 0.7 scored within 0.01 MRR;
 * the round half was kept); see behaviors/stories/README.md for the figures.
 */
export const ENCODER_BLEND = 0.5;

/** Words per piece a long participant text is encoded in (USE-lite reads ~100 words of a text). */
const QUERY_WORDS = 80;

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

  let method: ChoiceMethod = 'lexical';
  let fallbackReason: string | undefined;
  let encoder: StoryChoice['encoder'];
  let candidates: CandidateScore[];
  if (input.condition === 'random') {
    method = 'seeded-random';
    candidates = pool.map((s) => ({ storyId: s.id, score: draws.get(s.id)!, draw: draws.get(s.id)! }));
  } else {
    const reasons: string[] = [];
    let done: CandidateScore[] | undefined;
    const hasText = input.shared.trim() !== '';
    const sentence = input.sentence;
    if (sentence && 'unavailable' in sentence) reasons.push(`sentence encoder unavailable: ${sentence.unavailable}`);
    else if (sentence && hasText) {
      const blend = clamp01(sentence.blend ?? ENCODER_BLEND);
      try {
        const lexical = blend < 1 ? lexicalScores(input.shared, pool, input.stories, draws) : undefined;
        done = await encoderScores(input.shared, sentence, pool, draws, lexical, blend, input.signal);
        method = blend < 1 ? 'blend' : 'encoder';
        encoder = { id: sentence.encoder.id, vectors: sentence.vectorsSource ?? 'given', blend };
      } catch (err) {
        reasons.push(`sentence encoder failed: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    if (!done && input.embed && hasText) {
      try {
        done = await embeddingScores(input, pool, draws);
        method = 'embedding';
      } catch (err) {
        reasons.push(`embeddings failed: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    if (!done) {
      done = lexicalScores(input.shared, pool, input.stories, draws);
      method = 'lexical';
    }
    candidates = done;
    if (reasons.length) fallbackReason = reasons.join('; ');
  }
  // Best first; equal scores (an empty check-in, say) are broken by the seeded draw, not by file order.
  candidates.sort((a, b) => b.score - a.score || b.draw - a.draw || a.storyId.localeCompare(b.storyId));
  const story = pool.find((s) => s.id === candidates[0]!.storyId)!;
  return {
    story, condition: input.condition, method, seed, candidates, remaining: pool.length - 1,
    ...(fallbackReason ? { fallbackReason } : {}),
    ...(encoder ? { encoder } : {}),
  };
}

/**
 * Encoder scores (and the blend with the lexical score when given). The participant's text is encoded in
 * pieces of ~80 words; a story's similarity to a piece is the mean of its summary line's cosine and its
 * paragraphs' mean cosine, averaged over the pieces.
 */
async function encoderScores(
  shared: string, m: SentenceMatching, pool: Story[], draws: Map<string, number>,
  lexical: CandidateScore[] | undefined, blend: number, signal?: AbortSignal,
): Promise<CandidateScore[]> {
  const words = shared.trim().split(/\s+/);
  const chunks: string[] = [];
  for (let i = 0; i < words.length; i += QUERY_WORDS) chunks.push(words.slice(i, i + QUERY_WORDS).join(' '));
  const qs = await m.encoder.encode(chunks, signal);
  if (qs.length !== chunks.length) throw new StoryChoiceError(`${m.encoder.id}: asked for ${chunks.length} vectors, got ${qs.length}`);
  const sims = pool.map((s) => {
    const pieces = m.vectors.of(s.id);
    if (!pieces || pieces.length < 2) throw new StoryChoiceError(`no story vectors for ${s.id} (the vectors were made from another library)`);
    let total = 0;
    for (const q of qs) {
      if (q.length !== pieces[0]!.length) throw new StoryChoiceError(`${m.encoder.id}: query vector has length ${q.length}, story vectors ${pieces[0]!.length}`);
      let para = 0;
      for (let i = 1; i < pieces.length; i++) para += dotF(q, pieces[i]!);
      total += 0.5 * dotF(q, pieces[0]!) + 0.5 * (para / (pieces.length - 1));
    }
    const sim = total / qs.length;
    if (!Number.isFinite(sim)) throw new StoryChoiceError(`${m.encoder.id}: similarity for ${s.id} is not finite`);
    return sim;
  });
  if (!lexical) return pool.map((s, i) => ({ storyId: s.id, score: round(sims[i]!), encoder: round(sims[i]!), draw: draws.get(s.id)! }));
  const ze = standardise(sims);
  const zl = standardise(lexical.map((c) => c.score));
  return lexical.map((c, i) => ({ ...c, score: round(blend * ze[i]! + (1 - blend) * zl[i]!), encoder: round(sims[i]!) }));
}

function dotF(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

/** Each value's distance from the mean in standard deviations (all 0 when the values are equal). */
function standardise(xs: readonly number[]): number[] {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const sd = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length);
  return xs.map((x) => (sd > 1e-12 ? (x - mean) / sd : 0));
}

const clamp01 = (x: number): number => (Number.isFinite(x) ? Math.min(1, Math.max(0, x)) : ENCODER_BLEND);

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
    ...(choice.encoder ? { encoder: choice.encoder } : {}),
    candidates: choice.candidates.map((c) => ({
      id: c.storyId, score: c.score, draw: round(c.draw),
      ...(c.lexical !== undefined ? { lexical: c.lexical, theme: c.theme, emotion: c.emotion } : {}),
      ...(c.cosine !== undefined ? { cosine: round(c.cosine) } : {}),
      ...(c.encoder !== undefined ? { encoder: c.encoder } : {}),
      ...(c.matched && (c.matched.words.length || c.matched.themes.length || c.matched.emotions.length) ? { matched: c.matched } : {}),
    })),
  };
}
