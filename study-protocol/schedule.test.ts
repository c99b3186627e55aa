import { describe, expect, it } from 'vitest';
import { studyDay } from '../data/index.js';
import { BUNDLED_PROTOCOL, loadProtocol, type Protocol } from './index.js';
import {
  endOfQuietHours, generateSchedule, inQuietHours, instanceOpenAt, markDelivered, planSchedule, schedulePolicy, transition,
  type ScheduleInstance,
} from './schedule.js';

const { protocol } = loadProtocol(BUNDLED_PROTOCOL);
const at = (iso: string): number => Date.parse(iso);
const byDate = (instances: ScheduleInstance[], date: string) => instances.find((i) => i.localDate === date)!;

describe('generateSchedule across daylight-saving changes', () => {
  it('keeps the 17:00 window at 17:00 local in New York when DST ends (2026-11-01)', () => {
    const s = generateSchedule(protocol, '2026-10-20', 'America/New_York');
    expect(s).toHaveLength(30);
    const before = byDate(s, '2026-10-31');
    const after = byDate(s, '2026-11-01');
    expect(before.windowStartLocal).toBe('2026-10-31T17:00:00.000-04:00');
    expect(before.windowStartUtc).toBe('2026-10-31T21:00:00.000Z');
    expect(after.windowStartLocal).toBe('2026-11-01T17:00:00.000-05:00');
    expect(after.windowStartUtc).toBe('2026-11-01T22:00:00.000Z');
    expect(after.windowStartMs - before.windowStartMs).toBe(25 * 3600_000);
    expect(after.windowEndMs - after.windowStartMs).toBe(4 * 3600_000);
  });

  it('keeps it at 17:00 local when DST starts (2027-03-14)', () => {
    const s = generateSchedule(protocol, '2027-03-01', 'America/New_York');
    const before = byDate(s, '2027-03-13');
    const after = byDate(s, '2027-03-14');
    expect(before.windowStartLocal).toBe('2027-03-13T17:00:00.000-05:00');
    expect(after.windowStartLocal).toBe('2027-03-14T17:00:00.000-04:00');
    expect(after.windowStartUtc).toBe('2027-03-14T21:00:00.000Z');
    expect(after.windowStartMs - before.windowStartMs).toBe(23 * 3600_000);
  });

  it('keeps it at 17:00 local in Berlin when summer time ends (2026-10-25)', () => {
    const s = generateSchedule(protocol, '2026-10-10', 'Europe/Berlin');
    expect(byDate(s, '2026-10-24').windowStartUtc).toBe('2026-10-24T15:00:00.000Z');
    expect(byDate(s, '2026-10-25').windowStartLocal).toBe('2026-10-25T17:00:00.000+01:00');
    expect(byDate(s, '2026-10-25').windowStartUtc).toBe('2026-10-25T16:00:00.000Z');
  });

  it('numbers study days on local dates, with templates per day and stable ids', () => {
    const s = generateSchedule(protocol, '2026-10-20', 'America/New_York');
    s.forEach((inst, i) => {
      expect(inst.studyDay).toBe(i + 1);
      expect(studyDay(inst.windowStartMs, '2026-10-20', 'America/New_York')).toBe(inst.studyDay);
      expect(inst.status).toBe('scheduled');
    });
    expect(s[0]).toMatchObject({ id: 'd01-evening', templateId: 'first_day' });
    expect(s[1]!.templateId).toBe('daily_story');
    expect(s[29]).toMatchObject({ id: 'd30-evening', templateId: 'last_day', localDate: '2026-11-18' });
  });

  it('moves a window that starts in the spring-forward gap to the first real instant, and takes standard time for an ambiguous fall-back start', () => {
    const night = (start: string, end: string): Protocol => {
      const p: Protocol = structuredClone(protocol);
      p.schedule.quiet_hours = undefined;
      p.schedule.sessions = [{ id: 'night', window: { start, end }, days: 'all', template: 'daily_story' }];
      return p;
    };
    const spring = byDate(generateSchedule(night('02:30', '04:00'), '2027-03-10', 'America/New_York'), '2027-03-14');
    expect(spring.windowStartLocal).toBe('2027-03-14T03:30:00.000-04:00');
    expect(spring.windowEndMs - spring.windowStartMs).toBe(30 * 60_000);
    const fall = byDate(generateSchedule(night('01:30', '03:45'), '2026-10-30', 'America/New_York'), '2026-11-01');
    expect(fall.windowStartLocal).toBe('2026-11-01T01:30:00.000-05:00');
    expect(fall.windowEndMs - fall.windowStartMs).toBe(135 * 60_000);
  });

  it('rejects an invalid time zone and a malformed date', () => {
    expect(() => generateSchedule(protocol, '2026-12-01', 'America/Gotham')).toThrow(/time zone "America\/Gotham" is not a valid IANA time zone/);
    expect(() => generateSchedule(protocol, '2026-13-01', 'UTC')).toThrow(/start date "2026-13-01" is not a date/);
  });
});

describe('quiet hours', () => {
  const quiet = { start: '21:30', end: '08:00' };
  it('cross midnight in local time, including the fall-back night', () => {
    const tz = 'America/New_York';
    expect(inQuietHours(at('2026-11-01T05:30:00Z'), quiet, tz)).toBe(true); // 01:30 EDT
    expect(inQuietHours(at('2026-11-01T06:30:00Z'), quiet, tz)).toBe(true); // 01:30 EST
    expect(new Date(endOfQuietHours(at('2026-11-01T05:30:00Z'), quiet, tz)).toISOString()).toBe('2026-11-01T13:00:00.000Z'); // 08:00 EST
    expect(new Date(endOfQuietHours(at('2026-11-02T02:45:00Z'), quiet, tz)).toISOString()).toBe('2026-11-02T13:00:00.000Z'); // from 21:45 the evening before
    expect(inQuietHours(at('2026-11-01T22:00:00Z'), quiet, tz)).toBe(false); // 17:00 EST
  });
});

