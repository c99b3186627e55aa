import { assign, fromCallback, fromPromise, setup, stopChild, type EventObject } from 'xstate';
import type { RobotLine, SpeechAct, SpokenLine } from '../ports.js';
import type { ComposeRequest } from '../responder/offline-responder.js';
import { fallbackLine } from './lines.js';
import type { SessionStep } from './session.machine.js';

/** Acts that ask something: when the participant speaks over them, they are answering. */
export const QUESTIONS: readonly SpeechAct[] = ['checkin.ask', 'checkin.reprompt', 'reflection.ask', 'reflection.reprompt', 'survey.ask', 'survey.reprompt', 'rating.ask', 'rating.reprompt', 'repair', 'empathy'];
/** Acts that are not cut short: goodbyes, crisis care and safety lines are always said in full. */
export const UNINTERRUPTIBLE: readonly SpeechAct[] = ['goodbye', 'crisis', 'safe', 'resume'];

/** What the session asks `sayLine` to say. */
export interface SayLineInput {
  /** The act the session step says (the line is spoken as this act, or as the scripted line's). */
  act: SpeechAct;
  /** What the `compose` actor (or the reply stream) is asked; its act may be the rating's own wording. */
  request: ComposeRequest;
  /** A line decided elsewhere (a safeguard reply, a crisis line): said instead of a composed one. */
  scripted: RobotLine | null;
  /** Where the spoken turn is recorded. */
  step: SessionStep;
}

/** What the `check` actor (the output safeguards) is asked about a line before it is spoken. */
export interface CheckRequest {
  line: RobotLine;
  sessionId: string;
  /** Story narration (a library paragraph read aloud), checked as narration. */
  narration: boolean;
  /** The words come from a language model, not Hearth's own fixed text. */
  fromModel: boolean;
}

/** The checked line: the text to say, and whether the proposed text was replaced by a safe one. */
export interface CheckedLine {
  text: string;
  replaced: boolean;
}

/** Events `sayLine` accepts: barge-in (forwarded by the session) and the reply stream's. */
export type SayLineEvent =
  | { type: 'participant.interrupted' }
  /** The next sentence of a streamed reply, as it arrives. */
  | { type: 'robot.sentence'; text: string; fromModel: boolean }
  /** The streamed reply is complete. */
  | { type: 'robot.replied' }
  /** The reply stream failed; what was said so far stands. */
  | { type: 'robot.reply_failed'; error: string };

/** How saying the line ended, for the session to go on from. */
export type SayLineOutput =
  | { result: 'said'; line: RobotLine | null; spoken: number }
  /** The participant spoke over an interruptible line; `question`: they are answering it. */
  | { result: 'interrupted'; line: RobotLine | null; spoken: number; question: boolean }
  /** The speaker failed: the session cannot go on. */
  | { result: 'failed'; line: RobotLine | null; spoken: number; reason: string };

interface SayLineContext {
  input: SayLineInput;
  /** The line being checked or spoken. */
  line: RobotLine | null;
  /** The line's words came from a language model. */
  fromModel: boolean;
  /** Sentences of a streamed reply that arrived while an earlier one was checked or spoken. */
  queue: { text: string; fromModel: boolean }[];
  /** The reply stream sent its last sentence (or failed, with `streamError`). */
  ended: boolean;
  streamError: string | null;
  /** A flagged sentence was replaced by a safe line: the reply ends after it, the rest is dropped. */
  replaced: boolean;
  /** Lines spoken so far (each sentence of a streamed reply counts). */
  spoken: number;
  /** The participant spoke over the line. */
  interrupted: boolean;
  speakerError: string | null;
}

