import { createActor, fromCallback, fromPromise, toPromise } from 'xstate';
import { describe, expect, it } from 'vitest';
import { parseScaleAnswer } from '../../study-protocol/index.js';
import type { ListenRequest, RobotLine, Utterance } from '../ports.js';
import { acceptedAnswers, decideAnswer, YES_NO_ANSWERS } from './answers.js';
import { sayLineMachine } from './say-line.machine.js';
import type { Story } from '../stories/story.js';
import { sessionMachine, type ResponseParams, type ScreenResult, type SurveyInstrument } from './session.machine.js';

const NINE = { min: 1, max: 9, labels: { 1: 'very unpleasant', 9: 'very pleasant' } };
const mood: SurveyInstrument = { id: 'mood', intro: null, scoringVersion: 'm1', items: [{ code: 'valence', prompt: 'From 1 to 9, how do you feel?', scale: NINE }] };
const heardAs = (text: string, answer?: string, confidence = 0.9, open?: number): Utterance => ({
  text, startedAt: 0, endedAt: 1, ...(open !== undefined ? { confidence: open } : {}),
  ...(answer ? { answer: { text: answer, confidence, alternatives: [{ text: 'five', confidence: 0.1 }] } } : {}),
});

/** A one-survey session whose participant says `heard`, in order; what it stored, said and listened for. */
function survey(heard: Utterance[], screen: (u: Utterance) => ScreenResult = () => ({ route: 'continue' })) {
  const said: RobotLine[] = [];
  const stored: ResponseParams[] = [];
  const listens: ListenRequest[] = [];
  const sayLine = sayLineMachine.provide({
    actors: {
      compose: fromPromise(async ({ input }) => input.scripted ?? `(${input.act})`),
      replyStream: fromCallback(({ sendBack, input }) => {
        sendBack({ type: 'robot.sentence', text: `(${input.act})`, fromModel: false });
        sendBack({ type: 'robot.replied' });
      }),
      check: fromPromise(async ({ input }) => ({ text: input.line.text, replaced: false })),
      speak: fromPromise(async ({ input }) => (said.push(input), { startedAt: 0, endedAt: 1 })),
    },
    actions: { recordRobotTurn: () => {}, recordSessionEvent: () => {} },
  });
  const machine = sessionMachine.provide({
    actors: {
      sayLine,
      listen: fromCallback(({ sendBack, input }) => {
        listens.push(input as ListenRequest);
        const next = heard.shift();
        const h = setTimeout(() => sendBack(next === undefined ? { type: 'participant.left' } : { type: 'participant.spoke', utterance: next }), 1);
        return () => clearTimeout(h);
      }),
      screen: fromPromise(async ({ input }): Promise<ScreenResult> => screen(input.utterance)),
      chooseStory: fromPromise(async (): Promise<Story> => { throw new Error('no story in this test'); }),
      watchBargeIn: fromCallback(() => () => undefined),
    },
    actions: {
      saveProgress: () => {}, recordParticipantTurn: () => {}, recordStory: () => {}, recordSessionEvent: () => {},
      recordResponse: (_, p) => void stored.push(p),
    },
    delays: { replyTimeout: 20 },
  });
  const actor = createActor(machine, {
    input: { sessionId: 's1', participantId: 'P01', studyDay: 1, story: null, firstSession: false, steps: ['survey:mood', 'goodbye'], instruments: { mood } },
  }).start();
  return { done: toPromise(actor), said, stored, listens };
}

