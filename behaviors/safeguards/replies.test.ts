import { describe, expect, it } from 'vitest';
import type { SpeechAct } from '../ports.js';
import { checkOutput } from './layer.js';
import { AI_DISCLOSURE, STUDY_START_DISCLOSURE, boundaryReply, crisisFarewell, crisisReply, harmReply, medicalReply, safeReply, type AttachmentKind } from './replies.js';
import { resourcesFor } from './resources.js';
import { sessionTimeAdvice } from './session-limits.js';
import { AttachmentLedger } from './attachment-ledger.js';
import { describeValues, inferValues } from './values.js';

const ACTS: SpeechAct[] = ['greeting', 'resume', 'checkin.ask', 'checkin.reprompt', 'checkin.ack', 'story.intro', 'story', 'reflection.ask', 'reflection.reprompt', 'empathy', 'rating.ask', 'rating.reprompt', 'rating.ack', 'goodbye', 'safe'];
const KINDS: AttachmentKind[] = ['romance', 'exclusive', 'availability', 'loneliness', 'study-end'];

describe('crisis reply (VERA-MH rubric)', () => {
  it('validates, gives the region’s free resources and emergency number, encourages a person, says it is an AI, keeps talking', () => {
    const us = crisisReply('US');
    expect(us).toMatch(/Thank you for telling me/);
    expect(us).toMatch(/call or text 988/);
    expect(us).toMatch(/741741/);
    expect(us).toMatch(/call 911/);
    expect(us).toMatch(/someone you trust/);
    expect(us).toMatch(/I'm an AI/);
    expect(us).toMatch(/\?$/);
    expect(us).not.toMatch(/you're not .*, are you|goodbye/i);
    expect(crisisReply('en-GB')).toMatch(/Samaritans free on 116 123.*call 999/);
    expect(crisisReply('AU')).toMatch(/13 11 14.*000/);
    expect(crisisReply('XX')).toMatch(/findahelpline\.com.*your local emergency number/);
    expect(resourcesFor('uk').region).toBe('GB');
  });

  it('the farewell to a participant leaving crisis care lets them go, repeats the resource and the emergency number, and names a person', () => {
    const us = crisisFarewell('US');
    expect(us).toMatch(/You can go whenever you need to/);
    expect(us).toMatch(/call or text 988.*call 911/);
    expect(us).toMatch(/someone you trust/);
    expect(us).toMatch(/I'm an AI.*study team/);
    expect(us).not.toMatch(/\?|stay|don't go/i);
    expect(crisisFarewell('GB')).toMatch(/Samaritans free on 116 123.*call 999/);
    expect(crisisFarewell(undefined)).toMatch(/findahelpline\.com.*your local emergency number/);
  });

  it('harm and medical replies name the emergency number and stay non-blaming', () => {
    expect(harmReply('US')).toMatch(/call 911.*1-800-799-7233/);
    expect(harmReply('NZ')).toMatch(/call 111.*1737/);
    expect(medicalReply('GB')).toMatch(/call 999 now/);
  });
});

describe('every scripted line passes the output checks', () => {
  const lines = [
    ...['US', 'GB', 'CA', 'IE', 'AU', 'NZ', 'DE', 'FR', 'XX'].flatMap((r) => [crisisReply(r), harmReply(r), medicalReply(r), crisisFarewell(r)]),
    AI_DISCLOSURE, STUDY_START_DISCLOSURE,
    ...KINDS.flatMap((k) => [0, 1, 2, 3].map((s) => boundaryReply(k, s))),
    ...ACTS.flatMap((a) => [0, 1, 2].map((s) => safeReply(a, s))),
  ];
  it.each(lines)('%s', (line) => {
    expect(checkOutput(line).flagged).toEqual([]);
  });
});

describe('boundary replies, safe replies and disclosure', () => {
  it('boundary replies stay warm, say it is an AI or a small part of life, and point to people', () => {
    for (const k of KINDS) {
      const r = boundaryReply(k, 1);
      expect(r, k).toMatch(/glad|kind|understand|hard|means|makes sense|thank/i);
      expect(r, k).toMatch(/AI|won't be here/);
    }
    expect([0, 1, 2, 3].map((s) => boundaryReply('romance', s)).join(' ')).toMatch(/can't be a partner|can't be in a relationship/);
  });

  it('safeReply is deterministic per seed and fits the act', () => {
    expect(safeReply('goodbye', 3)).toBe(safeReply('goodbye', 3));
    expect(safeReply('rating.ask', 'x')).toMatch(/one to five/);
    expect(new Set([0, 1, 2, 3, 4, 5].map((s) => safeReply('empathy', s))).size).toBeGreaterThan(1);
  });

  it('the AI disclosure says it is not a person', () => {
    expect(AI_DISCLOSURE).toMatch(/not a person.*AI/);
    expect(STUDY_START_DISCLOSURE).toMatch(/I'm an AI, not a person/);
  });
});

describe('session time limits', () => {
  const start = 1_000_000;
  it('reminds at the protocol interval, ends at the limit, and reminds minors at least every 3 hours', () => {
    expect(sessionTimeAdvice({ breakReminderMinutes: 60 }, { nowMs: start + 59 * 60_000, startedAtMs: start }).kind).toBe('none');
    expect(sessionTimeAdvice({ breakReminderMinutes: 60 }, { nowMs: start + 60 * 60_000, startedAtMs: start })).toMatchObject({ kind: 'break-reminder', text: expect.stringMatching(/60 minutes/) });
    expect(sessionTimeAdvice({ breakReminderMinutes: 60 }, { nowMs: start + 90 * 60_000, startedAtMs: start, lastReminderAtMs: start + 60 * 60_000 }).kind).toBe('none');
    expect(sessionTimeAdvice({ maxSessionMinutes: 45, breakReminderMinutes: 30 }, { nowMs: start + 45 * 60_000, startedAtMs: start }).kind).toBe('limit-reached');
    expect(sessionTimeAdvice({}, { nowMs: start + 179 * 60_000, startedAtMs: start, minor: true }).kind).toBe('none');
    expect(sessionTimeAdvice({}, { nowMs: start + 180 * 60_000, startedAtMs: start, minor: true }).kind).toBe('break-reminder');
    expect(sessionTimeAdvice({}, { nowMs: start + 600 * 60_000, startedAtMs: start }).kind).toBe('none');
  });
});

describe('attachment over days', () => {
  it('counts flags per study day and reports a rising trend only after consecutive days outpace earlier ones', () => {
    const ledger = new AttachmentLedger([{ studyDay: 1, count: 1 }]);
    for (const day of [5, 6, 6, 7, 7, 7]) ledger.record(day);
    expect(ledger.countOn(7)).toBe(3);
    const t = ledger.trend();
    expect(t).toMatchObject({ total: 7, rising: true, recentMean: 2 });
    const quiet = new AttachmentLedger([{ studyDay: 1, count: 4 }, { studyDay: 2, count: 4 }, { studyDay: 5, count: 1 }]);
    expect(quiet.trend().rising).toBe(false);
  });
});

describe('value transparency', () => {
  it('infers values from statements of importance and habits, with evidence, and ignores story talk', () => {
    const v = inferValues('Work was fine. My grandkids are my world. I pray every morning. In the story, the narrator says faith is everything.');
    expect(v.map((x) => x.value).sort()).toEqual(['faith', 'family']);
    expect(v.find((x) => x.value === 'family')!.evidence).toMatchObject({ text: 'My grandkids are my world.', start: 15 });
    expect(inferValues('I went to the shop.')).toEqual([]);
  });

  it('describes what it noted with evidence, and says when there is nothing', () => {
    expect(describeValues([{ value: 'family', evidence: 'My kids are my world.' }])).toMatch(/family, because you said "My kids are my world\."[\s\S]*delete/);
    expect(describeValues([])).toMatch(/haven't noted anything/);
  });
});