describe('planSchedule', () => {
  const tz = 'America/New_York';
  const policy = schedulePolicy(protocol, tz);
  const s = generateSchedule(protocol, '2026-12-01', tz);
  const day1 = s[0]!;

  it('waits for the window, invites inside it, re-invites on cadence, then expires with a reason', () => {
    let plan = planSchedule(s, at('2026-12-01T15:00:00-05:00'), policy);
    expect(plan.action).toMatchObject({ kind: 'wait', reason: 'before_window', untilMs: day1.windowStartMs });
    plan = planSchedule(s, day1.windowStartMs, policy);
    expect(plan.action).toMatchObject({ kind: 'invite', attempt: 1, instance: { id: 'd01-evening' } });

    let inst = markDelivered(day1, day1.windowStartMs);
    const rest = s.slice(1);
    plan = planSchedule([inst, ...rest], day1.windowStartMs + 10 * 60_000, policy);
    expect(plan.action).toMatchObject({ kind: 'wait', reason: 'between_invitations', untilMs: day1.windowStartMs + 40 * 60_000 });
    inst = markDelivered(inst, day1.windowStartMs + 40 * 60_000);
    inst = markDelivered(inst, day1.windowStartMs + 80 * 60_000);
    plan = planSchedule([inst, ...rest], day1.windowStartMs + 121 * 60_000, policy);
    expect(plan.action).toMatchObject({ kind: 'wait', reason: 'invitations_used', untilMs: day1.windowEndMs });

    plan = planSchedule([inst, ...rest], day1.windowEndMs, policy);
    expect(plan.changes).toEqual([{ instance: inst, to: 'expired', reason: 'invited 3 times, not started before the window ended' }]);
    expect(plan.action).toMatchObject({ kind: 'wait', reason: 'before_window', instance: { id: 'd02-evening' } });
  });

  it('records a window that passed while the device was off as missed, instead of dropping it', () => {
    const plan = planSchedule(s, at('2026-12-03T12:00:00-05:00'), policy);
    expect(plan.changes.map((c) => [c.instance.id, c.to, c.reason])).toEqual([
      ['d01-evening', 'missed', 'not invited before the window ended (device off or busy)'],
      ['d02-evening', 'missed', 'not invited before the window ended (device off or busy)'],
    ]);
    expect(plan.action).toMatchObject({ kind: 'wait', instance: { id: 'd03-evening' } });
  });

  it('leaves started sessions alone and is done after the last window', () => {
    const started = transition(day1, 'started', day1.windowStartMs);
    expect(planSchedule([started], day1.windowEndMs + 3600_000, policy)).toEqual({ changes: [], action: { kind: 'done' } });
    expect(instanceOpenAt(s, day1.windowStartMs + 1)?.id).toBe('d01-evening');
    expect(instanceOpenAt(s, day1.windowEndMs)).toBeUndefined();
    expect(() => transition(started, 'delivered', 0)).toThrow(/cannot go from started to delivered/);
  });

  it('never invites during quiet hours, across a month with DST, when quiet hours cut into the window', () => {
    const p: Protocol = structuredClone(protocol);
    p.schedule.quiet_hours = { start: '20:00', end: '08:00' };
    p.schedule.sessions = [
      { id: 'morning', window: { start: '07:00', end: '09:30' }, days: 'all', template: 'daily_story' },
      { id: 'evening', window: { start: '17:00', end: '21:00' }, days: 'all', template: 'daily_story' },
    ];
    const pol = schedulePolicy(p, tz);
    let instances = generateSchedule(p, '2026-10-20', tz);
    let now = at('2026-10-19T12:00:00Z');
    const invites: { id: string; at: number }[] = [];
    for (let guard = 0; guard < 10_000; guard++) {
      const plan = planSchedule(instances, now, pol);
      for (const c of plan.changes) instances = instances.map((i) => (i.id === c.instance.id ? transition(i, c.to, now, c.reason) : i));
      if (plan.action.kind === 'done') break;
      if (plan.action.kind === 'invite') {
        const id = plan.action.instance.id;
        invites.push({ id, at: now });
        instances = instances.map((i) => (i.id === id ? markDelivered(i, now) : i));
        now += 60_000;
      } else {
        expect(plan.action.untilMs).toBeGreaterThan(now);
        now = plan.action.untilMs;
      }
    }
    expect(invites.length).toBeGreaterThan(100);
    for (const inv of invites) expect(inQuietHours(inv.at, pol.quietHours, tz), new Date(inv.at).toISOString()).toBe(false);
    const morning = invites.filter((i) => i.id.endsWith('morning'));
    // Morning windows 07:00–09:30 with quiet hours until 08:00: invitations at 08:00, 08:40, 09:20 local.
    expect(new Set(morning.map((i) => new Date(i.at).toLocaleTimeString('en-GB', { timeZone: tz })))).toEqual(new Set(['08:00:00', '08:40:00', '09:20:00']));
    const evening = invites.filter((i) => i.id.endsWith('evening'));
    expect(new Set(evening.map((i) => new Date(i.at).toLocaleTimeString('en-GB', { timeZone: tz })))).toEqual(new Set(['17:00:00', '17:40:00', '18:20:00']));
    expect(instances.every((i) => i.status === 'expired')).toBe(true);
  });
});
