import { assign, fromCallback, fromPromise, setup, type EventObject } from 'xstate';
import type { ListenRequest, RobotLine, SpeechAct, SpokenLine, Utterance } from '../ports.js';
import type { ComposeRequest } from '../responder/offline-responder.js';
import type { Story } from '../stories/story.js';
import { parseScaleAnswer, RELATE_SCALE, wantsToStop } from './answers.js';

/** Steps of the storytelling session, in order; progress is saved under these names. */
export const SESSION_STEPS = ['greeting', 'checkin', 'story', 'reflection', 'rating', 'goodbye'] as const;
/** A step of the storytelling session. */
export type SessionStep = (typeof SESSION_STEPS)[number];

/** What is saved at every step, enough to resume after a crash. */
export interface SessionProgress {
  paragraph: number;
  mood: string | null;
  shared: string[];
  exchanges: number;
  rating: number | 'skipped' | null;
}

/** Where to pick a session up after a restart. */
export interface ResumePoint {
  step: SessionStep;
  progress: SessionProgress;
}

/** What the session needs to run. */
export interface SessionInput {
  sessionId: string;
  participantId: string;
  studyDay: number;
  story: Story;
  firstSession: boolean;
  /** Number of listen-and-respond exchanges after the reflection question. */
  exchanges?: number;
  resume?: ResumePoint;
}

/** How a session ended. */
export interface SessionOutcome {
  status: 'completed' | 'interrupted';
  reason: string | null;
}

/** The safeguard verdict on a participant turn, as far as the session flow is concerned. */
export interface ScreenResult {
  /** `continue` the flow, or leave it for a `crisis` reply (already spoken by the screen). */
  route: 'continue' | 'crisis';
}

type HeardEvent = { type: 'participant.spoke'; utterance: Utterance };
/** Events the session machine accepts. */
export type SessionEvent =
  | HeardEvent
  | { type: 'participant.left' }
  | { type: 'listener.failed'; reason: string };

interface SessionContext extends SessionInput {
  progress: SessionProgress;
  /** Robot lines so far (for varied wording). */
  turnIndex: number;
  /** The line being composed or spoken. */
  line: RobotLine | null;
  lastUtterance: Utterance | null;
  reprompts: number;
  outcome: SessionOutcome;
}

const unprovided = (name: string) => () => {
  throw new Error(`actor ${name} not provided`);
};

const blankProgress = (): SessionProgress => ({ paragraph: 0, mood: null, shared: [], exchanges: 0, rating: null });

/** Lines used when composing fails: plain, kind, and never wrong. */
export const FALLBACK_LINES: Partial<Record<SpeechAct, string>> = {
  greeting: "Hello! It's Hearth, your robot companion.",
  resume: "Sorry, we were interrupted. Let's carry on.",
  'checkin.ask': 'How are you feeling today?',
  'checkin.reprompt': 'Take your time. How are you feeling today?',
  'checkin.ack': 'Thank you for telling me.',
  'story.intro': "I'd like to read you a story.",
  'reflection.ask': 'What did that story bring up for you?',
  'reflection.reprompt': 'Take your time.',
  empathy: 'Thank you for sharing that with me. What was that like for you?',
  'rating.ask': 'How much could you relate to this story, from 1, not at all, to 5, very much?',
  'rating.reprompt': 'Could you give me a number from 1 to 5? You can also say skip.',
  'rating.ack': 'Thank you.',
  goodbye: 'Thank you for today. Goodbye for now.',
  safe: "Thank you for telling me. I'm listening.",
};

/** The request handed to the `compose` actor for a speech act. */
export function composeRequest(c: SessionContext, act: SpeechAct): ComposeRequest {
  return {
    act,
    participantId: c.participantId,
    sessionId: c.sessionId,
    studyDay: c.studyDay,
    turnIndex: c.turnIndex,
    story: { id: c.story.id, title: c.story.title },
    paragraph: act === 'story' ? c.story.paragraphs[c.progress.paragraph] : undefined,
    lastUtterance: c.lastUtterance?.text ?? null,
    shared: c.progress.shared,
    finalExchange: act === 'empathy' ? c.progress.exchanges + 1 >= (c.exchanges ?? 2) : undefined,
    firstSession: c.firstSession,
  };
}

