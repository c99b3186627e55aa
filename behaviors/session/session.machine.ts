import { assign, fromCallback, fromPromise, sendTo, setup, type EventObject } from 'xstate';
import {
  BEHAVIOURS, parseScaleAnswer as parseOnScale, parseYesNo, type ConsentModality, type ResponseScale, type ScaleAnswer, type UnclearReason,
} from '../../study-protocol/index.js';
import type { ListenRequest, RobotLine, SpeechAct, Utterance } from '../ports.js';
import type { ComposeRequest } from '../responder/offline-responder.js';
import { CRISIS_CLOSE, crisisFarewell, crisisFollowUp, SCREEN_FAILED_LINE } from '../safeguards/replies.js';
import type { Story } from '../stories/story.js';
import { acceptedAnswers, confirmationLine, decideAnswer, recognitionConfidence, wantsToStop, YES_NO_ANSWERS, type AnswerAlternative, type AnswerDecision } from './answers.js';
import { CARRY_ON, NOT_A_GOOD_TIME, RELATE_INSTRUMENT } from './lines.js';
import { sayLineMachine, type SayLineOutput } from './say-line.machine.js';

export { FALLBACK_LINES, RELATE_INSTRUMENT, SESSION_LINES } from './lines.js';

/** Behaviours a session template can name, besides `survey:<instrument>` steps. */
export const SESSION_BEHAVIOURS = BEHAVIOURS;
/** The storytelling session of issue 2, used when no study protocol gives a template. */
export const DEFAULT_STEPS: readonly string[] = BEHAVIOURS;
/** Where in a session a line or answer belongs (a behaviour, or `survey`). */
export type SessionStep = (typeof SESSION_BEHAVIOURS)[number] | 'survey' | 'crisis' | 'interruption';

/** One question of a spoken questionnaire. */
export interface SurveyItem {
  code: string;
  prompt: string;
  scale: ResponseScale;
  /** A consent question the session cannot go on without: answering 0 ("no") ends the session. */
  required?: boolean;
  /** Set on the items of a consent survey: the modality a yes or no answers. */
  modality?: ConsentModality;
}

/** A questionnaire the robot administers by voice. */
export interface SurveyInstrument {
  id: string;
  intro: string | null;
  scoringVersion: string;
  items: readonly SurveyItem[];
  /** `consent`: answers are consent records (one per item's `modality`), not questionnaire responses. */
  records?: 'responses' | 'consent';
}

/** What is saved at every step, enough to resume after a crash. */
export interface SessionProgress {
  /** Index into the session's steps. */
  stepIndex: number;
  paragraph: number;
  mood: string | null;
  shared: string[];
  exchanges: number;
  /** Index of the next item in the current survey. */
  item: number;
  /** Answered values by `instrument:item`, for the session summary. */
  answers: Record<string, number | 'skipped' | null>;
  goodbyeSaid: boolean;
}

/** Where to pick a session up after a restart. */
export interface ResumePoint {
  progress: SessionProgress;
}

/** What the session needs to run. */
export interface SessionInput {
  sessionId: string;
  participantId: string;
  studyDay: number;
  /** The story, when already chosen (a resumed session); otherwise chosen at the story step. */
  story: Story | null;
  firstSession: boolean;
  /** The robot started this session on its own (a scheduled invitation), not the participant. */
  invitation?: boolean;
  /** Behaviour names and `survey:<id>` steps, in order. */
  steps?: readonly string[];
  /** Instruments named by `survey:<id>` steps. */
  instruments?: Readonly<Record<string, SurveyInstrument>>;
  /** Listen-and-respond exchanges in the `empathy` step. */
  exchanges?: number;
  /** Study region (`US`, `GB`…), for the crisis resources repeated when a participant in crisis says goodbye. */
  region?: string;
  resume?: ResumePoint;
}

/** The reason recorded for a session that ended in crisis care, however it ended (goodbye, quiet, gone). */
export const ENDED_AFTER_CRISIS = 'ended-after-crisis';

/** How a session ended. */
export interface SessionOutcome {
  /** `missed`: nobody answered, so the session did not take place. */
  status: 'completed' | 'interrupted' | 'missed';
  reason: string | null;
  /** Set when a device failure ended the session: the runtime degrades and checks the device again. */
  deviceFault?: SessionDevice;
}

/** A device whose failure ends a session. */
export type SessionDevice = 'speaker' | 'microphone';

/** What the `screen` actor is asked to check: every utterance heard, before the session acts on it. */
export interface ScreenRequest {
  utterance: Utterance;
  step: SessionStep;
  sessionId: string;
  /**
   * The recogniser was unsure and the robot will ask again unless the screen finds something unsafe:
   * act only on crisis, harm or medical signals, with no other side effects (no memory, no deletions).
   */
  tentative: boolean;
}

/** The safeguard verdict on a participant turn, as far as the flow is concerned. */
export type ScreenResult =
  | { route: 'continue' }
  /** Say this (an AI disclosure, a boundary, what is remembered), then go on. */
  | { route: 'reply'; line: RobotLine }
  /** Leave the story flow: say this, stay with the participant, close gently. */
  | { route: 'crisis'; line: RobotLine }
  /** What was heard was unsure and might be a crisis: ask this gentle question and listen again (a repair). */
  | { route: 'clarify'; line: RobotLine };

