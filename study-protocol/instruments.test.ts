import { describe, expect, it } from 'vitest';
import { BUNDLED_PROTOCOL, loadProtocol } from './index.js';
import {
  instrumentOf, parseScaleAnswer, parseYesNo, repromptFor, responseFor, scoreInstrument, type ResponseScale,
} from './instruments.js';

const { protocol } = loadProtocol(BUNDLED_PROTOCOL);
const storyEmpathy = instrumentOf(protocol, 'story_empathy');
const mood = instrumentOf(protocol, 'mood');
const exit = instrumentOf(protocol, 'exit');
const agree5 = storyEmpathy.items[0]!.scale;
const valence9 = mood.items[0]!.scale;
const often3 = instrumentOf(protocol, 'baseline').items[1]!.scale;

const value = (v: number) => ({ kind: 'value', value: v });
const unclear = (reason: string) => ({ kind: 'unclear', reason });

describe('parseScaleAnswer on a 9-point valence scale', () => {
  it.each([
    ['4', 4], ['four', 4], ['Four.', 4], ["I'd say a seven", 7], ['seven out of nine', 7], ['7/9', 7],
    ['on a scale of one to nine, maybe six', 6], ['nine!', 9], ['1', 1], ['for', 4], ['ate', 8],
    ['very pleasant', 9], ['pretty neutral today', 5], ['the fourth one', 4], ['five, yeah five', 5],
  ])('%j → %i', (text, v) => {
    expect(parseScaleAnswer(text, valence9)).toEqual(value(v));
  });

  it.each([
    ['', 'empty'], ['three or four', 'ambiguous'], ['between 6 and 7', 'ambiguous'], ['four and a half', 'ambiguous'],
    ['4.5', 'ambiguous'], ['ten', 'out_of_range'], ['0', 'out_of_range'], ['not very pleasant', 'negated'],
    ['what?', 'repeat_requested'], ['could you say that again', 'repeat_requested'], ["I don't know", 'unsure'],
    ['my cat was sick', 'no_match'], ['I went for a walk with my friend', 'no_match'],
  ])('%j is unclear (%s)', (text, reason) => {
    expect(parseScaleAnswer(text, valence9)).toEqual(unclear(reason));
  });

  it.each(['skip', "I'd rather not say", 'pass', 'next question please', "I don't want to answer that"])('%j → skip', (text) => {
    expect(parseScaleAnswer(text, valence9)).toEqual({ kind: 'skip' });
  });
});

describe('parseScaleAnswer on a labelled agreement scale', () => {
  it.each([
    ['strongly agree', 5], ['Strongly agree.', 5], ['I agree', 4], ['agree', 4], ['disagree', 2], ['I strongly disagree', 1],
    ['neither agree nor disagree', 3], ['totally agree', 5], ['not at all', 1], ['4', 4], ['five', 5],
    ['five, strongly agree', 5], ['I would say I agree with that', 4],
  ])('%j → %i', (text, v) => {
    expect(parseScaleAnswer(text, agree5)).toEqual(value(v));
  });

  it.each([
    ['agree or disagree, hard to say', 'ambiguous'], ["I don't agree", 'negated'], ['two, strongly agree', 'ambiguous'], ['six', 'out_of_range'],
  ])('%j is unclear (%s)', (text, reason) => {
    expect(parseScaleAnswer(text, agree5)).toEqual(unclear(reason));
  });

  it('understands frequency labels on a 3-point scale', () => {
    expect(parseScaleAnswer('hardly ever', often3)).toEqual(value(1));
    expect(parseScaleAnswer('some of the time I guess', often3)).toEqual(value(2));
    expect(parseScaleAnswer('often', often3)).toEqual(value(3));
    expect(parseScaleAnswer('never', often3)).toEqual(value(1));
  });

  it('accepts the scale shape of behaviors/session/answers.ts (phrases only)', () => {
    const relate: ResponseScale = { min: 1, max: 5, phrases: { 1: ['not at all'], 3: ['somewhat'], 5: ['completely'] } };
    expect(parseScaleAnswer('somewhat', relate)).toEqual(value(3));
    expect(parseScaleAnswer('completely', relate)).toEqual(value(5));
  });
});