describe('answers heard against what can be answered', () => {
  it('a survey listen names the answers the item accepts; a confirmation listens for yes or no', async () => {
    const s = survey([heardAs('full', 'four', 0.5), heardAs('yes', 'yes', 0.95)]);
    await s.done;
    expect(s.listens[0]!.answers).toEqual(acceptedAnswers(NINE));
    expect(s.listens[0]!.answers).toEqual(expect.arrayContaining(['one', 'nine', 'very pleasant', 'skip', 'i do not know']));
    expect(s.listens[1]!.answers).toEqual(expect.arrayContaining(['yes', 'no', 'yeah', 'nope']));
    expect(s.listens[1]!.answers!.every((a) => YES_NO_ANSWERS.includes(a) || /repeat|again/.test(a))).toBe(true);
  });

  it('an answer heard with low confidence is said back and stored only after a yes, with its confidence', async () => {
    const s = survey([heardAs('full', 'four', 0.5), heardAs('yes', 'yes', 0.95)]);
    await s.done;
    expect(s.said.map((l) => l.text)).toContain('I want to be sure I heard you: four. Is that right?');
    expect(s.stored).toEqual([expect.objectContaining({ value: 4, status: 'answered', raw: 'four', confidence: 0.5, confirmed: true })]);
  });

  it('a "no" to the answer said back stores nothing and asks the item again; the next answer counts', async () => {
    const s = survey([heardAs('full', 'four', 0.5), heardAs('no', 'no', 0.95), heardAs('five', 'five', 0.97)]);
    await s.done;
    expect(s.stored).toEqual([expect.objectContaining({ value: 5, status: 'answered' })]);
    expect(s.stored.some((r) => r.value === 4)).toBe(false);
    expect(s.said.filter((l) => l.act === 'survey.reprompt')).toHaveLength(1);
  });

  it('an unsure "yes" to the answer said back is not a yes: nothing unconfirmed is ever stored', async () => {
    const s = survey([heardAs('full', 'four', 0.5), heardAs('yes', 'yes', 0.3), heardAs('um', 'two', 0.1), heardAs('hmm', 'three', 0.1)]);
    await s.done;
    expect(s.stored.filter((r) => r.status === 'answered')).toEqual([]);
  });

  it('a sure answer, or one the open pass agrees with, is stored at once with its alternatives', async () => {
    const s = survey([heardAs('seven', 'seven', 0.6, 0.7)]);
    await s.done;
    expect(s.said.some((l) => /Is that right/.test(l.text))).toBe(false);
    expect(s.stored).toEqual([expect.objectContaining({ value: 7, status: 'answered', confidence: 0.6, alternatives: [{ text: 'five', confidence: 0.1 }] })]);
  });
});

describe('unsure words that might be a crisis', () => {
  it('get a gentle clarifying question, and what is said then is screened and answered in full', async () => {
    const seen: Utterance[] = [];
    const s = survey([{ text: 'i want to leave', confidence: 0.2, alternatives: ['i want to die'], startedAt: 0, endedAt: 1 }, heardAs('six', 'six', 0.97)], (u) => {
      seen.push(u);
      return seen.length === 1 ? { route: 'clarify', line: { text: 'Did you say something about hurting yourself?', act: 'repair' } } : { route: 'continue' };
    });
    await s.done;
    expect(seen[0]!.alternatives).toEqual(['i want to die']);
    const i = s.said.findIndex((l) => l.text === 'Did you say something about hurting yourself?');
    expect(i).toBeGreaterThan(0);
    expect(s.listens.length).toBeGreaterThanOrEqual(2);
    expect(s.stored).toEqual([expect.objectContaining({ value: 6 })]);
  });
});

describe('decideAnswer', () => {
  const parse = (t: string) => parseScaleAnswer(t, NINE);
  it('accepts a sure answer, confirms an unsure one, asks again below the floor or when the two passes disagree', () => {
    expect(decideAnswer({ text: 'full', answer: { text: 'four', confidence: 0.97, alternatives: [] } }, parse)).toMatchObject({ kind: 'accept', answer: { kind: 'value', value: 4 } });
    expect(decideAnswer({ text: 'full', answer: { text: 'four', confidence: 0.5, alternatives: [] } }, parse)).toMatchObject({ kind: 'confirm', text: 'four' });
    expect(decideAnswer({ text: 'full', answer: { text: 'four', confidence: 0.05, alternatives: [] } }, parse)).toMatchObject({ kind: 'unclear' });
    expect(decideAnswer({ text: 'two', answer: { text: 'four', confidence: 0.6, alternatives: [] } }, parse)).toEqual({ kind: 'unclear', reason: 'ambiguous' });
    // Both passes agreeing is not enough when the answer pass itself is unsure: said back.
    expect(decideAnswer({ text: 'i think the one', answer: { text: 'one', confidence: 0.3, alternatives: [] } }, parse)).toMatchObject({ kind: 'confirm' });
  });
  it('never stores at once an answer the open pass heard a whole sentence without (bench:asr through PulseAudio)', () => {
    const sure = { text: 'nine', confidence: 0.97, alternatives: [] };
    expect(decideAnswer({ text: 'my daughter killed each morning', answer: sure }, parse)).toMatchObject({ kind: 'confirm', text: 'nine' });
    expect(decideAnswer({ text: 'i think nine', answer: sure }, parse)).toMatchObject({ kind: 'accept' });
    expect(decideAnswer({ text: 'the night', answer: sure }, parse)).toMatchObject({ kind: 'accept' });
  });
  it('typed answers (no recogniser figures) are taken as given; an unsure open-only answer is confirmed', () => {
    expect(decideAnswer({ text: 'I would say six' }, parse)).toMatchObject({ kind: 'accept', answer: { value: 6 } });
    expect(decideAnswer({ text: 'six', confidence: 0.5 }, parse)).toMatchObject({ kind: 'confirm', answer: { value: 6 } });
  });
});