type HeardEvent = { type: 'participant.spoke'; utterance: Utterance };
/** Events the session machine accepts. */
export type SessionEvent =
  | HeardEvent
  | { type: 'participant.interrupted' }
  | { type: 'participant.left' }
  | { type: 'listener.failed'; reason: string };

interface SessionContext {
  input: SessionInput;
  steps: readonly string[];
  story: Story | null;
  progress: SessionProgress;
  /** Robot lines so far (for varied wording). */
  turnIndex: number;
  /** The line being composed or spoken. */
  line: RobotLine | null;
  /** What was just heard, being screened: nothing acts on it before the screen has answered. */
  pending: Utterance | null;
  /** A line decided elsewhere (a safeguard reply), said instead of composing one. */
  scripted: RobotLine | null;
  lastUtterance: Utterance | null;
  reprompts: number;
  unclear: UnclearReason | null;
  /** An answer heard with too little confidence to store, said back to the participant and awaiting their yes. */
  confirming: (AnswerDecision & { kind: 'confirm' }) | null;
  crisisTurns: number;
  /** Whether the participant has said anything in this session. */
  heardAny: boolean;
  /** The protocol's session time limit has passed: close at the next step. */
  overtime: boolean;
  outcome: SessionOutcome;
}

const unprovided = (name: string) => () => {
  throw new Error(`actor ${name} not provided`);
};

const blankProgress = (): SessionProgress => ({
  stepIndex: 0, paragraph: 0, mood: null, shared: [], exchanges: 0, item: 0, answers: {}, goodbyeSaid: false,
});

/** The step name at the session's current position (`survey` for `survey:<id>`). */
function currentStep(c: SessionContext): string {
  return c.steps[c.progress.stepIndex] ?? 'end';
}

/** The instrument of the current survey or rating step. */
export function currentInstrument(c: SessionContext): SurveyInstrument {
  const step = currentStep(c);
  if (step === 'rating') return RELATE_INSTRUMENT;
  const id = step.startsWith('survey:') ? step.slice('survey:'.length) : '';
  const found = c.input.instruments?.[id];
  if (!found) throw new Error(`session step ${step}: no instrument "${id}" was provided`);
  return found;
}

/** Understand an answer: yes/no questions (a 0–1 scale) as yes or no, others on their scale. */
function parseScaleAnswer(text: string, scale: ResponseScale): ScaleAnswer {
  if (scale.min === 0 && scale.max === 1) {
    const yn = parseYesNo(text);
    return yn.kind === 'yes' ? { kind: 'value', value: 1 } : yn.kind === 'no' ? { kind: 'value', value: 0 } : parseOnScale(text, scale);
  }
  return parseOnScale(text, scale);
}

/** One questionnaire answer to persist, with how it was recognised when a recogniser gave figures. */
export interface ResponseParams {
  instrument: SurveyInstrument;
  item: SurveyItem;
  value: number | null;
  raw: string | null;
  status: 'answered' | 'skipped' | 'unanswered';
  /** The recogniser's confidence in the answer stored (0..1), when known. */
  confidence?: number;
  /** Other answers the recogniser considered. */
  alternatives?: readonly AnswerAlternative[];
  /** The participant said yes when the robot said the answer back. */
  confirmed?: boolean;
}

/** What was heard, decided as an answer to the current item (or, while confirming, as a yes or no). */
function decisionOf(c: SessionContext): AnswerDecision {
  const u = c.lastUtterance ?? { text: '' };
  if (c.confirming) return decideAnswer(u, (t) => parseScaleAnswer(t, { min: 0, max: 1 }));
  return decideAnswer(u, (t) => parseScaleAnswer(t, currentItem(c).scale));
}

/** The answers the survey step listens for now: the item's, or yes/no while an answer is being confirmed. */
function expectedAnswers(c: SessionContext, step: SessionStep): readonly string[] | undefined {
  if (step !== 'survey' && step !== 'rating') return undefined;
  try {
    return c.confirming ? acceptedAnswers({ min: 0, max: 1 }).filter((a) => YES_NO_ANSWERS.includes(a) || /repeat|again/.test(a)) : acceptedAnswers(currentItem(c).scale);
  } catch {
    return undefined;
  }
}

/** The first required consent item answered "no" in this session, if any. */
function declinedRequired(c: SessionContext): string | null {
  for (const [id, instrument] of Object.entries(c.input.instruments ?? {})) {
    for (const item of instrument.items) {
      if (item.required && c.progress.answers[`${id}:${item.code}`] === item.scale.min) return item.code;
    }
  }
  return null;
}

const currentItem = (c: SessionContext): SurveyItem => currentInstrument(c).items[c.progress.item]!;
const stepKind = (c: SessionContext): SessionStep => {
  const step = currentStep(c);
  return step.startsWith('survey:') ? 'survey' : (step as SessionStep);
};

