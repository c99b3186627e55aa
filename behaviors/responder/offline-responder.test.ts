import { describe, expect, it } from 'vitest';
import { handsOverFloor, OfflineResponder, type ComposeRequest } from './offline-responder.js';
import { acknowledges } from './acknowledge.js';
import { detailOf, feelingOf } from './listen-for.js';
import { labelTurn, sumReuse, type Tactic } from './tactics.js';

const responder = new OfflineResponder();
const empathy = (text: string, over: Partial<ComposeRequest> = {}) =>
  responder.compose({ act: 'empathy', participantId: 'P01', sessionId: 's', studyDay: 3, turnIndex: 7, story: null, lastUtterance: text, shared: [text], ...over });

describe('offline responder', () => {
  it('says back the feeling or a concrete detail from the participant\'s own words, then asks an open question', () => {
    const said = "When my father got sick I drove to Montreal every weekend. I was so scared.";
    for (let turn = 0; turn < 12; turn++) {
      const reply = empathy(said, { turnIndex: turn });
      expect(reply, reply).toMatch(/your father|Montreal|worry|unsettling|stressful|nerve-racking|unease|pressure/i);
      expect(acknowledges(said, reply), reply).toBe(true);
      expect(reply.trim().endsWith('?')).toBe(true);
    }
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
    expect(reply).toMatch(/fine|okay|all right|fair enough|no problem/i);
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
    for (const r of replies) expect(acknowledges(text, r), r).toBe(true);
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
    expect(acknowledges('He let me drive it once. I was terrified.', reply), reply).toBe(true);
  });
});

describe('offline responder, discourse moves (issue 15)', () => {
  const shares = [
    'It reminded me of when my son and I got lost near the lake near our old house. We laughed about it for years.',
    "I had a big argument with my neighbour once and I regret the things I said.",
    'When I moved to Toronto I did not know anyone, and my aunt called me every single night.',
    'I felt proud, like when my father saw me graduate. I did not expect to feel so emotional.',
    'My partner was sick last year and I spent a lot of time at the hospital. I was scared.',
    'It made me think about Manila, where I grew up. I miss how simple things felt back then.',
  ];
  const followUps = ['Honestly, it was hard, but it made us closer.', 'I still have the letters from back then in a box.', 'Mostly I felt grateful, looking back.'];
  const ask = 'What did that story bring up for you?';

  it('does not repeat the moves of its previous turn: next-turn reuse stays at or below the human 0.27', () => {
    const conversations: Set<Tactic>[][] = [];
    for (let day = 1; day <= 30; day++) {
      const share = shares[day % shares.length]!;
      const first = empathy(share, { studyDay: day, turnIndex: 6, previousLine: ask });
      const second = empathy(followUps[day % followUps.length]!, { studyDay: day, turnIndex: 7, previousLine: first, finalExchange: true });
      conversations.push([labelTurn(ask), labelTurn(first), labelTurn(second)]);
      // The closing turn says back the follow-up too, sharing at most one move with the turn before it.
      expect(acknowledges(followUps[day % followUps.length]!, second), second).toBe(true);
      expect([...labelTurn(second)].filter((t) => labelTurn(first).has(t)).length, `${first} / ${second}`).toBeLessThanOrEqual(1);
    }
    expect(sumReuse(conversations).rate).toBeLessThanOrEqual(0.27);
  });

  it('asks and reflects in turn: after a question, every other reply says back what it heard and hands over the floor without asking', () => {
    let statements = 0;
    for (let day = 1; day <= 30; day++) {
      const share = shares[day % shares.length]!;
      const first = empathy(share, { studyDay: day, sessionId: `s${day}`, turnIndex: 6, previousLine: ask });
      expect(acknowledges(share, first), first).toBe(true);
      expect(handsOverFloor(first), first).toBe(true);
      if (first.includes('?')) continue;
      statements++;
      expect(labelTurn(first).has('exploration'), first).toBe(false);
      // After a statement, the next turn that goes on asks.
      const more = followUps[day % followUps.length]!;
      const second = empathy(more, { studyDay: day, sessionId: `s${day}`, turnIndex: 7, previousLine: first });
      expect(second.trim().endsWith('?'), second).toBe(true);
      expect(acknowledges(more, second), second).toBe(true);
    }
    expect(statements).toBeGreaterThanOrEqual(8);
    expect(statements).toBeLessThanOrEqual(22);
    expect(handsOverFloor('That sounds hard.')).toBe(false);
  });

  it('never says one empathy line verbatim more than twice in a month to the same participant', () => {
    const recent: string[] = [];
    const count = new Map<string, number>();
    for (let day = 1; day <= 30; day++) {
      // The hardest case: the same short answers every day, so no detail makes lines differ.
      for (const [turn, said] of [[6, 'Not much, I guess.'], [7, 'Okay.']] as const) {
        const line = empathy(said, { studyDay: day, turnIndex: turn, finalExchange: turn === 7, recentLines: [...recent] });
        recent.unshift(line);
        count.set(line, (count.get(line) ?? 0) + 1);
      }
    }
    expect(Math.max(...count.values())).toBeLessThanOrEqual(2);
  });

  it('tries other plans of moves, not only other wordings, before saying a closing line a third time', () => {
    // Found by `npm run bench:dialogue`: a neutral follow-up with nothing to say back ("I'm not sure. It was
    // complicated.") closed with the same plan's two wordings, one said 6 times in a month.
    const recent: string[] = [];
    const count = new Map<string, number>();
    const neutral = ["I'm not sure. It was complicated.", 'I guess I learned to ask for help.', 'It made me want to call my cousin, actually.'];
    for (let day = 1; day <= 30; day++) {
      const line = empathy(neutral[day % neutral.length]!, { studyDay: day, sessionId: `s${day}`, turnIndex: 7, finalExchange: true, previousLine: 'That makes a lot of sense. What was that like for you?', recentLines: [...recent] });
      recent.unshift(line);
      count.set(line, (count.get(line) ?? 0) + 1);
    }
    expect(Math.max(...count.values()), JSON.stringify([...count])).toBeLessThanOrEqual(2);
  });

  it('acknowledges a check-in disclosure by saying back what was told, not a generic thanks', () => {
    const said = "Honestly, not great. I had a fight with my sister about our mother's care.";
    for (let day = 1; day <= 10; day++) {
      const ack = responder.compose({ act: 'checkin.ack', participantId: 'P01', sessionId: `s${day}`, studyDay: day, turnIndex: 2, story: null, lastUtterance: said, shared: [], previousLine: 'How are you feeling today?' });
      expect(ack, ack).toMatch(/your sister|your mother/);
      expect(acknowledges(said, ack)).toBe(true);
      expect(ack).not.toMatch(/\?/);
    }
    expect(acknowledges(said, 'Thank you for sharing that with me.')).toBe(false);
  });

  it('never names an adjective as the detail ("The nice seems to mean a lot here")', () => {
    expect(detailOf('Not much, to be honest. It was a nice story though.')).toBeNull();
    const reply = empathy('Not much, to be honest. It was a nice story though.');
    expect(reply).not.toMatch(/\bthe nice\b/i);
  });
});