/**
 * One storytelling session: greeting and mood check-in → the story, a paragraph at a time →
 * reflection question → listen and respond with empathy → a 1–5 relatability rating → goodbye.
 * Effects are injected: `compose` writes a line, `speak` says it, `listen` hears the participant,
 * `screen` runs safeguards on what was heard; actions persist turns and progress.
 */
export const sessionMachine = setup({
  types: {
    context: {} as SessionContext,
    events: {} as SessionEvent,
    input: {} as SessionInput,
    output: {} as SessionOutcome,
  },
  actors: {
    compose: fromPromise<string, ComposeRequest>(unprovided('compose')),
    speak: fromPromise<SpokenLine, RobotLine>(unprovided('speak')),
    listen: fromCallback<EventObject, ListenRequest>(unprovided('listen')),
    screen: fromPromise<ScreenResult, { utterance: Utterance; step: SessionStep; sessionId: string }>(unprovided('screen')),
  },
  actions: {
    /** Persist the step reached and the progress so far (provided by the runtime). */
    saveProgress: (_, _params: { step: SessionStep; progress: SessionProgress }) => {
      throw new Error('action saveProgress not provided');
    },
    /** Persist a spoken robot line. */
    recordRobotTurn: (_, _params: { line: RobotLine; spoken: SpokenLine; step: SessionStep }) => {
      throw new Error('action recordRobotTurn not provided');
    },
    /** Persist a participant utterance. */
    recordParticipantTurn: (_, _params: { utterance: Utterance; step: SessionStep }) => {
      throw new Error('action recordParticipantTurn not provided');
    },
    /** Persist an item response. */
    recordRating: (_, _params: { value: number | null; raw: string | null; status: 'answered' | 'skipped' | 'unanswered' }) => {
      throw new Error('action recordRating not provided');
    },
    /** Log something that happened in the session (fallback lines, silences). */
    recordSessionEvent: (_, _params: { kind: string; detail?: unknown }) => {
      throw new Error('action recordSessionEvent not provided');
    },
  },
  guards: {
    wantsToStop: ({ event }) => event.type === 'participant.spoke' && wantsToStop(event.utterance.text),
    resuming: ({ context }) => context.resume !== undefined,
    mayReprompt: ({ context }) => context.reprompts < 1,
    ratingMayReprompt: ({ context }) => context.reprompts < 2,
    moreParagraphs: ({ context }) => context.progress.paragraph < context.story.paragraphs.length,
    moreExchanges: ({ context }) => context.progress.exchanges < (context.exchanges ?? 2),
  },
  delays: {
    /** Silence after a question before the robot gently asks again. */
    replyTimeout: 20_000,
  },
}).createMachine({
  id: 'session',
  context: ({ input }) => ({
    ...input,
    progress: input.resume ? { ...blankProgress(), ...input.resume.progress } : blankProgress(),
    turnIndex: 0,
    line: null,
    lastUtterance: null,
    reprompts: 0,
    outcome: { status: 'completed', reason: null },
  }),
  initial: 'starting',
  output: ({ context }) => context.outcome,
  states: {
    starting: {
      always: [{ guard: 'resuming', target: 'resuming' }, { target: 'greeting' }],
    },
    resuming: {
      initial: 'composing',
      states: sayStates('resume', '#session.resumeRouting'),
    },
    resumeRouting: {
      always: [
        { guard: ({ context }) => context.resume?.step === 'checkin', target: 'checkin' },
        { guard: ({ context }) => context.resume?.step === 'story', target: 'story' },
        { guard: ({ context }) => context.resume?.step === 'reflection', target: 'reflection' },
        { guard: ({ context }) => context.resume?.step === 'rating', target: 'rating' },
        { guard: ({ context }) => context.resume?.step === 'goodbye', target: 'goodbye' },
        { target: 'checkin' },
      ],
    },
    greeting: {
      entry: { type: 'saveProgress', params: ({ context }) => ({ step: 'greeting', progress: context.progress }) },
      initial: 'composing',
      states: sayStates('greeting', '#session.checkin'),
    },
    checkin: {
      entry: [
        { type: 'saveProgress', params: ({ context }) => ({ step: 'checkin', progress: context.progress }) },
        assign({ reprompts: 0 }),
      ],
      initial: 'asking',
      states: {
        asking: { initial: 'composing', states: sayStates('checkin.ask', '#session.checkin.listening') },
        listening: listenState('checkin', '#session.checkin.heard', '#session.checkin.silence'),
        heard: {
          entry: assign({ progress: ({ context }) => ({ ...context.progress, mood: context.lastUtterance?.text ?? null }) }),
          always: '#session.checkin.screening',
        },
        screening: screenState('checkin', '#session.checkin.acknowledging'),
        silence: {
          always: [
            { guard: 'mayReprompt', target: 'reprompting', actions: assign({ reprompts: ({ context }) => context.reprompts + 1 }) },
            { target: 'acknowledging', actions: [assign({ lastUtterance: null }), { type: 'recordSessionEvent', params: { kind: 'participant.silent', detail: { step: 'checkin' } } }] },
          ],
        },
        reprompting: { initial: 'composing', states: sayStates('checkin.reprompt', '#session.checkin.listening') },
        acknowledging: { initial: 'composing', states: sayStates('checkin.ack', '#session.story') },
      },
    },
    story: {
      entry: { type: 'saveProgress', params: ({ context }) => ({ step: 'story', progress: context.progress }) },
      initial: 'routing',
      states: {
        routing: { always: [{ guard: ({ context }) => context.progress.paragraph === 0, target: 'introducing' }, { target: 'reading' }] },
        introducing: { initial: 'composing', states: sayStates('story.intro', '#session.story.reading') },
        reading: {
          always: { guard: ({ context }) => context.progress.paragraph >= context.story.paragraphs.length, target: '#session.reflection' },
          initial: 'composing',
          states: sayStates('story', '#session.story.paragraphRead'),
        },
        paragraphRead: {
          entry: [
            assign({ progress: ({ context }) => ({ ...context.progress, paragraph: context.progress.paragraph + 1 }) }),
            { type: 'saveProgress', params: ({ context }) => ({ step: 'story', progress: context.progress }) },
          ],
          always: [{ guard: 'moreParagraphs', target: 'reading' }, { target: '#session.reflection' }],
        },
      },
    },
    reflection: {
      entry: [
        { type: 'saveProgress', params: ({ context }) => ({ step: 'reflection', progress: context.progress }) },
        assign({ reprompts: 0 }),
      ],
      initial: 'routing',
      states: {
        routing: { always: [{ guard: ({ context }) => context.progress.exchanges === 0, target: 'asking' }, { target: 'listening' }] },
        asking: { initial: 'composing', states: sayStates('reflection.ask', '#session.reflection.listening') },
        listening: listenState('reflection', '#session.reflection.heard', '#session.reflection.silence'),
        heard: {
          entry: assign({
            progress: ({ context }) => ({ ...context.progress, shared: [...context.progress.shared, context.lastUtterance?.text ?? ''] }),
            reprompts: 0,
          }),
          always: 'screening',
        },
        screening: screenState('reflection', '#session.reflection.responding'),
        responding: { initial: 'composing', states: sayStates('empathy', '#session.reflection.responded') },
        responded: {
          entry: [
            assign({ progress: ({ context }) => ({ ...context.progress, exchanges: context.progress.exchanges + 1 }) }),
            { type: 'saveProgress', params: ({ context }) => ({ step: 'reflection', progress: context.progress }) },
          ],
          always: [{ guard: 'moreExchanges', target: 'listening' }, { target: '#session.rating' }],
        },
        silence: {
          always: [
            { guard: 'mayReprompt', target: 'reprompting', actions: assign({ reprompts: ({ context }) => context.reprompts + 1 }) },
            { target: '#session.rating', actions: { type: 'recordSessionEvent', params: { kind: 'participant.silent', detail: { step: 'reflection' } } } },
          ],
        },
        reprompting: { initial: 'composing', states: sayStates('reflection.reprompt', '#session.reflection.listening') },
      },
    },
    rating: {
      entry: [
        { type: 'saveProgress', params: ({ context }) => ({ step: 'rating', progress: context.progress }) },
        assign({ reprompts: 0 }),
      ],
      initial: 'asking',
      states: {
        asking: { initial: 'composing', states: sayStates('rating.ask', '#session.rating.listening') },
        listening: listenState('rating', '#session.rating.heard', '#session.rating.silence'),
        heard: {
          always: [
            {
              guard: ({ context }) => parseScaleAnswer(context.lastUtterance?.text ?? '', RELATE_SCALE).kind === 'value',
              target: 'acknowledging',
              actions: [
                assign({
                  progress: ({ context }) => {
                    const a = parseScaleAnswer(context.lastUtterance!.text, RELATE_SCALE);
                    return { ...context.progress, rating: a.kind === 'value' ? a.value : null };
                  },
                }),
                { type: 'recordRating', params: ({ context }) => ({ value: context.progress.rating as number, raw: context.lastUtterance!.text, status: 'answered' as const }) },
              ],
            },
            {
              guard: ({ context }) => parseScaleAnswer(context.lastUtterance?.text ?? '', RELATE_SCALE).kind === 'skip',
              target: 'acknowledging',
              actions: [
                assign({ progress: ({ context }) => ({ ...context.progress, rating: 'skipped' as const }) }),
                { type: 'recordRating', params: ({ context }) => ({ value: null, raw: context.lastUtterance!.text, status: 'skipped' as const }) },
              ],
            },
            { guard: 'ratingMayReprompt', target: 'reprompting', actions: assign({ reprompts: ({ context }) => context.reprompts + 1 }) },
            {
              target: '#session.goodbye',
              actions: { type: 'recordRating', params: ({ context }) => ({ value: null, raw: context.lastUtterance?.text ?? null, status: 'unanswered' as const }) },
            },
          ],
        },
        silence: {
          always: [
            { guard: 'mayReprompt', target: 'reprompting', actions: assign({ reprompts: ({ context }) => context.reprompts + 1 }) },
            { target: '#session.goodbye', actions: { type: 'recordRating', params: { value: null, raw: null, status: 'unanswered' as const } } },
          ],
        },
        reprompting: { initial: 'composing', states: sayStates('rating.reprompt', '#session.rating.listening') },
        acknowledging: { initial: 'composing', states: sayStates('rating.ack', '#session.goodbye') },
      },
    },
    goodbye: {
      entry: { type: 'saveProgress', params: ({ context }) => ({ step: 'goodbye', progress: context.progress }) },
      initial: 'composing',
      states: sayStates('goodbye', '#session.done'),
    },
    /** The participant left (terminal closed, script ended): end without speaking to an empty room. */
    abandoned: {
      entry: assign({ outcome: { status: 'interrupted', reason: 'participant left' } }),
      always: 'done',
    },
    /** The speaker or microphone failed: the session cannot go on. */
    deviceFailed: { always: 'done' },
    /** After a crisis reply the story flow is left; the screen already spoke and alerted staff. */
    crisisHandled: {
      entry: assign({ outcome: { status: 'completed', reason: 'left story flow after a crisis disclosure' } }),
      always: 'done',
    },
    done: { type: 'final' },
  },
});

