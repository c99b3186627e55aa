/**
 * The schedule: session instances in the participant's IANA time zone, and what the runtime
 * should do at a given instant (invite now, wait, or record an instance as missed or expired).
 * Pure functions: time comes in as `nowMs`, nothing is read or written here.
 */
import { DateTime } from 'luxon';
import { addDays, isoLocal, isoUtc, isValidTimeZone, localTimeToMs } from '../data/index.js';
import { minutesOf, type DaysSpec, type Protocol, type TimeSpan } from './protocol.js';
import { StudyError } from './errors.js';

/** Status of a scheduled session instance. */
export type InstanceStatus = 'scheduled' | 'delivered' | 'started' | 'completed' | 'missed' | 'expired';

/** Statuses after which an instance never changes again. */
export const FINAL_STATUSES: readonly InstanceStatus[] = ['completed', 'missed', 'expired'];

/** One session the participant is due to have: a window on one study day, and what became of it. */
export interface ScheduleInstance {
  /** Stable id, e.g. `d03-evening` (study day, then the protocol's session id). */
  id: string;
  /** The protocol's session id (`schedule.sessions[].id`). */
  slot: string;
  studyDay: number;
  /** Local calendar date of the window (YYYY-MM-DD). */
  localDate: string;
  templateId: string;
  tz: string;
  windowStartMs: number;
  windowEndMs: number;
  /** ISO-8601 with the local offset, e.g. 2026-12-01T17:00:00.000-05:00. */
  windowStartLocal: string;
  windowEndLocal: string;
  /** ISO-8601 UTC with Z. */
  windowStartUtc: string;
  windowEndUtc: string;
  status: InstanceStatus;
  /** Why it is missed or expired (or other notes); null otherwise. */
  statusReason: string | null;
  /** Invitations delivered so far. */
  invitations: number;
  lastInvitedMs: number | null;
}

/** How the runtime invites: quiet hours and invitation cadence, in the participant's zone. */
export interface SchedulePolicy {
  tz: string;
  quietHours: TimeSpan | null;
  maxInvitations: number;
  reinviteAfterMs: number;
}

/** The policy a protocol sets for a participant in `tz` (defaults: 3 invitations, 30 minutes apart). */
export function schedulePolicy(protocol: Protocol, tz: string): SchedulePolicy {
  const inv = protocol.schedule.invitations ?? {};
  return {
    tz,
    quietHours: protocol.schedule.quiet_hours ?? null,
    maxInvitations: inv.max ?? 3,
    reinviteAfterMs: (inv.every_minutes ?? 30) * 60_000,
  };
}

/** Whether a session slot runs on a study day. */
export function runsOnDay(days: DaysSpec | undefined, day: number): boolean {
  if (days === undefined || days === 'all') return true;
  if (Array.isArray(days)) return days.includes(day);
  return day >= days.from && day <= days.to && (day - days.from) % (days.every ?? 1) === 0;
}

/** The template a slot uses on a study day (its `template_by_day` override, else its template). */
export function templateFor(protocol: Protocol, slot: string, day: number): string {
  const spec = protocol.schedule.sessions.find((s) => s.id === slot);
  if (!spec) throw new RangeError(`protocol ${protocol.study.id} has no session "${slot}"`);
  return spec.template_by_day?.[String(day)] ?? spec.template;
}

/**
 * Every session instance of the study for a participant starting on `startDate` (local, day 1) in
 * `tz`, ordered by window start, all `scheduled`. Windows are local wall-clock times, so an 18:00
 * window stays at 18:00 local across daylight-saving changes (its UTC time moves by the offset).
 * A local time that does not exist (inside a spring-forward gap) moves forward by the gap; an
 * ambiguous one (in the repeated fall-back hour) takes the later instant, in standard time (luxon's rule).
 */
