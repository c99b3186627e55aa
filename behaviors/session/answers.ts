/** Understanding what a participant's words mean for the flow of a session. */

/** Lower-case, apostrophes to spaces, punctuation removed, single spaces. */
export function normalise(text: string): string {
  return text.toLowerCase().replace(/[’']/g, ' ').replace(/[^a-z0-9\s]/g, ' ').replace(/\s+/g, ' ').trim();
}

/** Whether the participant is asking to end the session now. */
export function wantsToStop(text: string): boolean {
  const t = normalise(text);
  if (/\b(don t|do not|didn t|never) (want to )?(stop|quit|go)\b/.test(t)) return false;
  if (/\b(i (have|need|ve got|got) to go|let s stop|can we stop|i want to stop|(stop|end) (the|this) session|that s enough for today)\b/.test(t)) return true;
  // "bye" or "stop" alone is a request; inside a longer story ("I said goodbye to my dad") it is not.
  return t.split(' ').length <= 4 && /\b(stop|goodbye|bye|quit)\b/.test(t);
}
