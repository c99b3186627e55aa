import { describe, expect, it } from 'vitest';
import { localTimeToMs } from '../../data/index.js';
import { relativeTimePhrase } from './relative-time.js';

const TZ = 'Europe/London';
const t = (d: string, h = '12:00') => localTimeToMs(d, h, TZ);

describe('relative time phrases on the participant\'s calendar', () => {
  it.each([
    ['2026-03-10', '11:30', 'a little while ago'],
    ['2026-03-10', '08:00', 'earlier today'],
    ['2026-03-09', '23:50', 'yesterday'],
    ['2026-03-07', '12:00', 'on Saturday'],
    ['2026-03-04', '12:00', 'on Wednesday'],
    ['2026-03-03', '12:00', 'last week'],
    ['2026-02-25', '12:00', 'last week'],
    ['2026-02-24', '12:00', 'two weeks ago'],
    ['2026-02-14', '12:00', 'three weeks ago'],
    ['2026-02-05', '12:00', 'about a month ago'],
    ['2025-12-10', '12:00', 'three months ago'],
    ['2025-01-01', '12:00', 'over a year ago'],
  ])('%s %s seen on 2026-03-10 12:00 is "%s"', (d, h, phrase) => {
    expect(relativeTimePhrase(t(d, h), t('2026-03-10'), TZ)).toBe(phrase);
  });

  it('counts local days, not 24-hour spans (10 minutes apart across midnight is yesterday)', () => {
    expect(relativeTimePhrase(t('2026-03-09', '23:55'), t('2026-03-10', '00:05'), TZ)).toBe('yesterday');
  });

  it('uses the participant\'s zone: the same instants are today in Tokyo and yesterday in London', () => {
    const then = Date.UTC(2026, 2, 9, 23, 0); // 23:00 London, 08:00 next day in Tokyo
    const now = Date.UTC(2026, 2, 10, 10, 0);
    expect(relativeTimePhrase(then, now, 'Europe/London')).toBe('yesterday');
    expect(relativeTimePhrase(then, now, 'Asia/Tokyo')).toBe('earlier today');
  });

  it('survives the clock going backwards', () => {
    expect(relativeTimePhrase(t('2026-03-11'), t('2026-03-10'), TZ)).toBe('just now');
  });
});