const unprovided = (name: string) => () => {
  throw new Error(`actor ${name} not provided`);
};

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** An empathic reply is streamed (a model's reply is spoken sentence by sentence); a scripted line never is. */
const isStreamed = (input: SayLineInput) => input.act === 'empathy' && input.scripted === null;

const say = setup({
  types: {
    context: {} as SayLineContext,
    events: {} as SayLineEvent,
    input: {} as SayLineInput,
    output: {} as SayLineOutput,
  },
  actors: {
    /** Writes the line for a request (Hearth's own words: the responder, memory recall, a scripted line). */
    compose: fromPromise<string, ComposeRequest>(unprovided('compose')),
    /** Streams a reply: sends `robot.sentence` for each sentence, then `robot.replied` (or `robot.reply_failed`). */
    replyStream: fromCallback<EventObject, ComposeRequest>(unprovided('replyStream')),
    /** The output safeguards on a line about to be spoken. */
    check: fromPromise<CheckedLine, CheckRequest>(unprovided('check')),
    speak: fromPromise<SpokenLine, RobotLine>(unprovided('speak')),
  },
  actions: {
    /** Persist a spoken robot line (provided by the runtime). */
    recordRobotTurn: (_, _params: { sessionId: string; line: RobotLine; spoken: SpokenLine; step: SessionStep }) => {
      throw new Error('action recordRobotTurn not provided');
    },
    /** Log something that happened while saying the line (a fallback line, a barge-in, a failed stream). */
    recordSessionEvent: (_, _params: { sessionId: string; kind: string; detail?: unknown }) => {
      throw new Error('action recordSessionEvent not provided');
    },
  },
  guards: {
    streamed: ({ context }) => isStreamed(context.input),
    interruptible: ({ context }) => !UNINTERRUPTIBLE.includes(context.input.act),
    sentenceWaiting: ({ context }) => context.queue.length > 0,
    replyOver: ({ context }) => context.ended,
    replyFailed: ({ context }) => context.ended && context.streamError !== null,
    replyGoesOn: ({ context }) => isStreamed(context.input) && !context.replaced,
  },
});

/** The next sentence of the streamed reply becomes the line to check. */
const takeSentence = say.assign(({ context }) => {
  const [next, ...rest] = context.queue;
  return { line: { text: next!.text, act: context.input.act }, fromModel: next!.fromModel, queue: rest };
});

/** A line of Hearth's own, said when the proposed one cannot be: the scripted line, else the act's fallback. */
const fixedLine = (c: SayLineContext): RobotLine => c.input.scripted ?? { text: fallbackLine(c.input.act), act: c.input.act };

/** Log a session event about this line. */
const note = (kind: string, detail: (c: SayLineContext) => Record<string, unknown>) => ({
  type: 'recordSessionEvent' as const,
  params: ({ context }: { context: SayLineContext }) => ({ sessionId: context.input.request.sessionId, kind, detail: { act: context.input.act, ...detail(context) } }),
});

/**
 * Say one line of the session: compose it (or take the scripted one), check it with the output
 * safeguards, speak it, and record it. An empathic reply comes from the `replyStream` actor instead,
 * sentence by sentence (`robot.sentence` … `robot.replied`), each checked before it is spoken; a
 * flagged sentence is replaced by a safe line and ends the reply. Barge-in (`participant.interrupted`,
 * forwarded by the session) stops an interruptible line while it is spoken; the output says so, and
 * whether the line was a question (the participant is answering) or a statement (the session pauses).
 */
export const sayLineMachine = say.createMachine({
  id: 'sayLine',
  context: ({ input }) => ({
    input, line: null, fromModel: false, queue: [], ended: false, streamError: null, replaced: false, spoken: 0, interrupted: false, speakerError: null,
  }),
  // Sentences may arrive faster than they are spoken: they wait their turn.
  on: {
    'robot.sentence': { actions: assign({ queue: ({ context, event }) => [...context.queue, { text: event.text, fromModel: event.fromModel }] }) },
    'robot.replied': { actions: say.assign({ ended: true }) },
    'robot.reply_failed': { actions: assign({ ended: true, streamError: ({ event }) => event.error }) },
  },
  initial: 'starting',
  states: {
    starting: { always: [{ guard: 'streamed', target: 'streaming' }, { target: 'composing' }] },
    composing: {
      invoke: {
        id: 'compose',
        src: 'compose',
        input: ({ context }) => context.input.request,
        onDone: {
          target: 'checking',
          actions: assign({ line: ({ context, event }) => ({ text: event.output, act: context.input.scripted?.act ?? context.input.act }) }),
        },
        onError: {
          target: 'speaking',
          actions: [
            say.assign({ line: ({ context }) => fixedLine(context) }),
            { type: 'recordSessionEvent', params: ({ context, event }) => ({ sessionId: context.input.request.sessionId, kind: 'compose.failed', detail: { act: context.input.act, error: errorText(event.error) } }) },
          ],
        },
      },
    },
    /** Waiting for the first sentence of a streamed reply; the stream runs until the line is over. */
    streaming: {
      entry: say.spawnChild('replyStream', { id: 'replyStream', input: ({ context }) => context.input.request }),
      always: [
        { guard: 'sentenceWaiting', target: 'checking', actions: takeSentence },
        {
          // The stream ended without a word: the act's fallback line is said, and why is logged.
          guard: 'replyOver',
          target: 'speaking',
          actions: [
            say.assign({ line: ({ context }) => ({ text: fallbackLine(context.input.act), act: context.input.act }), replaced: true }),
            note('compose.failed', (c) => ({ error: c.streamError ?? 'the reply ended without a sentence' })),
          ],
        },
      ],
    },
    checking: {
      invoke: {
        id: 'check',
        src: 'check',
        input: ({ context }) => ({
          // Checked as the act the responder wrote it for (the rating's own wording, say).
          line: { text: context.line!.text, act: context.input.request.act },
          sessionId: context.input.request.sessionId,
          narration: context.input.request.act === 'story',
          fromModel: context.fromModel,
        }),
        onDone: [
          {
            // A flagged sentence of a reply: the safe line is said instead, and the rest of the reply is dropped.
            guard: ({ event }) => event.output.replaced,
            target: 'speaking',
            actions: [
              assign({ line: ({ context, event }) => ({ text: event.output.text, act: context.line!.act }), replaced: true, queue: [] }),
              stopChild('replyStream'),
            ],
          },
          { target: 'speaking', actions: assign({ line: ({ context, event }) => ({ text: event.output.text, act: context.line!.act }) }) },
        ],
        // Fail closed: a line that could not be checked is not said; a fixed line is, and a reply ends.
        onError: {
          target: 'speaking',
          actions: [
            say.assign({ line: ({ context }) => fixedLine(context), replaced: true, queue: [] }),
            stopChild('replyStream'),
            { type: 'recordSessionEvent', params: ({ context, event }) => ({ sessionId: context.input.request.sessionId, kind: 'check.failed', detail: { act: context.input.act, error: errorText(event.error) } }) },
          ],
        },
      },
    },
    speaking: {
      on: {
        'participant.interrupted': {
          guard: 'interruptible',
          target: 'interrupted',
          actions: [say.assign({ interrupted: true }), note('participant.barged-in', (c) => ({ line: c.line?.text ?? null }))],
        },
      },
      invoke: {
        id: 'speak',
        src: 'speak',
        input: ({ context }) => context.line!,
        onDone: {
          target: 'spoken',
          actions: [
            {
              type: 'recordRobotTurn',
              params: ({ context, event }) => ({ sessionId: context.input.request.sessionId, line: context.line!, spoken: event.output, step: context.input.step }),
            },
            say.assign({ spoken: ({ context }) => context.spoken + 1 }),
          ],
        },
        onError: { target: 'failed', actions: assign({ speakerError: ({ event }) => `speaker failed: ${errorText(event.error)}` }) },
      },
    },
    spoken: { always: [{ guard: 'replyGoesOn', target: 'continuing' }, { target: 'said' }] },
    /** Between sentences of a streamed reply: the next one, or the end of the reply. */
    continuing: {
      always: [
        { guard: 'sentenceWaiting', target: 'checking', actions: takeSentence },
        // What was said stands; the rest of the reply is lost, and the log says why.
        { guard: 'replyFailed', target: 'said', actions: note('compose.continuation_failed', (c) => ({ error: c.streamError })) },
        { guard: 'replyOver', target: 'said' },
      ],
    },
    said: { type: 'final' },
    interrupted: { type: 'final' },
    failed: { type: 'final' },
  },
  output: ({ context }): SayLineOutput => {
    const { line, spoken } = context;
    if (context.speakerError !== null) return { result: 'failed', line, spoken, reason: context.speakerError };
    if (context.interrupted) return { result: 'interrupted', line, spoken, question: QUESTIONS.includes(context.input.act) };
    return { result: 'said', line, spoken };
  },
});
