/**
 * What the learned layer encodes for one turn: the turn itself, its parts when it is long (a
 * disclosure buried in ordinary talk would be diluted in one vector), and a context window of
 * the participant's recent turns (a crisis can span turns).
 */

/** Longest text handed to the encoder in one piece (characters); the encoder truncates too. */
export const MAX_ENCODED_CHARS = 1_000;
/** At most this many parts of a long turn are encoded (first ones and the last one). */
export const MAX_PARTS = 6;
const WINDOW_WORDS = 16;

/**
 * The speech-recogniser form of a text: lower case, no punctuation, no apostrophes, one space.
 * Typed and spoken turns are encoded in this one form so the model sees them alike.
 */
export function speechForm(text: string): string {
  return text
    .toLowerCase()
    .replace(/[’‘`´']/g, '')
    .replace(/[^\p{L}\p{N}\s]/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

/**
 * Parts of a turn worth encoding on their own: sentences when it has punctuation, otherwise
 * overlapping 16-word windows. A short turn (one sentence, ≤ 16 words) has no parts.
 */
export function turnParts(text: string): string[] {
  const clipped = text.length > 20_000 ? text.slice(0, 20_000) : text;
  const bySentence = clipped
    .split(/(?<=[.!?;])\s+|\n+/)
    .map((s) => s.trim())
    .filter((s) => /\p{L}/u.test(s));
  let parts: string[];
  if (bySentence.length > 1) parts = bySentence;
  else {
    const words = clipped.split(/\s+/).filter(Boolean);
    if (words.length <= WINDOW_WORDS) return [];
    parts = [];
    for (let i = 0; i < words.length; i += WINDOW_WORDS / 2) {
      parts.push(words.slice(i, i + WINDOW_WORDS).join(' '));
      if (i + WINDOW_WORDS >= words.length) break;
    }
  }
  if (parts.length > MAX_PARTS) parts = [...parts.slice(0, MAX_PARTS - 1), parts.at(-1)!];
  return parts.map((p) => p.slice(0, MAX_ENCODED_CHARS));
}

/**
 * The context window: the last `n` participant turns from `previousTurns` (lines written
 * `"participant: …"`; robot lines are left out) joined with the current turn, or null when
 * there is no earlier participant turn.
 */
export function contextWindow(text: string, previousTurns: readonly string[] | undefined, n: number): string | null {
  if (!previousTurns?.length || n <= 0) return null;
  const earlier = previousTurns
    .filter((t) => /^participant:/i.test(t))
    .map((t) => t.replace(/^participant:\s*/i, ''))
    .slice(-n);
  if (!earlier.length) return null;
  return [...earlier, text].join(' . ').slice(-MAX_ENCODED_CHARS * 2);
}

/** The texts to encode for one turn, in a fixed order: whole, window (if any), parts. */
export interface EncodingPlan {
  whole: string;
  window: string | null;
  parts: string[];
}

/** Plan the encoder inputs for a turn (all in speech form). */
export function planEncoding(text: string, previousTurns: readonly string[] | undefined, windowTurns: number): EncodingPlan {
  const whole = speechForm(text.length > MAX_ENCODED_CHARS * 2 ? `${text.slice(0, MAX_ENCODED_CHARS)} ${text.slice(-MAX_ENCODED_CHARS)}` : text);
  const window = contextWindow(text, previousTurns, windowTurns);
  return { whole, window: window === null ? null : speechForm(window), parts: turnParts(text).map(speechForm).filter((p) => p && p !== whole) };
}

/** Flatten a plan to the encoder's batch, with where each piece sits. */
export function planTexts(plan: EncodingPlan): string[] {
  return [plan.whole, ...(plan.window === null ? [] : [plan.window]), ...plan.parts];
}
