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

const STOPWORDS = new Set(`a about above after again against all am an and any are as at be because been before being below
between both but by can could did do does doing down during each few for from further had has have having he her here hers
herself him himself his how i if in into is it its itself just me more most my myself no nor not now of off on once only or
other our ours ourselves out over own same she should so some such than that the their theirs them themselves then there
these they this those through to too under until up very was we were what when where which while who whom why will with
would you your yours yourself yourselves also really think know like got get went go going one thing things time day today
yesterday said say much well still back even way lot little bit okay ok yeah yes um uh oh im ive dont didnt cant wasnt its
thats theres id youre were weve theyre us let make made want something anything everything someone anyone everyone`.split(/\s+/));

/** Lower-case content words of a text, lightly stemmed, stopwords removed. */
export function contentWords(text: string): string[] {
  return (text.toLowerCase().replace(/['’]/g, '').match(/[a-z]+/g) ?? [])
    .filter((w) => w.length > 2 && !STOPWORDS.has(w))
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

/** Cue words for themes: a story theme (or a word in it) is found in what the participant said through these. */
export const THEME_CUES: Readonly<Record<string, readonly string[]>> = {
  family: ['family', 'mother', 'mum', 'mom', 'father', 'dad', 'parent', 'son', 'daughter', 'sister', 'brother', 'grandma', 'grandpa', 'grandmother', 'grandfather', 'aunt', 'uncle', 'cousin', 'child', 'children', 'kids', 'husband', 'wife'],
  grief: ['died', 'death', 'passed', 'funeral', 'grave', 'gone', 'lost', 'loss', 'miss', 'mourning', 'widow', 'grief'],
  loss: ['died', 'death', 'passed', 'funeral', 'lost', 'loss', 'miss', 'gone', 'ended'],
  moving: ['move', 'moved', 'moving', 'boxes', 'new city', 'new town', 'relocate', 'apartment', 'flat', 'house', 'packing'],
  migration: ['immigrant', 'country', 'abroad', 'visa', 'language', 'homeland', 'emigrated', 'refugee', 'accent'],
  work: ['work', 'job', 'boss', 'office', 'shift', 'colleague', 'coworker', 'career', 'manager', 'salary', 'fired', 'promotion', 'interview', 'meeting'],
  friendship: ['friend', 'friends', 'friendship', 'mate', 'buddy', 'pal'],
  illness: ['sick', 'ill', 'illness', 'hospital', 'doctor', 'diagnosis', 'cancer', 'surgery', 'stroke', 'treatment', 'pain', 'nurse', 'medicine', 'chemo'],
  health: ['health', 'doctor', 'hospital', 'sick', 'exercise', 'diet', 'injury', 'recovery'],
  pride: ['proud', 'pride', 'achieved', 'managed', 'finally', 'award', 'accomplished'],
  failure: ['failed', 'fail', 'failure', 'mistake', 'rejected', 'messed', 'lost', 'wrong'],
  reconciliation: ['apologise', 'apologize', 'sorry', 'forgave', 'forgive', 'made up', 'argument', 'fight', 'estranged', 'reconnect'],
  ageing: ['old', 'older', 'age', 'aging', 'ageing', 'retired', 'retirement', 'birthday', 'years', 'grey', 'elderly'],
  retirement: ['retired', 'retirement', 'pension'],
  caregiving: ['caring', 'care', 'carer', 'caregiver', 'look after', 'looking after', 'nursing', 'dementia', 'help him', 'help her'],
  belonging: ['belong', 'fit in', 'welcome', 'community', 'neighbours', 'neighbors', 'outsider', 'accepted'],
  community: ['community', 'neighbour', 'neighbor', 'volunteer', 'church', 'club', 'town', 'village'],
  loneliness: ['alone', 'lonely', 'loneliness', 'nobody', 'isolated', 'by myself', 'empty'],
  love: ['love', 'loved', 'partner', 'romance', 'dating', 'married', 'wedding', 'boyfriend', 'girlfriend'],
  parenting: ['baby', 'son', 'daughter', 'kids', 'children', 'parent', 'school', 'toddler', 'teenager'],
  pets: ['dog', 'cat', 'pet', 'puppy', 'kitten', 'vet', 'walk the dog'],
  education: ['school', 'exam', 'test', 'class', 'teacher', 'university', 'college', 'study', 'studying', 'grade', 'degree'],
  learning: ['learn', 'learning', 'lesson', 'practice', 'class', 'skill', 'taught'],
  courage: ['scared', 'afraid', 'brave', 'courage', 'nervous', 'dared', 'risk'],
  travel: ['trip', 'travel', 'holiday', 'vacation', 'train', 'flight', 'plane', 'abroad', 'hotel'],
  nature: ['garden', 'park', 'tree', 'forest', 'sea', 'beach', 'mountain', 'river', 'walk', 'birds', 'flowers'],
  tradition: ['tradition', 'every year', 'holiday', 'recipe', 'festival', 'ritual', 'christmas', 'eid', 'diwali'],
  cooking: ['cook', 'cooking', 'bake', 'baking', 'recipe', 'kitchen', 'dinner', 'meal', 'bread', 'soup'],
  joy: ['fun', 'laughed', 'happy', 'great', 'wonderful', 'lovely', 'enjoyed', 'delight'],
  resilience: ['again', 'kept going', 'tried', 'recovered', 'bounced', 'carry on', 'persevere'],
  independence: ['alone', 'own', 'myself', 'independent', 'first time'],
  identity: ['who i am', 'myself', 'identity', 'purpose', 'role'],
  music: ['music', 'song', 'sing', 'singing', 'piano', 'guitar', 'band', 'choir', 'concert'],
  siblings: ['sister', 'brother', 'sibling', 'twin'],
  parents: ['mother', 'father', 'mum', 'mom', 'dad', 'parents'],
  'kindness of strangers': ['stranger', 'kind', 'kindness', 'helped me', 'someone helped'],
  'city life': ['city', 'bus', 'subway', 'metro', 'traffic', 'street', 'crowd'],
  'young adulthood': ['first job', 'first apartment', 'twenties', 'college', 'graduated'],
  confidence: ['confident', 'shy', 'nervous', 'stage', 'speech', 'presentation'],
  'self-acceptance': ['accept', 'myself', 'body', 'enough', 'who i am'],
  'everyday joys': ['coffee', 'morning', 'sunshine', 'walk', 'small things', 'cup of tea', 'quiet'],
  adventure: ['adventure', 'explore', 'unexpected', 'trip', 'new place'],
  mistakes: ['mistake', 'wrong', 'oops', 'forgot', 'messed up'],
  distance: ['far away', 'abroad', 'long distance', 'video call', 'miles away', 'overseas'],
  celebration: ['party', 'wedding', 'birthday', 'celebrate', 'celebrated', 'anniversary', 'graduation'],
  acceptance: ['accept', 'accepted', 'came out', 'gay', 'lesbian', 'trans', 'who i am'],
  perseverance: ['kept going', 'again', 'tried again', 'didnt give up', 'never gave up', 'persevere'],
  exhaustion: ['exhausted', 'exhausting', 'tired', 'no sleep', 'worn out'],
  humour: ['funny', 'laughed', 'joke', 'hilarious'],
  technology: ['phone', 'computer', 'internet', 'app', 'text', 'email', 'smartphone'],
  change: ['change', 'changed', 'different', 'new'],
  marriage: ['husband', 'wife', 'married', 'marriage', 'spouse', 'anniversary'],
  connection: ['connect', 'connected', 'talked', 'conversation', 'met'],
  creativity: ['write', 'writing', 'paint', 'painting', 'draw', 'poem', 'story', 'knit', 'craft'],
  dementia: ['dementia', 'alzheimers', 'memory loss', 'forgets', 'confused'],
  neighbours: ['neighbour', 'neighbor', 'next door', 'neighbours', 'neighbors'],
  'letting go': ['letting go', 'let go', 'grown up', 'leaving home', 'first day'],
  divorce: ['divorce', 'divorced', 'separated', 'split up', 'ex wife', 'ex husband'],
  'new beginnings': ['new start', 'fresh start', 'starting over', 'new job', 'new home'],
  home: ['home', 'house', 'flat', 'apartment'],
  nostalgia: ['remember', 'used to', 'childhood', 'back then', 'old days'],
  recovery: ['recovery', 'recovering', 'sober', 'rehab', 'getting better', 'healing'],
  dependence: ['depend', 'rely', 'help me', 'cant do it myself'],
  regret: ['regret', 'should have', 'wish i had', 'too late'],
  reconnection: ['reconnect', 'back in touch', 'lost touch', 'old friend', 'after years'],
  teenagers: ['teenager', 'teen', 'teenage', 'adolescent'],
  trust: ['trust', 'honest', 'reliable'],
  faith: ['faith', 'pray', 'prayer', 'church', 'mosque', 'temple', 'ramadan', 'god'],
  memory: ['remember', 'memory', 'memories', 'forgot'],
  anxiety: ['anxious', 'anxiety', 'panic', 'nervous', 'worried'],
  support: ['support', 'helped', 'there for me', 'listened'],
  generosity: ['gave', 'donate', 'share', 'shared', 'free', 'volunteer'],
  purpose: ['purpose', 'useful', 'meaning', 'point'],
  childhood: ['childhood', 'when i was a child', 'when i was little', 'growing up', 'as a kid'],
  sport: ['football', 'soccer', 'match', 'team', 'game', 'running', 'race', 'tennis', 'swim'],
  routine: ['every morning', 'every day', 'routine', 'habit', 'every week'],
  disability: ['deaf', 'blind', 'wheelchair', 'disability', 'disabled', 'sign language'],
  heartbreak: ['breakup', 'broke up', 'dumped', 'left me', 'heartbroken'],
  guilt: ['guilty', 'guilt', 'my fault'],
};

/** Cue words for emotions, keyed by the emotion names used in the story library. */
export const EMOTION_CUES: Readonly<Record<string, readonly string[]>> = {
  sadness: ['sad', 'sadness', 'down', 'unhappy', 'cry', 'cried', 'crying', 'tears', 'heartbroken', 'blue', 'miserable'],
  grief: ['grief', 'grieving', 'mourning', 'miss', 'missing', 'died', 'passed away', 'loss'],
  joy: ['joy', 'happy', 'happiness', 'glad', 'delighted', 'thrilled', 'wonderful', 'laughed', 'fun'],
  love: ['love', 'loved', 'adore', 'dear', 'caring'],
  warmth: ['warm', 'cosy', 'cozy', 'comfort', 'hug', 'held'],
  gratitude: ['grateful', 'thankful', 'thanks', 'thank', 'appreciate', 'lucky'],
  pride: ['proud', 'pride', 'accomplished', 'achieved'],
  fear: ['afraid', 'scared', 'fear', 'frightened', 'terrified', 'panic'],
  anxiety: ['anxious', 'worried', 'worry', 'nervous', 'stressed', 'stress', 'uneasy', 'overwhelmed'],
  worry: ['worried', 'worry', 'concerned', 'anxious'],
  nervousness: ['nervous', 'jittery', 'shaking', 'butterflies'],
  anger: ['angry', 'furious', 'mad', 'annoyed', 'irritated', 'frustrated', 'upset', 'resent'],
  frustration: ['frustrated', 'frustrating', 'annoyed', 'stuck', 'fed up'],
  shame: ['ashamed', 'shame', 'embarrassed', 'humiliated', 'guilty'],
  embarrassment: ['embarrassed', 'awkward', 'humiliated', 'blushed'],
  guilt: ['guilty', 'guilt', 'my fault', 'should have', 'regret'],
  regret: ['regret', 'wish i had', 'should have', 'too late'],
  loneliness: ['lonely', 'alone', 'isolated', 'nobody', 'left out'],
  hope: ['hope', 'hopeful', 'optimistic', 'looking forward', 'maybe'],
  relief: ['relief', 'relieved', 'finally', 'phew'],
  tiredness: ['tired', 'exhausted', 'exhausting', 'sleepy', 'worn out', 'drained'],
  nostalgia: ['remember', 'used to', 'back then', 'childhood', 'memories', 'nostalgic'],
  tenderness: ['gentle', 'tender', 'softly', 'held'],
  disappointment: ['disappointed', 'let down', 'disappointing'],
  surprise: ['surprised', 'unexpected', 'shocked', 'suddenly'],
  excitement: ['excited', 'exciting', 'can’t wait', 'cant wait', 'thrilled'],
  contentment: ['content', 'peaceful', 'calm', 'relaxed', 'at peace', 'quiet'],
  belonging: ['belong', 'welcome', 'accepted', 'at home', 'part of'],
  amusement: ['funny', 'laughed', 'hilarious', 'silly'],
  emptiness: ['empty', 'pointless', 'lost', 'bored', 'nothing to do'],
  restlessness: ['restless', 'bored', 'fidgety', 'can’t settle'],
  panic: ['panic', 'panicked', 'freaked'],
  exhilaration: ['rush', 'thrill', 'exhilarating', 'buzzing'],
  confusion: ['confused', 'confusing', 'lost'],
  curiosity: ['curious', 'wondered', 'interested'],
  shock: ['shocked', 'shock', 'stunned', 'couldnt believe'],
  homesickness: ['homesick', 'miss home', 'miss my family', 'back home'],
  wonder: ['amazing', 'beautiful', 'wonder', 'magical'],
  determination: ['determined', 'kept going', 'wont give up', 'stubborn'],
  impatience: ['impatient', 'taking forever', 'so slow'],
  awkwardness: ['awkward', 'uncomfortable'],
  doubt: ['doubt', 'not sure', 'unsure', 'second guess'],
  patience: ['patient', 'patience', 'waited'],
  irritation: ['irritated', 'annoying', 'annoyed', 'grumpy'],
  acceptance: ['accept', 'accepted', 'made peace', 'its okay'],
  boredom: ['bored', 'boring', 'dull'],
  calm: ['calm', 'peaceful', 'relaxed', 'quiet'],
  helplessness: ['helpless', 'powerless', 'nothing i can do', 'couldnt do anything'],
  shyness: ['shy', 'timid', 'self conscious'],
  envy: ['jealous', 'envy', 'envious'],
  affection: ['affection', 'cuddle', 'fond'],
  comfort: ['comfort', 'comforting', 'soothing'],
  freedom: ['free', 'freedom', 'independent'],
  peace: ['peace', 'peaceful', 'at peace'],
  satisfaction: ['satisfied', 'satisfying', 'worth it'],
  dread: ['dread', 'dreading'],
  annoyance: ['annoyed', 'annoying'],
};

/** Themes whose cue words occur in a text (names from `THEME_CUES`). */
export function detectThemes(text: string): string[] {
  return detect(text, THEME_CUES);
}

/** Emotions whose cue words occur in a text (names from `EMOTION_CUES`). */
export function detectEmotions(text: string): string[] {
  return detect(text, EMOTION_CUES);
}

function detect(text: string, cues: Readonly<Record<string, readonly string[]>>): string[] {
  const norm = ` ${text.toLowerCase().replace(/['’]/g, '').replace(/[^a-z]+/g, ' ')} `;
  return Object.entries(cues)
    .filter(([, words]) => words.some((w) => norm.includes(` ${w.replace(/['’]/g, '')} `)))
    .map(([name]) => name);
}

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