/** The request handed to the `compose` actor for a speech act. */
export function composeRequest(c: SessionContext, requested: SpeechAct): ComposeRequest {
  // The rating item keeps its own, varied wording; protocol surveys are asked word for word.
  const rating = stepKind(c) === 'rating';
  const act: SpeechAct = rating && requested === 'survey.ask' ? 'rating.ask' : rating && requested === 'survey.reprompt' ? 'rating.reprompt' : requested;
  const survey = act.startsWith('survey.') || act === 'rating.ask' || act === 'rating.reprompt';
  return {
    act,
    participantId: c.input.participantId,
    sessionId: c.input.sessionId,
    studyDay: c.input.studyDay,
    turnIndex: c.turnIndex,
    story: c.story ? { id: c.story.id, title: c.story.title } : null,
    paragraph: act === 'story' ? c.story?.paragraphs[c.progress.paragraph] : undefined,
    lastUtterance: c.lastUtterance?.text ?? null,
    shared: c.progress.shared,
    // The robot's last line (of a streamed reply, its last sentence): the next turn varies its moves from it.
    previousLine: c.line?.text,
    finalExchange: act === 'empathy' ? c.progress.exchanges + 1 >= (c.input.exchanges ?? 2) : undefined,
    firstSession: c.input.firstSession,
    invitation: c.input.invitation,
    scripted: c.scripted?.text,
    prompt: survey
      ? act === 'survey.intro' ? currentInstrument(c).intro ?? undefined : currentItem(c).prompt
      : undefined,
    unclear: c.unclear ?? undefined,
    scale: survey && act !== 'survey.intro' ? currentItem(c).scale : undefined,
  };
}

const session = setup({
  types: {
    context: {} as SessionContext,
    events: {} as SessionEvent,
    input: {} as SessionInput,
    output: {} as SessionOutcome,
  },
  actors: {
    /** Says one line: compose (or the scripted line), check, speak, and a streamed reply's next sentences. */
    sayLine: sayLineMachine,
    listen: fromCallback<EventObject, ListenRequest>(unprovided('listen')),
    screen: fromPromise<ScreenResult, ScreenRequest>(unprovided('screen')),
    chooseStory: fromPromise<Story, { sessionId: string; shared: readonly string[] }>(unprovided('chooseStory')),
    /** Sends `participant.interrupted` when the participant starts speaking while the robot talks. */
    watchBargeIn: fromCallback<EventObject>(unprovided('watchBargeIn')),
  },
  actions: {
    /** Persist the position reached and the progress so far (provided by the runtime). */
    saveProgress: (_, _params: { step: string; progress: SessionProgress }) => {
      throw new Error('action saveProgress not provided');
    },
    /** Persist a participant utterance. */
    recordParticipantTurn: (_, _params: { utterance: Utterance; step: SessionStep }) => {
      throw new Error('action recordParticipantTurn not provided');
    },
    /** Persist one questionnaire answer. */
    recordResponse: (_, _params: ResponseParams) => {
      throw new Error('action recordResponse not provided');
    },
    /** Persist the chosen story. */
    recordStory: (_, _params: { story: Story }) => {
      throw new Error('action recordStory not provided');
    },
    /** Log something that happened in the session (fallback lines, silences, unknown steps). */
    recordSessionEvent: (_, _params: { kind: string; detail?: unknown }) => {
      throw new Error('action recordSessionEvent not provided');
    },
  },
  guards: {
    /** What was heard (and screened) asks to end the session now. */
    wantsToStop: ({ context }) => context.pending !== null && wantsToStop(context.pending.text),
    /** What was heard is too unsure to act on: ask the participant to say it again (once). */
    tentative: ({ context }) => isTentative(context),
    mayReprompt: ({ context }) => context.reprompts < 1,
    surveyMayReprompt: ({ context }) => context.reprompts < 2,
    moreParagraphs: ({ context }) => context.story !== null && context.progress.paragraph < context.story.paragraphs.length,
    moreExchanges: ({ context }) => context.progress.exchanges < (context.input.exchanges ?? 2),
    moreItems: ({ context }) => context.progress.item < currentInstrument(context).items.length,
  },
  delays: {
    /** Silence after a question before the robot gently asks again. */
    replyTimeout: 20_000,
    /** The longest a session may run (the protocol's `max_session_minutes`). */
    sessionLimit: 45 * 60_000,
  },
});

/** The screened utterance is acted on: it becomes what the participant said last, and nothing is pending. */
const acted = session.assign({ lastUtterance: ({ context }) => context.pending, pending: null });
/** What was shared in reflection and empathic listening, for the empathic reply and story matching. */
const shareHeard = session.assign({ progress: ({ context }) => ({ ...context.progress, shared: [...context.progress.shared, context.pending?.text ?? ''] }) });

/**
 * One session, driven by its template: greeting, spoken surveys, mood check-in, a story read a
 * paragraph at a time, a reflection question, empathic listening, a 1–5 rating, goodbye. Effects are
 * injected: the `sayLine` child machine says each line (its own actors compose, check and speak
 * it), `listen` hears the participant, `screen` runs
 * safeguards on what was heard, `chooseStory` picks the story; actions persist turns and progress.
 * A crisis leaves the story flow but never the participant: the robot stays and listens, then
 * closes gently.
 */
