/** Understanding what a participant's words mean for the flow of a session. */
import { normalise } from '../../data/index.js';
import type { ResponseScale, ScaleAnswer, UnclearReason } from '../../study-protocol/index.js';

/** Whether the participant is asking to end the session now (read in the normal form: "don't" is "do not"). */
export function wantsToStop(text: string): boolean {
  const t = normalise(text);
  if (/\b(do not|did not|never) (want to )?(stop|quit|go)\b/.test(t)) return false;
  if (/\b(i (have|need|have got|got) to go|let us stop|can we stop|i want to stop|(stop|end) (the|this) session|that is enough for today)\b/.test(t)) return true;
  // "bye" or "stop" alone is a request; inside a longer story ("I said goodbye to my dad") it is not.
  return t.split(' ').length <= 4 && /\b(stop|goodbye|bye|quit)\b/.test(t);
}

/** Ways of saying yes or no that the recogniser listens for on a yes/no question (parseYesNo reads them all). */
export const YES_NO_ANSWERS: readonly string[] = [
  'yes', 'yeah', 'yep', 'sure', 'okay', 'ok', 'of course', 'yes please', 'i agree', 'i consent', 'that is fine', 'go ahead', 'absolutely', 'that is right',
  'no', 'nope', 'no thanks', 'no thank you', 'i do not agree', 'i do not consent', 'rather not', 'not really', 'that is wrong',
];
/** Answers every question accepts besides its scale: skipping, not knowing, asking again. */
// Not "what", "sorry" or "pass": one-syllable phrases in a small grammar take the place of misheard numbers
// (measured: "one" → "what", "nine" → "sorry"); the open pass still hears them and the session reads them.
const ANY_QUESTION: readonly string[] = ['skip', 'skip it', 'next question', 'i do not know', 'not sure', 'can you repeat that', 'say that again'];
const numberWord = (n: number): string => ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten', 'eleven', 'twelve'][n] ?? String(n);

/**
 * The phrases that answer a question on this scale, for a recogniser constrained to them: its numbers
 * (also "four out of nine"), labels and other phrases, yes/no and their common variants (not numbers) on a 0–1 scale,
 * and "skip" / "I don't know" / "say that again".
 */
export function acceptedAnswers(scale: ResponseScale): string[] {
  const out: string[] = [];
  const yesNo = scale.min === 0 && scale.max === 1;
  if (yesNo) out.push(...YES_NO_ANSWERS);
  // A yes/no question is answered in words: "zero" and "one" in its grammar only give a misheard
  // "yeah" somewhere to land (measured: "yeah" → "zero"); typed "1" / "0" are still read by the parser.
  for (let n = scale.min; !yesNo && n <= scale.max && n - scale.min <= 20; n++) {
    out.push(numberWord(n), `${numberWord(n)} out of ${numberWord(scale.max)}`);
  }
  for (const label of Object.values(scale.labels ?? {})) out.push(label);
  for (const list of Object.values(scale.phrases ?? {})) out.push(...list);
  out.push(...ANY_QUESTION);
  return [...new Set(out.map((p) => p.trim()).filter(Boolean))];
}

/**
 * At or above this the answer the constrained pass heard is taken as given. Chosen on the benchmark's
 * calibration voices as the lowest figure at which no wrong answer was accepted (npm run bench:asr).
 */
export const ACCEPT_ANSWER_CONFIDENCE = 0.95;
/** An answer the open pass heard too is taken as given from this confidence up (below, it is said back). */
export const AGREED_ANSWER_CONFIDENCE = 0.5;
/** An open-only answer (no constrained pass) with a recogniser confidence below this is said back. */
export const OPEN_ANSWER_CONFIDENCE = 0.8;
/** Below this an answer heard is not even offered back for confirmation: the question is asked again. */
export const CONFIRM_ANSWER_FLOOR = 0.15;

/** What to do with what was heard in answer to a questionnaire item. */
export type AnswerDecision =
  /** Store it. */
  | { kind: 'accept'; answer: ScaleAnswer & { kind: 'value' | 'skip' }; text: string; confidence?: number; alternatives: AnswerAlternative[] }
  /** Say it back and store it only on a yes. */
  | { kind: 'confirm'; answer: ScaleAnswer & { kind: 'value' | 'skip' }; text: string; confidence: number; alternatives: AnswerAlternative[] }
  /** Not an answer (or too unsure to offer back): ask again with this reason. */
  | { kind: 'unclear'; reason: UnclearReason };