type Target = `#session.${string}`;
// The helpers below build repeated config fragments. XState cannot type fragments built outside
// `createMachine`, so they return `any`; the machine is checked at run time and by the path tests.
/* eslint-disable @typescript-eslint/no-explicit-any */
type Fragment = any;

/** Compose a line for `act`, then speak it and record it, then go to `next`. */
function sayStates(act: SpeechAct, next: Target): Fragment {
  const step = stepOf(act);
  return {
    composing: {
      invoke: {
        id: 'compose',
        src: 'compose' as const,
        input: ({ context }: { context: SessionContext }) => composeRequest(context, act),
        onDone: {
          target: 'speaking',
          actions: assign({ line: ({ event }: { event: { output: string } }) => ({ text: event.output, act }) }),
        },
        onError: {
          target: 'speaking',
          actions: [
            assign({ line: { text: FALLBACK_LINES[act] ?? FALLBACK_LINES.safe!, act } }),
            { type: 'recordSessionEvent' as const, params: ({ event }: { event: { error: unknown } }) => ({ kind: 'compose.failed', detail: { act, error: String(event.error) } }) },
          ],
        },
      },
    },
    speaking: {
      invoke: {
        id: 'speak',
        src: 'speak' as const,
        input: ({ context }: { context: SessionContext }) => context.line!,
        onDone: {
          target: next,
          actions: [
            { type: 'recordRobotTurn' as const, params: ({ context, event }: { context: SessionContext; event: { output: SpokenLine } }) => ({ line: context.line!, spoken: event.output, step }) },
            assign({ turnIndex: ({ context }: { context: SessionContext }) => context.turnIndex + 1 }),
          ],
        },
        onError: {
          target: '#session.deviceFailed',
          actions: assign({ outcome: ({ event }: { event: { error: unknown } }) => ({ status: 'interrupted' as const, reason: `speaker failed: ${errorText(event.error)}` }) }),
        },
      },
    },
  };
}