export const sessionMachine = session.createMachine({
  id: 'session',
  context: ({ input }) => ({
    input,
    steps: input.steps ?? DEFAULT_STEPS,
    story: input.story,
    progress: input.resume ? { ...blankProgress(), ...input.resume.progress } : blankProgress(),
    turnIndex: 0,
    line: null,
    scripted: null,
    pending: null,
    lastUtterance: null,
    reprompts: 0,
    unclear: null,
    confirming: null,
    crisisTurns: 0,
    heardAny: input.resume !== undefined,
    overtime: false,
    outcome: { status: 'completed', reason: null },
  }),
  // The session time limit: the robot finishes what it is saying, then closes at the next step.
  after: { sessionLimit: { actions: assign({ overtime: true }) } },
  invoke: { id: 'bargeIn', src: 'watchBargeIn' },
  initial: 'starting',
  output: ({ context }) => context.outcome,
  states: {
    starting: {
      always: [{ guard: ({ context }) => context.input.resume !== undefined, target: 'resuming' }, { target: 'routing' }],
    },
    resuming: sayState('resume', '#session.routing'),

    /** Dispatch on the current step of the template. */
    routing: {
      entry: { type: 'saveProgress', params: ({ context }) => ({ step: currentStep(context), progress: context.progress }) },
      always: [
        { guard: ({ context }) => context.progress.stepIndex >= context.steps.length, target: 'goodbye' },
        {
          // A required consent was declined just now: stop here, kindly, and do nothing it does not allow.
          guard: ({ context }) => declinedRequired(context) !== null && currentStep(context) !== 'goodbye',
          target: 'goodbye',
          actions: assign({ outcome: ({ context }) => ({ status: 'completed' as const, reason: `required consent declined: ${declinedRequired(context)}` }), steps: ['goodbye'], progress: ({ context }) => ({ ...context.progress, stepIndex: 0 }) }),
        },
        {
          guard: ({ context }) => context.overtime && currentStep(context) !== 'goodbye',
          target: 'goodbye',
          actions: [
            assign({ outcome: { status: 'completed' as const, reason: 'session time limit reached' } }),
            { type: 'recordSessionEvent', params: ({ context }) => ({ kind: 'session.time-limit', detail: { skipped: context.steps.slice(context.progress.stepIndex) } }) },
          ],
        },
        { guard: ({ context }) => currentStep(context) === 'greeting', target: 'greeting' },
        { guard: ({ context }) => currentStep(context) === 'checkin', target: 'checkin' },
        { guard: ({ context }) => currentStep(context) === 'story', target: 'story' },
        { guard: ({ context }) => currentStep(context) === 'reflection', target: 'reflection' },
        { guard: ({ context }) => currentStep(context) === 'empathy', target: 'empathy' },
        { guard: ({ context }) => currentStep(context) === 'rating' || currentStep(context).startsWith('survey:'), target: 'survey' },
        { guard: ({ context }) => currentStep(context) === 'goodbye', target: 'goodbye' },
        {
          target: 'advancing',
          actions: { type: 'recordSessionEvent', params: ({ context }) => ({ kind: 'session.step-unknown', detail: { step: currentStep(context) } }) },
        },
      ],
    },
    /** The current step is done: move to the next one. */
    advancing: {
      entry: assign({
        progress: ({ context }) => ({ ...context.progress, stepIndex: context.progress.stepIndex + 1, item: 0 }),
        reprompts: 0,
        unclear: null,
      }),
      always: 'routing',
    },

    greeting: sayState('greeting', '#session.advancing'),

    checkin: {
      initial: 'asking',
      entry: assign({ reprompts: 0 }),
      states: {
        asking: sayState('checkin.ask', '#session.checkin.listening'),
        listening: listenState('checkin', '#session.checkin.silence'),
        repairing: sayState('repair', '#session.checkin.listening'),
        screening: screenState('checkin', '#session.checkin.acknowledging', assign({ progress: ({ context }) => ({ ...context.progress, mood: context.pending?.text ?? null }) })),
        replying: sayState('safe', '#session.advancing'),
        silence: {
          always: [
            { guard: 'mayReprompt', target: 'reprompting', actions: assign({ reprompts: ({ context }) => context.reprompts + 1 }) },
            // Nobody has answered at all: do not read a story to an empty room.
            { guard: ({ context }) => !context.heardAny, target: 'unanswered', actions: silentEvent('checkin') },
            { target: 'acknowledging', actions: [assign({ lastUtterance: null }), silentEvent('checkin')] },
          ],
        },
        unanswered: {
          entry: assign({
            outcome: { status: 'missed' as const, reason: 'nobody answered' },
            scripted: { text: NOT_A_GOOD_TIME, act: 'goodbye' as const },
          }),
          ...sayState('goodbye', '#session.done'),
        },
        reprompting: sayState('checkin.reprompt', '#session.checkin.listening'),
        acknowledging: sayState('checkin.ack', '#session.advancing'),
      },
    },

    story: {
      initial: 'choosing',
      states: {
        choosing: {
          always: { guard: ({ context }) => context.story !== null, target: 'routing' },
          invoke: {
            id: 'chooseStory',
            src: 'chooseStory',
            input: ({ context }) => ({
              sessionId: context.input.sessionId,
              shared: [context.progress.mood, ...context.progress.shared].filter((s): s is string => !!s),
            }),
            onDone: {
              target: 'routing',
              actions: [
                assign({ story: ({ event }) => event.output }),
                { type: 'recordStory', params: ({ event }) => ({ story: event.output }) },
              ],
            },
            onError: {
              target: '#session.advancing',
              actions: { type: 'recordSessionEvent', params: ({ event }) => ({ kind: 'story.unavailable', detail: { error: errorText(event.error) } }) },
            },
          },
        },
        routing: { always: [{ guard: ({ context }) => context.progress.paragraph === 0, target: 'introducing' }, { target: 'reading' }] },
        introducing: sayState('story.intro', '#session.story.reading'),
        reading: {
          always: { guard: ({ context }) => !(context.story !== null && context.progress.paragraph < context.story.paragraphs.length), target: '#session.advancing' },
          ...sayState('story', '#session.story.paragraphRead'),
        },
        paragraphRead: {
          entry: [
            assign({ progress: ({ context }) => ({ ...context.progress, paragraph: context.progress.paragraph + 1 }) }),
            { type: 'saveProgress', params: ({ context }) => ({ step: 'story', progress: context.progress }) },
          ],
          always: [{ guard: 'moreParagraphs', target: 'reading' }, { target: '#session.advancing' }],
        },
      },
    },

    reflection: {
      initial: 'asking',
      entry: assign({ reprompts: 0 }),
      states: {
        asking: sayState('reflection.ask', '#session.reflection.listening'),
        listening: listenState('reflection', '#session.reflection.silence'),
        repairing: sayState('repair', '#session.reflection.listening'),
        screening: screenState('reflection', '#session.advancing', shareHeard),
        replying: sayState('safe', '#session.advancing'),
        silence: {
          always: [
            { guard: 'mayReprompt', target: 'reprompting', actions: assign({ reprompts: ({ context }) => context.reprompts + 1 }) },
            { target: '#session.advancing', actions: [assign({ lastUtterance: null }), silentEvent('reflection')] },
          ],
        },
        reprompting: sayState('reflection.reprompt', '#session.reflection.listening'),
      },
    },

    /** Respond with empathy to what was shared, listen again, respond again, up to `exchanges` times. */
    empathy: {
      initial: 'routing',
      entry: assign({ reprompts: 0 }),
      states: {
        routing: {
          always: [
            // Nothing shared (silence or a skipped reflection): nothing to respond to.
            { guard: ({ context }) => context.progress.shared.length === 0 || context.lastUtterance === null, target: '#session.advancing' },
            { target: 'responding' },
          ],
        },
        responding: sayState('empathy', '#session.empathy.responded'),
        responded: {
          entry: [
            assign({ progress: ({ context }) => ({ ...context.progress, exchanges: context.progress.exchanges + 1 }), reprompts: 0 }),
            { type: 'saveProgress', params: ({ context }) => ({ step: 'empathy', progress: context.progress }) },
          ],
          always: [{ guard: 'moreExchanges', target: 'listening' }, { target: '#session.advancing' }],
        },
        listening: listenState('empathy', '#session.advancing'),
        repairing: sayState('repair', '#session.empathy.listening'),
        screening: screenState('empathy', '#session.empathy.responding', shareHeard),
        replying: sayState('safe', '#session.empathy.responded'),
      },
    },

    /** A spoken questionnaire (a `survey:<id>` step, or the `rating` item): ask, understand, ask again, record. */
    survey: {
      initial: 'routing',
      states: {
        routing: {
          always: [
            { guard: ({ context }) => { try { currentInstrument(context); return false; } catch { return true; } }, target: '#session.advancing', actions: { type: 'recordSessionEvent', params: ({ context }) => ({ kind: 'survey.missing', detail: { step: currentStep(context) } }) } },
            { guard: ({ context }) => context.progress.item === 0 && currentInstrument(context).intro !== null, target: 'introducing' },
            { target: 'next' },
          ],
        },
        introducing: sayState('survey.intro', '#session.survey.next'),
        next: {
          entry: [assign({ reprompts: 0, unclear: null, confirming: null }), { type: 'saveProgress', params: ({ context }) => ({ step: currentStep(context), progress: context.progress }) }],
          always: [
            { guard: ({ context }) => declinedRequired(context) !== null, target: '#session.routing' },
            { guard: 'moreItems', target: 'asking' },
            { target: '#session.advancing' },
          ],
        },
        asking: sayState('survey.ask', '#session.survey.listening'),
        listening: listenState('survey', '#session.survey.silence'),
        repairing: sayState('repair', '#session.survey.listening'),
        // An answer is screened like anything else said: "I don't want to live anymore" is not "unclear".
        screening: screenState('survey', '#session.survey.heard'),
        // After a reply from the screen (an AI disclosure, a boundary), an answer given with it counts;
        // otherwise the item is asked again, word for word.
        replying: sayState('safe', '#session.survey.replied'),
        replied: {
          always: [
            { guard: ({ context }) => context.confirming !== null || decisionOf(context).kind !== 'unclear', target: 'heard' },
            { target: 'asking' },
          ],
        },
        heard: {
          always: [
            // The answer to "I want to be sure I heard you: four. Is that right?": only a clear yes stores it.
            {
              guard: ({ context }) => context.confirming !== null && isYes(decisionOf(context)),
              target: 'recorded',
              actions: [
                { type: 'recordResponse', params: ({ context }) => confirmedParams(context) },
                assign({ progress: ({ context }) => withAnswer(context), confirming: null }),
              ],
            },
            {
              guard: ({ context }) => context.confirming !== null && context.reprompts < 2,
              target: 'reprompting',
              actions: assign({ confirming: null, reprompts: ({ context }) => context.reprompts + 1, unclear: 'repeat_requested' as UnclearReason }),
            },
            {
              guard: ({ context }) => context.confirming !== null,
              target: 'recorded',
              actions: [
                { type: 'recordResponse', params: ({ context }) => ({ instrument: currentInstrument(context), item: currentItem(context), value: null, raw: context.lastUtterance?.text ?? null, status: 'unanswered' as const }) },
                assign({ progress: ({ context }) => withAnswer(context, null), confirming: null }),
              ],
            },
            {
              guard: ({ context }) => decisionOf(context).kind === 'accept',
              target: 'recorded',
              actions: [
                { type: 'recordResponse', params: ({ context }) => answerParams(context) },
                assign({ progress: ({ context }) => withAnswer(context) }),
              ],
            },
            // Heard with too little confidence to store: said back, stored only on a yes.
            {
              guard: ({ context }) => decisionOf(context).kind === 'confirm',
              target: 'confirming',
              actions: assign(({ context }) => {
                const d = decisionOf(context) as AnswerDecision & { kind: 'confirm' };
                return { confirming: d, scripted: { text: confirmationLine(d.text, d.answer), act: 'repair' as const } };
              }),
            },
            {
              guard: 'surveyMayReprompt',
              target: 'reprompting',
              actions: assign({
                reprompts: ({ context }) => context.reprompts + 1,
                unclear: ({ context }) => {
                  const a = decisionOf(context);
                  return a.kind === 'unclear' ? a.reason : null;
                },
              }),
            },
            {
              target: 'recorded',
              actions: [
                { type: 'recordResponse', params: ({ context }) => ({ ...answerParams(context), value: null, status: 'unanswered' as const }) },
                assign({ progress: ({ context }) => withAnswer(context, null) }),
              ],
            },
          ],
        },
        confirming: sayState('repair', '#session.survey.listening'),
        silence: {
          always: [
            { guard: 'mayReprompt', target: 'reprompting', actions: assign({ reprompts: ({ context }) => context.reprompts + 1, unclear: 'empty' as UnclearReason, confirming: null }) },
            {
              target: 'recorded',
              actions: [
                { type: 'recordResponse', params: ({ context }) => ({ instrument: currentInstrument(context), item: currentItem(context), value: null, raw: null, status: 'unanswered' as const }) },
                assign({ progress: ({ context }) => withAnswer(context, null), confirming: null }),
                silentEvent('survey'),
              ],
            },
          ],
        },
        reprompting: sayState('survey.reprompt', '#session.survey.listening'),
        recorded: {
          entry: assign({ progress: ({ context }) => ({ ...context.progress, item: context.progress.item + 1 }) }),
          always: 'next',
        },
      },
    },

    goodbye: {
      entry: { type: 'saveProgress', params: ({ context }) => ({ step: 'goodbye', progress: context.progress }) },
      always: { guard: ({ context }) => context.progress.goodbyeSaid, target: 'done' },
      ...sayState('goodbye', '#session.farewell'),
    },
    farewell: {
      entry: [
        assign({ progress: ({ context }) => ({ ...context.progress, goodbyeSaid: true }) }),
        { type: 'saveProgress', params: ({ context }) => ({ step: 'goodbye', progress: context.progress }) },
      ],
      always: 'done',
    },

    /**
     * After a crisis disclosure the story flow is left, never the person: the robot said the crisis
     * reply (validation, a real resource, a trusted person, that it is an AI), keeps listening and
     * answering through the safeguard screen, and closes gently when the participant is ready.
     */
    crisis: {
      entry: assign({ outcome: { status: 'completed', reason: ENDED_AFTER_CRISIS }, crisisTurns: 0, reprompts: 0 }),
      initial: 'replying',
      states: {
        replying: sayState('crisis', '#session.crisis.listening'),
        listening: listenState('crisis', '#session.crisis.closing'),
        screening: {
          invoke: {
            id: 'screen',
            src: 'screen',
            input: ({ context }) => screenRequest(context, 'crisis'),
            onDone: [
              // Another disclosure, or a safeguard reply: say it, and stay.
              { guard: ({ event }) => event.output.route !== 'continue', target: 'replying', actions: [acted, assign({ scripted: ({ event }) => replyOf(event.output) })] },
              // "Bye" in crisis care: let them go warmly, with the resource said again.
              { guard: 'wantsToStop', target: 'farewell', actions: acted },
              { target: 'replying', actions: [acted, assign({ scripted: ({ context }) => ({ text: crisisFollowUp(context.crisisTurns), act: 'crisis' as const }) })] },
            ],
            onError: {
              target: 'replying',
              actions: [
                acted,
                assign({ scripted: ({ context }) => ({ text: crisisFollowUp(context.crisisTurns), act: 'crisis' as const }) }),
                { type: 'recordSessionEvent', params: ({ event }) => ({ kind: 'screen.failed', detail: { step: 'crisis', error: errorText(event.error) } }) },
              ],
            },
          },
        },
        farewell: {
          entry: [
            assign({ scripted: ({ context }) => ({ text: crisisFarewell(context.input.region), act: 'crisis' as const }) }),
            { type: 'recordSessionEvent', params: { kind: 'crisis.ended', detail: { how: 'goodbye' } } },
          ],
          ...sayState('crisis', '#session.done'),
        },
        closing: {
          entry: [
            assign({ scripted: { text: CRISIS_CLOSE, act: 'crisis' as const } }),
            { type: 'recordSessionEvent', params: { kind: 'crisis.ended', detail: { how: 'quiet' } } },
          ],
          ...sayState('crisis', '#session.done'),
        },
        /** The participant went away (the terminal closed) during crisis care: still a session ended after a crisis. */
        left: {
          entry: { type: 'recordSessionEvent', params: { kind: 'crisis.ended', detail: { how: 'left' } } },
          always: '#session.done',
        },
      },
    },

    /**
     * The participant spoke over the robot during a statement (the story, an acknowledgement): the
     * robot stopped, listens to what they say, screens it, and then carries on with the same step
     * (the story from the paragraph it was reading).
     */
    interruption: {
      initial: 'listening',
      entry: assign({ reprompts: 1 }),
      states: {
        listening: listenState('interruption', '#session.interruption.resuming'),
        repairing: sayState('repair', '#session.interruption.listening'),
        screening: screenState('interruption', '#session.interruption.resuming'),
        replying: sayState('safe', '#session.routing'),
        resuming: {
          entry: assign({ scripted: { text: CARRY_ON, act: 'resume' as const } }),
          ...sayState('resume', '#session.routing'),
        },
      },
    },
    /** The participant left (terminal closed, script ended): end without speaking to an empty room. */
    abandoned: {
      entry: assign({ outcome: { status: 'interrupted', reason: 'participant left' } }),
      always: 'done',
    },
    /** The speaker or microphone failed: the session cannot go on. */
    deviceFailed: { always: 'done' },
    done: { type: 'final' },
  },
});