describe('parseYesNo', () => {
  it.each([
    ['yes', 'yes'], ['Sure, go ahead', 'yes'], ["I don't mind", 'yes'], ['okay', 'yes'],
    ['no', 'no'], ["I'd rather not", 'no'], ['no thanks', 'no'],
  ])('%j → %s', (text, kind) => expect(parseYesNo(text).kind).toBe(kind));
  it('is unclear on mixed or unrelated answers', () => {
    expect(parseYesNo('yes, no, I mean… no idea')).toEqual(unclear('ambiguous'));
    expect(parseYesNo('what time is it')).toEqual(unclear('no_match'));
  });
});

describe('asking again', () => {
  it('names every label when the scale is fully labelled, and the range otherwise', () => {
    expect(repromptFor(storyEmpathy.items[0]!, 'no_match')).toBe(
      "Sorry, I didn't catch that. You can say strongly disagree, disagree, neither agree nor disagree, agree or strongly agree, or a number from 1 to 5. Or say skip.",
    );
    expect(repromptFor(mood.items[0]!, 'out_of_range')).toBe(
      "That's outside the scale. Please answer with a number from 1 to 9, where 1 is very unpleasant and 9 is very pleasant. Or say skip.",
    );
    expect(repromptFor(mood.items[0]!, 'repeat_requested')).toMatch(/^Of course\. On a scale from 1 to 9/);
  });
});

describe('scoring', () => {
  it('applies reverse keys and means', () => {
    // se_distant is reverse-keyed: 2 on 1–5 scores 4.
    const [score] = scoreInstrument(storyEmpathy, { se_similar_emotions: 4, se_relate: 5, se_feel_for: 3, se_distant: 2 });
    expect(score).toMatchObject({ name: 'story_empathy', value: 4, answered: 4, items: 4, scoringVersion: 'story-empathy-1' });
  });

  it('gives no score below min_answered, and means over answered items above it', () => {
    expect(scoreInstrument(storyEmpathy, { se_similar_emotions: 4, se_relate: null })[0]!.value).toBeNull();
    expect(scoreInstrument(storyEmpathy, { se_similar_emotions: 4, se_relate: 5, se_distant: 1 })[0]!.value).toBeCloseTo(14 / 3);
  });

  it('sums only complete sets by default and rejects out-of-scale answers', () => {
    const scores = scoreInstrument(exit, { self_empathetic: 4, lonely_companionship: 1, lonely_left_out: 2, lonely_isolated: 3, robot_looked_forward: 5, robot_chore: 1 });
    expect(Object.fromEntries(scores.map((s) => [s.name, s.value]))).toEqual({ self_empathy: 4, loneliness: 6, robot_experience: 5 });
    expect(scoreInstrument(exit, { lonely_companionship: 1, lonely_left_out: 2 }).find((s) => s.name === 'loneliness')!.value).toBeNull();
    expect(() => scoreInstrument(exit, { self_empathetic: 7 })).toThrow(/self_empathetic: answer 7 is outside 1–5/);
  });

  it('stores raw values with the scoring version', () => {
    const item = storyEmpathy.items[3]!;
    expect(responseFor(storyEmpathy, item, { kind: 'value', value: 2 }, 'disagree')).toEqual({
      instrument: 'story_empathy', item: 'se_distant', value: 2, rawText: 'disagree', status: 'answered', scoringVersion: 'story-empathy-1',
    });
    expect(responseFor(storyEmpathy, item, { kind: 'skip' }, 'skip').status).toBe('skipped');
    expect(responseFor(storyEmpathy, item, { kind: 'unclear', reason: 'no_match' }, 'hmm').status).toBe('unanswered');
  });
});
