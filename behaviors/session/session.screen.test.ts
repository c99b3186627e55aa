import { createActor, fromCallback, fromPromise, toPromise } from 'xstate';
import { describe, expect, it } from 'vitest';
import type { RobotLine } from '../ports.js';
import type { Story } from '../stories/story.js';
import { sayLineMachine } from './say-line.machine.js';
import { ENDED_AFTER_CRISIS, sessionMachine, type ScreenRequest, type ScreenResult } from './session.machine.js';

// The session machine with fake effects and a screen that answers as each test says: what the
// machine does with the screen's verdict, and with its failure.
const story: Story = { id: 's', title: 'T', themes: [], emotions: [], mainEvent: '', readingTimeS: 1, paragraphs: ['One.'] };

function session(heard: string[], screen: (req: ScreenRequest, n: number) => ScreenResult) {
  const said: RobotLine[] = [];
  const events: { kind: string; detail?: unknown }[] = [];
  const screened: ScreenRequest[] = [];
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
    actions: { recordRobotTurn: () => {}, recordSessionEvent: (_, { kind, detail }) => void events.push({ kind, detail }) },
  });
  const machine = sessionMachine.provide({
    actors: {
      sayLine,
      listen: fromCallback(({ sendBack }) => {
        const next = heard.shift();
        const h = setTimeout(() => sendBack(next === undefined ? { type: 'participant.left' } : { type: 'participant.spoke', utterance: { text: next, startedAt: 0, endedAt: 1 } }), 1);
        return () => clearTimeout(h);
      }),
      screen: fromPromise(async ({ input }) => (screened.push(input), screen(input, screened.length))),
      chooseStory: fromPromise(async () => story),
      watchBargeIn: fromCallback(() => () => undefined),
    },
    actions: {
      saveProgress: () => {}, recordParticipantTurn: () => {}, recordResponse: () => {}, recordStory: () => {},
      recordSessionEvent: (_, p) => void events.push(p),
    },
    delays: { replyTimeout: 20 },
  });
  const actor = createActor(machine, { input: { sessionId: 's1', participantId: 'P01', studyDay: 1, story: null, firstSession: false, region: 'GB' } }).start();
  return { done: toPromise(actor), said, events, screened };
}

const crisis: ScreenResult = { route: 'crisis', line: { text: 'Crisis reply.', act: 'crisis' } };

describe('the screen in crisis care', () => {
  it('a screen that fails in crisis care is logged, and the robot stays with the participant', async () => {
    const s = session(['I want to die', 'I do not know'], (_r, n) => {
      if (n === 1) return crisis;
      throw new Error('check crashed');
    });
    const outcome = await s.done;
    expect(s.events).toContainEqual({ kind: 'screen.failed', detail: { step: 'crisis', error: 'check crashed' } });
    const crisisLines = s.said.filter((l) => l.act === 'crisis').map((l) => l.text);
    expect(crisisLines[0]).toBe('Crisis reply.');
    expect(crisisLines[1]).toMatch(/still here and listening|You matter|I'm listening/);
    expect(outcome).toEqual({ status: 'completed', reason: ENDED_AFTER_CRISIS });
  });

  it('a screen that fails at any other step is logged and handled as unsafe (crisis care)', async () => {
    const s = session(['fine'], () => {
      throw new Error('check crashed');
    });
    const outcome = await s.done;
    expect(s.events).toContainEqual({ kind: 'screen.failed', detail: { step: 'checkin', error: 'check crashed' } });
    expect(s.said.some((l) => l.act === 'crisis' && /study team know/.test(l.text))).toBe(true);
    expect(outcome.reason).toBe(ENDED_AFTER_CRISIS);
  });

  it('"bye" in crisis care is screened, then answered with the farewell for the study region, and nothing after it', async () => {
    const s = session(['I want to die', 'bye'], (_r, n) => (n === 1 ? crisis : { route: 'continue' }));
    const outcome = await s.done;
    expect(s.screened.map((r) => [r.step, r.utterance.text])).toEqual([['checkin', 'I want to die'], ['crisis', 'bye']]);
    expect(s.said.at(-1)!.text).toMatch(/Samaritans free on 116 123.*call 999/);
    expect(s.events).toContainEqual({ kind: 'crisis.ended', detail: { how: 'goodbye' } });
    expect(outcome).toEqual({ status: 'completed', reason: ENDED_AFTER_CRISIS });
  });
});
