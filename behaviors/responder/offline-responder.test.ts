import { describe, expect, it } from 'vitest';
import { OfflineResponder, type ComposeRequest } from './offline-responder.js';
import { detailOf, feelingOf } from './listen-for.js';

const responder = new OfflineResponder();
const empathy = (text: string, over: Partial<ComposeRequest> = {}) =>
  responder.compose({ act: 'empathy', participantId: 'P01', sessionId: 's', studyDay: 3, turnIndex: 7, story: null, lastUtterance: text, shared: [text], ...over });

describe('offline responder', () => {
  it('reflects the feeling and a concrete detail from the participant\'s own words, then asks an open question', () => {
    const reply = empathy("When my father got sick I drove to Montreal every weekend. I was so scared.");
    expect(reply).toMatch(/your father|Montreal/);
    expect(reply).toMatch(/worry|unsettling|stressful|nerve-racking|unease|pressure/i);
    expect(reply.trim().endsWith('?')).toBe(true);
  });

  it('hears "not happy" as unhappy and mixed feelings as bittersweet, and says nothing it did not hear', () => {
    expect(feelingOf("I'm not happy about work")?.valence).toBe(-1);
    expect(feelingOf('I miss her, but thinking about it makes me smile and I feel grateful')?.id).toBe('bittersweet');
    expect(feelingOf('We moved the boxes on Tuesday')).toBeNull();
    expect(detailOf("It reminded me of my grandmother's kitchen")).toBe("your grandmother's kitchen");
    expect(detailOf('My old dog used to wait at the door')).toBe('your old dog');
    expect(detailOf('Not much, I guess.')).toBeNull();
  });

  it('accepts a short "not much" without reading feelings into it', () => {
    const reply = empathy('Not much, I guess.');
    expect(reply).not.toMatch(/sounds|hear the/i);
    expect(reply).toMatch(/fine|okay/i);
  });

  it('closes the last exchange warmly without a new question', () => {
    const reply = empathy('My sister and I finally talked after two years.', { finalExchange: true });
    expect(reply).not.toMatch(/\?/);
    expect(reply).toMatch(/your sister/);
  });

  it('varies its wording across turns and days, never one fixed line', () => {
    const text = 'It made me think about my brother and the summer we spent at the lake.';
    const replies = new Set<string>();
    for (let day = 1; day <= 10; day++) for (let turn = 0; turn < 3; turn++) replies.add(empathy(text, { studyDay: day, turnIndex: turn }));
    expect(replies.size).toBeGreaterThanOrEqual(8);
    for (const r of replies) expect(r).toMatch(/your brother/i);
    const greetings = new Set(Array.from({ length: 10 }, (_, d) => responder.compose({ act: 'greeting', participantId: 'P01', sessionId: 's', studyDay: d + 2, turnIndex: 0, story: null, lastUtterance: null, shared: [] })));
    expect(greetings.size).toBeGreaterThanOrEqual(3);
  });

  it('avoids a line it said recently when another fits', () => {
    const req: ComposeRequest = { act: 'checkin.ask', participantId: 'P01', sessionId: 's', studyDay: 4, turnIndex: 1, story: null, lastUtterance: null, shared: [] };
    const first = responder.compose(req);
    expect(responder.compose({ ...req, recentLines: [first] })).not.toBe(first);
  });

  it('says a safeguard reply as it is, and a protocol question word for word with its scale', () => {
    expect(empathy('anything', { scripted: "I'm an AI, not a person." })).toBe("I'm an AI, not a person.");
    const q = responder.compose({ act: 'survey.ask', participantId: 'P01', sessionId: 's', studyDay: 1, turnIndex: 2, story: null, lastUtterance: null, shared: [], prompt: 'I am an empathetic person.', scale: { min: 1, max: 5, labels: { 1: 'strongly disagree', 5: 'strongly agree' } } });
    expect(q).toBe('I am an empathetic person. How much does that fit you, from 1, strongly disagree, to 5, strongly agree?');
    const asked = responder.compose({ act: 'survey.ask', participantId: 'P01', sessionId: 's', studyDay: 1, turnIndex: 2, story: null, lastUtterance: null, shared: [], prompt: 'How do you feel, from 1 to 9?', scale: { min: 1, max: 9 } });
    expect(asked).toBe('How do you feel, from 1 to 9?');
  });
});

describe('offline responder, longer answers without a named feeling', () => {
  it('does not brush off a real answer as "not every story connects"', () => {
    const reply = responder.compose({ act: 'empathy', participantId: 'P01', sessionId: 's', studyDay: 1, turnIndex: 3, story: null, lastUtterance: 'He let me drive it once. I was terrified.', shared: [], finalExchange: true });
    expect(reply).not.toMatch(/not every story connects/i);
    expect(reply).toMatch(/worry|unsettling|stressful|nerve-racking|unease|pressure/i);
  });
});
