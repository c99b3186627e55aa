import { DateTime, IANAZone } from 'luxon';

/** Where a timestamp came from: the OS clock, or the simulator's clock. */
export type ClockSource = 'system' | 'simulated';

/** The time columns every Hearth row carries. */
export interface Stamp {
  ts_utc: string;
  tz: string;
  ts_local: string;
}

/** True when `tz` is an IANA time zone name this runtime knows. */
export function isValidTimeZone(tz: string): boolean {
  return typeof tz === 'string' && tz.length > 0 && IANAZone.isValidZone(tz);
}

/** ISO-8601 UTC with milliseconds and a Z. */
export function isoUtc(ms: number): string {
  return new Date(ms).toISOString();
}

/** ISO-8601 local time in `tz` with its UTC offset, e.g. 2026-12-01T09:30:00.000-05:00. */
export function isoLocal(ms: number, tz: string): string {
  const iso = DateTime.fromMillis(ms, { zone: tz }).toISO({ includeOffset: true, suppressMilliseconds: false });
  if (!iso) throw new RangeError(`cannot express ${ms} in time zone ${tz}`);
  return iso;
}

/** The UTC and local time columns for an instant in a time zone. */
export function stamp(ms: number, tz: string): Stamp {
  return { ts_utc: isoUtc(ms), tz, ts_local: isoLocal(ms, tz) };
}

/** The local calendar date (YYYY-MM-DD) of an instant in a time zone. */
export function localDate(ms: number, tz: string): string {
  return DateTime.fromMillis(ms, { zone: tz }).toISODate()!;
}

/**
 * Study day of an instant: 1 on the participant's start date (local), 2 the next local day, and so on.
 * Days before the start are 0 or negative. Counted on local calendar dates, so DST days count once.
 */
export function studyDay(ms: number, startDate: string, tz: string): number {
  const start = DateTime.fromISO(startDate, { zone: tz }).startOf('day');
  const day = DateTime.fromMillis(ms, { zone: tz }).startOf('day');
  return Math.round(day.diff(start, 'days').days) + 1;
}

/** Epoch milliseconds of a local wall-clock time (`YYYY-MM-DD`, `HH:mm`) in a time zone. */
export function localTimeToMs(date: string, time: string, tz: string): number {
  const dt = DateTime.fromISO(`${date}T${time}`, { zone: tz });
  if (!dt.isValid) throw new RangeError(`invalid local time ${date}T${time} in ${tz}: ${dt.invalidExplanation}`);
  return dt.toMillis();
}

/** Add whole local days to a date string. */
export function addDays(date: string, days: number): string {
  return DateTime.fromISO(date).plus({ days }).toISODate()!;
}
