/** Understanding what a participant's words mean for the flow of a session. */
import { normalise } from '../../data/index.js';

/** Whether the participant is asking to end the session now (read in the normal form: "don't" is "do not"). */
export function wantsToStop(text: string): boolean {
  const t = normalise(text);
  if (/\b(do not|did not|never) (want to )?(stop|quit|go)\b/.test(t)) return false;
  if (/\b(i (have|need|have got|got) to go|let us stop|can we stop|i want to stop|(stop|end) (the|this) session|that is enough for today)\b/.test(t)) return true;
  // "bye" or "stop" alone is a request; inside a longer story ("I said goodbye to my dad") it is not.
  return t.split(' ').length <= 4 && /\b(stop|goodbye|bye|quit)\b/.test(t);
}