const isYes = (d: AnswerDecision): boolean => d.kind === 'accept' && d.answer.kind === 'value' && d.answer.value === 1;

/** The response for what was just heard (an accepted answer), or for the answer just confirmed. */
function answerParams(c: SessionContext): ResponseParams {
  if (c.confirming) return confirmedParams(c);
  const d = decisionOf(c);
  const a = d.kind === 'unclear' ? d : d.answer;
  const p: ResponseParams = {
    instrument: currentInstrument(c),
    item: currentItem(c),
    value: a.kind === 'value' ? a.value : null,
    raw: c.lastUtterance?.text ?? null,
    status: a.kind === 'value' ? 'answered' : a.kind === 'skip' ? 'skipped' : 'unanswered',
  };
  if (d.kind === 'accept') {
    if (d.confidence !== undefined) p.confidence = d.confidence;
    if (d.alternatives.length) p.alternatives = d.alternatives;
  }
  return p;
}

/** The response for an answer the participant confirmed: the answer said back, not the "yes". */
function confirmedParams(c: SessionContext): ResponseParams {
  const d = c.confirming!;
  return {
    instrument: currentInstrument(c),
    item: currentItem(c),
    value: d.answer.kind === 'value' ? d.answer.value : null,
    raw: d.text,
    status: d.answer.kind === 'value' ? 'answered' : 'skipped',
    confidence: d.confidence,
    ...(d.alternatives.length ? { alternatives: d.alternatives } : {}),
    confirmed: true,
  };
}

