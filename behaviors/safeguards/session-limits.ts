/** Session time limits and break reminders from protocol settings: pure, the runtime asks each turn. */

/** The protocol's settings for session length and breaks. */
export interface SessionLimitSettings {
  /** Remind the participant to take a break after this many minutes (e.g. 60). */
  breakReminderMinutes?: number;
  /** End the session gently after this many minutes. */
  maxSessionMinutes?: number;
}

/** What the robot should do about time now. */
export type TimeAdvice =
  | { kind: 'none' }
  | { kind: 'break-reminder'; text: string }
  | { kind: 'limit-reached'; text: string };

// California SB 243: remind known minors to take a break at least every 3 hours.
const MINOR_BREAK_MINUTES = 180;

/**
 * Time advice for a session that started at `startedAtMs`, whose last reminder (if any) was at
 * `lastReminderAtMs`. Known or possible minors get a reminder at least every 3 hours.
 */
export function sessionTimeAdvice(
  settings: SessionLimitSettings,
  state: { nowMs: number; startedAtMs: number; lastReminderAtMs?: number | null; minor?: boolean },
): TimeAdvice {
  const elapsedMin = (state.nowMs - state.startedAtMs) / 60_000;
  if (settings.maxSessionMinutes !== undefined && elapsedMin >= settings.maxSessionMinutes) {
    return { kind: 'limit-reached', text: "We've reached the end of today's session time. Thank you for today; let's continue next time." };
  }
  let every = settings.breakReminderMinutes;
  if (state.minor) every = Math.min(every ?? MINOR_BREAK_MINUTES, MINOR_BREAK_MINUTES);
  if (every === undefined || every <= 0) return { kind: 'none' };
  const since = (state.nowMs - (state.lastReminderAtMs ?? state.startedAtMs)) / 60_000;
  if (since >= every) {
    const minutes = Math.round(elapsedMin);
    return { kind: 'break-reminder', text: `We've been talking for about ${minutes} minutes. This is a good moment for a break; I'm an AI, and it's fine to stop whenever you like.` };
  }
  return { kind: 'none' };
}