/** Listen for an answer; silence after `replyTimeout` goes to `onSilence`. */
function listenState(step: SessionStep, onHeard: Target, onSilence: Target): Fragment {
  return {
    invoke: {
      id: 'listen',
      src: 'listen' as const,
      input: ({ context }: { context: SessionContext }) => ({ step, prompt: context.line?.text ?? '' }),
    },
    after: { replyTimeout: onSilence },
    on: {
      'participant.spoke': [
        {
          guard: 'wantsToStop' as const,
          target: '#session.goodbye' as Target,
          actions: [
            { type: 'recordParticipantTurn' as const, params: ({ event }: { event: HeardEvent }) => ({ utterance: event.utterance, step }) },
            assign({ lastUtterance: ({ event }: { event: HeardEvent }) => event.utterance, outcome: { status: 'completed' as const, reason: 'ended early by participant' } }),
          ],
        },
        {
          target: onHeard,
          actions: [
            { type: 'recordParticipantTurn' as const, params: ({ event }: { event: HeardEvent }) => ({ utterance: event.utterance, step }) },
            assign({ lastUtterance: ({ event }: { event: HeardEvent }) => event.utterance }),
          ],
        },
      ],
      'participant.left': { target: '#session.abandoned' as Target },
      'listener.failed': {
        target: '#session.deviceFailed' as Target,
        actions: assign({ outcome: ({ event }: { event: { reason: string } }) => ({ status: 'interrupted' as const, reason: `microphone failed: ${event.reason}` }) }),
      },
    },
  };
}

