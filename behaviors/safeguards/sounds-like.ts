/**
 * Does recognised speech *sound like* a crisis disclosure the recogniser got wrong? Offline speech
 * recognition turns "I do not want to live anymore" into "i do not want to leave any more" and "hurting
 * myself" into "thirty myself": the words are wrong but the sounds are close. The input rules read
 * words, so this compares sounds: the recognised text and a short list of crisis phrases are spelled in
 * phones (a pronouncing dictionary, e.g. the recogniser's own, through the `Pronounce` port) and each
 * phrase is aligned against the closest stretch of the text (edit distance with free ends, similar
 * phones cheaper). A close match does not start crisis care: the robot asks gently whether that is what
 * was said (POSSIBLE_CRISIS_CLARIFY), and the answer is screened with that question as context.
 */

/** Phones of a word (ARPAbet, no stress marks, as in CMUdict), or undefined when the word is unknown. */
export type Pronounce = (word: string) => readonly string[] | undefined;

/** First-person crisis wording (suicidal thoughts, plans, self-harm), in the forms people say them. */
export const CRISIS_SOUNDALIKES: readonly string[] = [
  'kill myself', 'killing myself', 'hurt myself', 'hurting myself', 'harm myself', 'cut myself', 'cutting myself',
  'end my life', 'ending my life', 'take my own life', 'want to die', 'wish i was dead', 'better off dead', 'better off without me',
  "don't want to live", 'want to live anymore', 'want to be alive', "don't want to be here anymore", 'no reason to live', 'no reason to go on',
  'suicide', 'suicidal', 'overdose', 'never wake up', 'no point in living', 'end it all', 'jump off the bridge',
];

/**
 * How far apart a phrase and the closest stretch of heard phones may be, per phone of the phrase. Chosen
 * on benign text only, never on the disclosures it is measured on: over the 3,001 sentences of the story
 * library and perception/audio/lm/checkin.txt that the input rules do not flag, 0.15 raises 0.43% of
 * them (0.1: 0.13%, 0.2: 1.5%, 0.25: 3.0%); "calling myself" is one vowel from "killing myself".
 */
export const SOUNDS_LIKE_THRESHOLD = 0.15;

const VOWELS = new Set(['AA', 'AE', 'AH', 'AO', 'AW', 'AY', 'EH', 'ER', 'EY', 'IH', 'IY', 'OW', 'OY', 'UH', 'UW']);
/** Consonants that differ in voicing or place only, confused by recognisers: half a substitution. */
const NEAR = [['P', 'B'], ['T', 'D'], ['K', 'G'], ['F', 'V'], ['S', 'Z'], ['SH', 'ZH'], ['CH', 'JH'], ['TH', 'DH'], ['TH', 'F'], ['DH', 'D'], ['M', 'N'], ['N', 'NG'], ['L', 'R'], ['W', 'V']];
const near = new Set(NEAR.flatMap(([a, b]) => [`${a} ${b}`, `${b} ${a}`]));

function substitution(a: string, b: string): number {
  if (a === b) return 0;
  if (VOWELS.has(a) && VOWELS.has(b)) return 0.5;
  return near.has(`${a} ${b}`) ? 0.5 : 1;
}

/** Phones of a text's words; unknown words are skipped (their sounds are not known). */
export function phonesOf(text: string, pronounce: Pronounce): string[] {
  return text.toLowerCase().replace(/[‘’]/g, "'").replace(/[^a-z' ]+/g, ' ').split(/\s+/).filter(Boolean).flatMap((w) => [...(pronounce(w) ?? [])]);
}

/** Phones of each phrase, per pronouncing dictionary: spelled once, not at every turn screened. */
const spelled = new WeakMap<Pronounce, Map<string, string[]>>();
function phrasePhones(phrase: string, pronounce: Pronounce): string[] {
  let byPhrase = spelled.get(pronounce);
  if (!byPhrase) spelled.set(pronounce, (byPhrase = new Map()));
  let phones = byPhrase.get(phrase);
  if (!phones) byPhrase.set(phrase, (phones = phonesOf(phrase, pronounce)));
  return phones;
}

/** The cost of the best alignment of `phrase` with any stretch of `heard` (free start and end in `heard`). */
export function alignmentCost(phrase: readonly string[], heard: readonly string[]): number {
  let prev = new Float64Array(heard.length + 1); // row 0: a stretch may start anywhere
  for (let i = 1; i <= phrase.length; i++) {
    const row = new Float64Array(heard.length + 1);
    row[0] = i;
    for (let j = 1; j <= heard.length; j++) {
      row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + substitution(phrase[i - 1]!, heard[j - 1]!));
    }
    prev = row;
  }
  return Math.min(...prev);
}

/** The crisis phrase the heard text sounds closest to within the threshold, or null. */
export function soundsLikeCrisis(text: string, pronounce: Pronounce, o: { threshold?: number; phrases?: readonly string[] } = {}): { phrase: string; distance: number } | null {
  const heard = phonesOf(text, pronounce);
  if (!heard.length) return null;
  let best: { phrase: string; distance: number } | null = null;
  for (const phrase of o.phrases ?? CRISIS_SOUNDALIKES) {
    const phones = phrasePhones(phrase, pronounce);
    if (phones.length < 4) continue;
    const distance = alignmentCost(phones, heard) / phones.length;
    if (!best || distance < best.distance) best = { phrase, distance };
  }
  return best && best.distance <= (o.threshold ?? SOUNDS_LIKE_THRESHOLD) ? { phrase: best.phrase, distance: Math.round(best.distance * 1000) / 1000 } : null;
}