function withAnswer(c: SessionContext, forced?: null): SessionProgress {
  const p = answerParams(c);
  const value = forced === null ? null : p.status === 'skipped' ? 'skipped' : p.value;
  return { ...c.progress, answers: { ...c.progress.answers, [`${p.instrument.id}:${p.item.code}`]: value } };
}

type Target = `#session.${string}`;
// The helpers below build the repeated states with `session.createStateConfig`, so they are typed
// against the session's context, events, actors and actions like the states written inline. What
// stays a plain string is each `target`: XState types state ids only as strings.

function silentEvent(step: SessionStep) {
  return { type: 'recordSessionEvent' as const, params: { kind: 'participant.silent', detail: { step } } };
}

/**
 * Say a line of `act` (composed, or the scripted one) through the `sayLine` child, then go to
 * `next`. Barge-in is forwarded to the child, which stops an interruptible line: speaking over a
 * question answers it (on to `next`, listening); over a statement pauses the session (`interruption`).
 */
function sayState(act: SpeechAct, next: Target) {
  return session.createStateConfig({
    on: { 'participant.interrupted': { actions: sendTo('say', ({ event }) => event) } },
    invoke: {
      id: 'say',
      src: 'sayLine',
      input: ({ context }) => ({ act, request: composeRequest(context, act), scripted: context.scripted, step: stepOfAct(act, context) }),
      onDone: [
        {
          guard: ({ event }) => event.output.result === 'failed',
          target: '#session.deviceFailed',
          actions: assign(({ context, event }) => ({
            ...said(context, event.output),
            outcome: { status: 'interrupted' as const, reason: event.output.result === 'failed' ? event.output.reason : 'speaker failed', deviceFault: 'speaker' as const },
          })),
        },
        {
          guard: ({ event }) => event.output.result === 'interrupted' && !event.output.question,
          target: '#session.interruption',
          actions: assign(({ context, event }) => said(context, event.output)),
        },
        { target: next, actions: assign(({ context, event }) => said(context, event.output)) },
      ],
      // The child machine itself failed (an actor it needs was not provided): the session cannot speak.
      onError: {
        target: '#session.deviceFailed',
        actions: assign({ outcome: ({ event }) => ({ status: 'interrupted' as const, reason: `saying a line failed: ${errorText(event.error)}` }) }),
      },
    },
  });
}