/** Run the safeguard screen on what was just heard; a crisis leaves the story flow. */
function screenState(step: SessionStep, next: Target): Fragment {
  return {
    invoke: {
      id: 'screen',
      src: 'screen' as const,
      input: ({ context }: { context: SessionContext }) => ({ utterance: context.lastUtterance!, step, sessionId: context.sessionId }),
      onDone: [
        { guard: ({ event }: { event: { output: ScreenResult } }) => event.output.route === 'crisis', target: '#session.crisisHandled' as Target },
        { target: next },
      ],
      // Fail closed: a screen that errors is treated as a crisis route (the runtime's screen speaks the safe reply itself).
      onError: {
        target: '#session.crisisHandled' as Target,
        actions: { type: 'recordSessionEvent' as const, params: ({ event }: { event: { error: unknown } }) => ({ kind: 'screen.failed', detail: { step, error: errorText(event.error) } }) },
      },
    },
  };
}

function stepOf(act: SpeechAct): SessionStep {
  if (act === 'greeting' || act === 'resume') return 'greeting';
  if (act.startsWith('checkin')) return 'checkin';
  if (act.startsWith('story')) return 'story';
  if (act.startsWith('reflection') || act === 'empathy') return 'reflection';
  if (act.startsWith('rating')) return 'rating';
  return 'goodbye';
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