/** A recognised answer's alternative, as an utterance carries it. */
export interface AnswerAlternative {
  text: string;
  confidence?: number;
}

/** An utterance as far as understanding an answer needs: the open text, its confidence, the constrained pass. */
export interface HeardReply {
  text: string;
  confidence?: number;
  answer?: { text: string; confidence: number; alternatives: readonly AnswerAlternative[] };
}

/**
 * Decide on an answer to an item. With a constrained pass: its confidence at or above
 * ACCEPT_ANSWER_CONFIDENCE (unless the open pass heard a sentence of three or more words without it),
 * or at or above AGREED_ANSWER_CONFIDENCE with the open text agreeing, stores it; a less sure answer is
 * confirmed by voice; one below CONFIRM_ANSWER_FLOOR, or an open text that is
 * clearly another answer, is asked again. Without one (typed, or a recogniser with no constrained pass):
 * the open text on the scale, confirmed when its recogniser confidence is below OPEN_ANSWER_CONFIDENCE.
 */
export function decideAnswer(heard: HeardReply, parse: (text: string) => ScaleAnswer): AnswerDecision {
  const open = parse(heard.text);
  const a = heard.answer;
  if (a && a.text) {
    const constrained = parse(a.text);
    const alternatives = [...a.alternatives];
    if (constrained.kind === 'value' || constrained.kind === 'skip') {
      const same = open.kind === constrained.kind && (open.kind !== 'value' || (constrained.kind === 'value' && open.value === constrained.value));
      // Both passes hearing "one" is good evidence, but not proof: "I think that one" for "I think seven".
      // A sentence the open pass heard without the answer in it ("my daughter called me this morning"
      // heard as "nine") is never stored on the constrained pass alone: it is said back first.
      const sentence = !same && heard.text.trim().split(/\s+/).filter(Boolean).length >= 3;
      if ((same && a.confidence >= AGREED_ANSWER_CONFIDENCE) || (a.confidence >= ACCEPT_ANSWER_CONFIDENCE && !sentence)) return { kind: 'accept', answer: constrained, text: a.text, confidence: a.confidence, alternatives };
      // The open pass heard a different clear answer: neither is sure enough to store or offer back.
      if (open.kind === 'value' || open.kind === 'skip') return { kind: 'unclear', reason: 'ambiguous' };
      if (a.confidence >= CONFIRM_ANSWER_FLOOR) return { kind: 'confirm', answer: constrained, text: a.text, confidence: a.confidence, alternatives };
      return { kind: 'unclear', reason: open.kind === 'unclear' ? open.reason : 'no_match' };
    }
    // The constrained pass heard "I don't know" or "say that again" and was sure of it.
    if (a.confidence >= ACCEPT_ANSWER_CONFIDENCE && open.kind === 'unclear') return { kind: 'unclear', reason: constrained.kind === 'unclear' ? constrained.reason : 'no_match' };
  }
  if (open.kind === 'unclear') return open;
  if (heard.confidence !== undefined && heard.confidence < OPEN_ANSWER_CONFIDENCE) return { kind: 'confirm', answer: open, text: heard.text, confidence: heard.confidence, alternatives: [] };
  return { kind: 'accept', answer: open, text: heard.text, ...(heard.confidence !== undefined ? { confidence: heard.confidence } : {}), alternatives: [] };
}

/** How sure the recogniser is of what matters in this utterance: its constrained answer when it heard one it is surer of. */
export function recognitionConfidence(heard: HeardReply): number | undefined {
  if (heard.answer?.text && heard.confidence !== undefined) return Math.max(heard.confidence, heard.answer.confidence);
  return heard.answer?.text ? heard.answer.confidence : heard.confidence;
}

/** The line that says an unsure answer back: "I heard four. Is that right?" (labels kept: "strongly agree"). */
export function confirmationLine(text: string, answer: ScaleAnswer): string {
  if (answer.kind === 'skip') return 'I think you said to skip this one. Is that right?';
  return `I want to be sure I heard you: ${text.trim()}. Is that right?`;
}