/** What the session keeps from a line said (or cut short): the line, the count of lines, no scripted line pending. */
function said(context: SessionContext, output: SayLineOutput): Pick<SessionContext, 'line' | 'turnIndex' | 'scripted'> {
  return { line: output.line ?? context.line, turnIndex: context.turnIndex + output.spoken, scripted: null };
}

/** Below this speech-recognition confidence the robot asks the participant to say it again (once). */
export const REPAIR_CONFIDENCE = 0.4;

/** Whether an utterance just heard is too unsure to act on, so it is repaired once (never in crisis care). */
function isTentative(c: SessionContext): boolean {
  const u = c.pending;
  const confidence = u === null ? undefined : recognitionConfidence(u);
  return u !== null && confidence !== undefined && confidence < REPAIR_CONFIDENCE && c.reprompts < 1;
}

/** What the screen is asked about the utterance just heard at `step`. */
function screenRequest(c: SessionContext, step: SessionStep): ScreenRequest {
  return { utterance: c.pending!, step, sessionId: c.input.sessionId, tentative: step !== 'crisis' && isTentative(c) };
}

/**
 * Listen for an answer; silence after `replyTimeout` goes to `onSilence`. Whatever is heard goes to
 * the step's `screening` state first: the input safeguards see every utterance before anything acts
 * on it (a repair, a goodbye, a questionnaire answer, the next line). The path tests prove it.
 */