export function generateSchedule(protocol: Protocol, startDate: string, tz: string): ScheduleInstance[] {
  if (!isValidTimeZone(tz)) throw new StudyError(`time zone "${tz}" is not a valid IANA time zone (e.g. America/New_York)`);
  if (!DateTime.fromISO(startDate).isValid || !/^\d{4}-\d{2}-\d{2}$/.test(startDate)) throw new StudyError(`start date "${startDate}" is not a date (YYYY-MM-DD)`);
  const out: ScheduleInstance[] = [];
  for (let day = 1; day <= protocol.study.days; day++) {
    const date = addDays(startDate, day - 1);
    for (const s of protocol.schedule.sessions) {
      if (!runsOnDay(s.days, day)) continue;
      const start = localTimeToMs(date, s.window.start, tz);
      const end = localTimeToMs(date, s.window.end, tz);
      out.push({
        id: `d${String(day).padStart(2, '0')}-${s.id}`,
        slot: s.id,
        studyDay: day,
        localDate: date,
        templateId: s.template_by_day?.[String(day)] ?? s.template,
        tz,
        windowStartMs: start,
        windowEndMs: end,
        windowStartLocal: isoLocal(start, tz),
        windowEndLocal: isoLocal(end, tz),
        windowStartUtc: isoUtc(start),
        windowEndUtc: isoUtc(end),
        status: 'scheduled',
        statusReason: null,
        invitations: 0,
        lastInvitedMs: null,
      });
    }
  }
  return out.sort((a, b) => a.windowStartMs - b.windowStartMs || a.slot.localeCompare(b.slot));
}

/** Whether `ms` falls in quiet hours (local wall clock in `tz`; the span may cross midnight). */
export function inQuietHours(ms: number, quiet: TimeSpan | null, tz: string): boolean {
  if (!quiet) return false;
  const q0 = minutesOf(quiet.start)!;
  const q1 = minutesOf(quiet.end)!;
  if (q0 === q1) return false;
  const local = DateTime.fromMillis(ms, { zone: tz });
  const m = local.hour * 60 + local.minute;
  return q0 < q1 ? m >= q0 && m < q1 : m >= q0 || m < q1;
}

/** The first instant at or after `ms` outside quiet hours. */
export function endOfQuietHours(ms: number, quiet: TimeSpan | null, tz: string): number {
  if (!quiet || !inQuietHours(ms, quiet, tz)) return ms;
  const local = DateTime.fromMillis(ms, { zone: tz });
  const date = local.toISODate()!;
  const m = local.hour * 60 + local.minute;
  const q1 = minutesOf(quiet.end)!;
  // Quiet hours that started yesterday evening end today; ones that started today end tomorrow.
  return localTimeToMs(m < q1 ? date : addDays(date, 1), quiet.end, tz);
}

/** What the runtime should do now. */
export type ScheduleAction =
  /** Invite the participant to this instance now, then record it with `markDelivered`. */
  | { kind: 'invite'; instance: ScheduleInstance; attempt: number }
  /** Nothing to do before `untilMs` (re-plan then, or earlier on any event). */
  | { kind: 'wait'; untilMs: number; instance: ScheduleInstance; reason: 'before_window' | 'quiet_hours' | 'between_invitations' | 'invitations_used' }
  /** Every instance is final, or the last window has passed. */
  | { kind: 'done' };

/** A status change the runtime must record (missed and expired instances are kept, not dropped). */
export interface StatusChange {
  instance: ScheduleInstance;
  to: 'missed' | 'expired';
  reason: string;
}

/**
 * Decide, at `nowMs`, which instances have become missed or expired and what to do next.
 * - `scheduled` whose window has ended → `missed` (reason: never invited; whole window in quiet hours).
 * - `delivered` whose window has ended → `expired` (invited, never started).
 * - inside a window, outside quiet hours: invite, then re-invite every `reinviteAfterMs` up to `maxInvitations`.
 * - `started` instances are left to the session; they never block or expire here.
 */
