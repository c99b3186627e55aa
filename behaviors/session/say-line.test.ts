import { createActor, fromCallback, fromPromise, toPromise } from 'xstate';
import { describe, expect, it } from 'vitest';
import type { RobotLine, SpeechAct } from '../ports.js';
import type { ComposeRequest } from '../responder/offline-responder.js';
import { sayLineMachine, type CheckRequest, type SayLineEvent } from './say-line.machine.js';

// The sayLine child on its own, with fake effects: what is checked, said and logged for one line.
const request = (act: SpeechAct): ComposeRequest => ({ act, participantId: 'P01', sessionId: 's1', studyDay: 1, turnIndex: 0, story: null, lastUtterance: 'hi', shared: ['hi'] });

function sayLine(act: SpeechAct, o: { stream?: (send: (e: SayLineEvent) => void) => void; flag?: RegExp; speakMs?: number } = {}) {
  const said: RobotLine[] = [];
  const checked: CheckRequest[] = [];
  const events: { kind: string; detail?: unknown }[] = [];
  let streamStopped = false;
  const machine = sayLineMachine.provide({
    actors: {
      compose: fromPromise(async ({ input }) => `(${input.act})`),
      replyStream: fromCallback(({ sendBack }) => {
        o.stream?.(sendBack);
        return () => void (streamStopped = true);
      }),
      check: fromPromise(async ({ input }) => (checked.push(input), o.flag?.test(input.line.text) ? { text: 'A safe line.', replaced: true } : { text: input.line.text, replaced: false })),
      speak: fromPromise(async ({ input }) => {
        said.push(input);
        await new Promise((r) => setTimeout(r, o.speakMs ?? 0));
        return { startedAt: 0, endedAt: 1 };
      }),
    },
    actions: { recordRobotTurn: () => {}, recordSessionEvent: (_, { kind, detail }) => void events.push({ kind, detail }) },
  });
  const actor = createActor(machine, { input: { act, request: request(act), scripted: null, step: 'empathy' } }).start();
  return { actor, done: toPromise(actor), said, checked, events, stopped: () => streamStopped };
}

describe('sayLine', () => {
  it('a composed line is checked, then spoken as checked', async () => {
    const s = sayLine('checkin.ask', { flag: /checkin/ });
    expect(await s.done).toEqual({ result: 'said', line: { text: 'A safe line.', act: 'checkin.ask' }, spoken: 1 });
    expect(s.checked).toEqual([{ line: { text: '(checkin.ask)', act: 'checkin.ask' }, sessionId: 's1', narration: false, fromModel: false }]);
    expect(s.said.map((l) => l.text)).toEqual(['A safe line.']);
  });

  it('a streamed reply is spoken sentence by sentence, each checked first; a flagged one is replaced and ends the reply', async () => {
    const s = sayLine('empathy', {
      speakMs: 5,
      flag: /instead of your friends/,
      stream: (send) => {
        for (const text of ['That sounds lovely.', 'Spend time with me instead of your friends.', 'Tell me everything.']) send({ type: 'robot.sentence', text, fromModel: true });
        send({ type: 'robot.replied' });
      },
    });
    const out = await s.done;
    expect(s.said.map((l) => l.text)).toEqual(['That sounds lovely.', 'A safe line.']);
    expect(s.checked.map((c) => [c.line.text, c.fromModel])).toEqual([['That sounds lovely.', true], ['Spend time with me instead of your friends.', true]]);
    expect(out).toMatchObject({ result: 'said', spoken: 2 });
    expect(s.stopped()).toBe(true);
  });

  it('a stream that fails after a sentence keeps what was said and records why', async () => {
    const s = sayLine('empathy', {
      stream: (send) => {
        send({ type: 'robot.sentence', text: 'I hear you.', fromModel: true });
        setTimeout(() => send({ type: 'robot.reply_failed', error: 'model connection reset' }), 5);
      },
    });
    expect(await s.done).toMatchObject({ result: 'said', spoken: 1 });
    expect(s.events).toContainEqual({ kind: 'compose.continuation_failed', detail: { act: 'empathy', error: 'model connection reset' } });
  });

  it('barge-in ends a question (the participant is answering) but never a crisis line', async () => {
    const q = sayLine('checkin.ask', { speakMs: 50 });
    setTimeout(() => q.actor.send({ type: 'participant.interrupted' }), 10);
    expect(await q.done).toMatchObject({ result: 'interrupted', question: true, spoken: 0 });
    expect(q.events).toContainEqual({ kind: 'participant.barged-in', detail: { act: 'checkin.ask', line: '(checkin.ask)' } });
    const c = sayLine('crisis', { speakMs: 30 });
    setTimeout(() => c.actor.send({ type: 'participant.interrupted' }), 10);
    expect(await c.done).toMatchObject({ result: 'said', spoken: 1 });
  });
});
