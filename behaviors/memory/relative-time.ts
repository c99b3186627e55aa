import { DateTime } from 'luxon';

/**
 * Spoken relative time ("yesterday", "on Monday", "last week") between when something was said and now,
 * counted on the participant's local calendar (so 23:50 → 00:10 is "yesterday", and DST days count once).
 */
export function relativeTimePhrase(thenMs: number, nowMs: number, tz: string): string {
  const then = DateTime.fromMillis(thenMs, { zone: tz });
  const now = DateTime.fromMillis(nowMs, { zone: tz });
  if (!then.isValid || !now.isValid) throw new RangeError(`relative time: invalid instant or time zone "${tz}"`);
  const days = Math.round(now.startOf('day').diff(then.startOf('day'), 'days').days);
  if (days < 0) return 'just now'; // a clock set back: do not say "in 3 days"
  if (days === 0) {
    const hours = now.diff(then, 'hours').hours;
    return hours < 1 ? 'a little while ago' : 'earlier today';
  }
  if (days === 1) return 'yesterday';
  if (days < 7) {
    // "On Monday" is clear while that Monday is in the current week or just before it.
    return `on ${then.toFormat('cccc', { locale: 'en' })}`;
  }
  if (days < 14) return 'last week';
  if (days < 28) return `${NUMBER_WORDS[Math.floor(days / 7)]} weeks ago`;
  const months = Math.max(1, Math.round(days / 30.44));
  if (days < 45) return 'about a month ago';
  if (months < 12) return `${NUMBER_WORDS[months] ?? months} months ago`;
  return 'over a year ago';
}

const NUMBER_WORDS = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten', 'eleven', 'twelve'];

/** The phrase with its first letter capitalised, for the start of a sentence. */
export function capitalise(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