export function planSchedule(instances: readonly ScheduleInstance[], nowMs: number, policy: SchedulePolicy): { changes: StatusChange[]; action: ScheduleAction } {
  const changes: StatusChange[] = [];
  let action: ScheduleAction | undefined;
  for (const inst of [...instances].sort((a, b) => a.windowStartMs - b.windowStartMs)) {
    if (FINAL_STATUSES.includes(inst.status) || inst.status === 'started') continue;
    if (nowMs >= inst.windowEndMs) {
      if (inst.status === 'delivered') {
        changes.push({ instance: inst, to: 'expired', reason: `invited ${inst.invitations} time${inst.invitations === 1 ? '' : 's'}, not started before the window ended` });
      } else {
        const allQuiet = endOfQuietHours(inst.windowStartMs, policy.quietHours, policy.tz) >= inst.windowEndMs;
        changes.push({ instance: inst, to: 'missed', reason: allQuiet ? 'the whole window fell in quiet hours' : 'not invited before the window ended (device off or busy)' });
      }
      continue;
    }
    if (action) continue;
    action = nextFor(inst, nowMs, policy);
  }
  return { changes, action: action ?? { kind: 'done' } };
}

function nextFor(inst: ScheduleInstance, nowMs: number, policy: SchedulePolicy): ScheduleAction {
  if (inst.status === 'delivered' && inst.invitations >= policy.maxInvitations) {
    return { kind: 'wait', untilMs: inst.windowEndMs, instance: inst, reason: 'invitations_used' };
  }
  let at = Math.max(nowMs, inst.windowStartMs);
  let reason: 'before_window' | 'quiet_hours' | 'between_invitations' = nowMs < inst.windowStartMs ? 'before_window' : 'between_invitations';
  if (inst.status === 'delivered' && inst.lastInvitedMs !== null && inst.lastInvitedMs + policy.reinviteAfterMs > at) {
    at = inst.lastInvitedMs + policy.reinviteAfterMs;
    reason = 'between_invitations';
  }
  const free = endOfQuietHours(at, policy.quietHours, policy.tz);
  if (free > at) reason = 'quiet_hours';
  if (free >= inst.windowEndMs) return { kind: 'wait', untilMs: inst.windowEndMs, instance: inst, reason };
  if (free <= nowMs) return { kind: 'invite', instance: inst, attempt: inst.invitations + 1 };
  return { kind: 'wait', untilMs: free, instance: inst, reason };
}

const ALLOWED: Record<InstanceStatus, readonly InstanceStatus[]> = {
  scheduled: ['delivered', 'started', 'missed'],
  delivered: ['delivered', 'started', 'expired'],
  started: ['completed', 'expired'],
  completed: [],
  missed: [],
  expired: [],
};

/** Move an instance to a new status; throws on a transition the lifecycle does not allow. */
export function transition(inst: ScheduleInstance, to: InstanceStatus, atMs: number, reason: string | null = null): ScheduleInstance {
  if (!ALLOWED[inst.status].includes(to)) throw new RangeError(`schedule instance ${inst.id}: cannot go from ${inst.status} to ${to}`);
  const next: ScheduleInstance = { ...inst, status: to, statusReason: reason };
  if (to === 'delivered') {
    next.invitations = inst.invitations + 1;
    next.lastInvitedMs = atMs;
  }
  return next;
}

/** Record that an invitation was delivered (spoken or shown) at `atMs`. */
export const markDelivered = (inst: ScheduleInstance, atMs: number): ScheduleInstance => transition(inst, 'delivered', atMs);

/**
 * The instance a participant may start now on their own ("let's talk"): the open window's
 * instance, not yet started or final. Undefined outside every window.
 */
export function instanceOpenAt(instances: readonly ScheduleInstance[], nowMs: number): ScheduleInstance | undefined {
  return instances.find((i) => (i.status === 'scheduled' || i.status === 'delivered') && nowMs >= i.windowStartMs && nowMs < i.windowEndMs);
}

/** The schedule as the CLI's `--json` prints it: snake_case, ISO times with offset and with Z. */
export function scheduleRows(instances: readonly ScheduleInstance[]): Record<string, unknown>[] {
  return instances.map((i) => ({
    id: i.id,
    study_day: i.studyDay,
    slot: i.slot,
    template: i.templateId,
    local_date: i.localDate,
    tz: i.tz,
    window_start_local: i.windowStartLocal,
    window_end_local: i.windowEndLocal,
    window_start_utc: i.windowStartUtc,
    window_end_utc: i.windowEndUtc,
    status: i.status,
    status_reason: i.statusReason,
    invitations: i.invitations,
  }));
}