function listenState(step: SessionStep, onSilence: Target) {
  return session.createStateConfig({
    invoke: {
      id: 'listen',
      src: 'listen',
      input: ({ context }) => {
        const answers = expectedAnswers(context, step);
        return { step, prompt: context.line?.text ?? '', ...(answers ? { answers } : {}) };
      },
    },
    after: { replyTimeout: onSilence },
    on: {
      'participant.spoke': {
        target: `#session.${step}.screening`,
        actions: [
          { type: 'recordParticipantTurn', params: ({ event }) => ({ utterance: event.utterance, step }) },
          assign({
            pending: ({ event }) => event.utterance,
            heardAny: true,
            crisisTurns: ({ context }) => context.crisisTurns + (step === 'crisis' ? 1 : 0),
          }),
        ],
      },
      // Gone during crisis care is still a session that ended after a crisis, not "participant left".
      'participant.left': { target: step === 'crisis' ? '#session.crisis.left' : '#session.abandoned' },
      'listener.failed': {
        target: '#session.deviceFailed',
        actions: assign({ outcome: ({ event }) => ({ status: 'interrupted' as const, reason: `microphone failed: ${event.reason}`, deviceFault: 'microphone' as const }) }),
      },
    },
  });
}

/**
 * Run the safeguard screen on what was just heard, then act on it: crisis care; the screen's reply
 * (said in `<step>.replying`); a repair of an unsure utterance; goodbye when asked; or `onHeard`,
 * after `take` (what the step keeps of it).
 */
function screenState(step: SessionStep, onHeard: Target, take?: typeof acted) {
  const replying = `#session.${step}.replying` as Target;
  // What the step keeps is taken from `pending` before `acted` clears it.
  const kept = take ? [take, acted] : [acted];
  return session.createStateConfig({
    invoke: {
      id: 'screen',
      src: 'screen',
      input: ({ context }) => screenRequest(context, step),
      onDone: [
        { guard: ({ event }) => event.output.route === 'crisis', target: '#session.crisis', actions: [acted, assign({ scripted: ({ event }) => replyOf(event.output) })] },
        { guard: ({ event }) => event.output.route === 'reply', target: replying, actions: [...kept, assign({ scripted: ({ event }) => replyOf(event.output) })] },
        // Unsure words that might be a crisis: a gentle question instead of a plain repair; the answer is screened in full.
        { guard: ({ event }) => event.output.route === 'clarify', target: `#session.${step}.repairing`, actions: assign({ reprompts: ({ context }) => context.reprompts + 1, pending: null, scripted: ({ event }) => replyOf(event.output) }) },
        // Not acted on: the participant is asked to say it again, and what they say then is screened.
        { guard: 'tentative', target: `#session.${step}.repairing`, actions: assign({ reprompts: ({ context }) => context.reprompts + 1, pending: null }) },
        { guard: 'wantsToStop', target: '#session.goodbye', actions: [acted, assign({ outcome: { status: 'completed' as const, reason: 'ended early by participant' } })] },
        { target: onHeard, actions: kept },
      ],
      // Fail closed: a screen that errors is handled as unsafe — crisis care with a safe scripted reply.
      onError: {
        target: '#session.crisis',
        actions: [
          acted,
          assign({ scripted: { text: SCREEN_FAILED_LINE, act: 'crisis' as const } }),
          { type: 'recordSessionEvent', params: ({ event }) => ({ kind: 'screen.failed', detail: { step, error: errorText(event.error) } }) },
        ],
      },
    },
  });
}

/** The line a screen verdict asks the robot to say, if any. */
function replyOf(result: ScreenResult): RobotLine | null {
  return result.route === 'continue' ? null : result.line;
}

function stepOfAct(act: SpeechAct, c: SessionContext): SessionStep {
  if (act === 'crisis') return 'crisis';
  if (act === 'greeting' || act === 'resume') return 'greeting';
  if (act.startsWith('checkin')) return 'checkin';
  if (act.startsWith('story')) return 'story';
  if (act.startsWith('reflection')) return 'reflection';
  if (act === 'empathy') return 'empathy';
  if (act.startsWith('survey') || act.startsWith('rating')) return stepKind(c) === 'rating' ? 'rating' : 'survey';
  if (act === 'safe' || act === 'repair') return stepKind(c);
  return 'goodbye';
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
