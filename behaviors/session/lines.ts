/**
 * The session's own fixed wording: lines the flow says by itself (not composed by the responder,
 * not a scripted safety reply, which live in `../safeguards/replies.ts`). Every line here is run
 * through the output checks by `test/robot-lines.test.ts`, through `SESSION_LINES` and `FALLBACK_LINES`.
 */
import type { SpeechAct } from '../ports.js';
import { CRISIS_CLOSE, CRISIS_FOLLOW_UPS, SCREEN_FAILED_LINE } from '../safeguards/replies.js';
import type { SurveyInstrument } from './session.machine.js';

/** Lines used when composing or checking fails: plain, kind, and never wrong. */
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
  'rating.ack': 'Thank you.',
  'survey.intro': 'I have a few short questions for you.',
  goodbye: 'Thank you for today. Goodbye for now.',
  safe: "Thank you for telling me. I'm listening.",
};

/** The fallback line for `act` (the generic safe line when the act has none of its own). */
export function fallbackLine(act: SpeechAct): string {
  return FALLBACK_LINES[act] ?? FALLBACK_LINES.safe!;
}

/** Said when nobody answered the check-in: the session did not take place. */
export const NOT_A_GOOD_TIME = "It seems now isn't a good time. That's completely fine, I'll check in with you later.";
/** Said after listening to a participant who spoke over a statement (the story). */
export const CARRY_ON = 'Thank you. Let me carry on where I was.';

/** The 1–5 "How much could you relate to this story?" item of the `rating` behaviour. */
export const RELATE_INSTRUMENT: SurveyInstrument = {
  id: 'story_relate',
  intro: null,
  scoringVersion: 'story-relate-1',
  items: [{
    code: 'relate',
    prompt: 'How much could you relate to this story, from 1, not at all, to 5, very much?',
    scale: {
      min: 1,
      max: 5,
      labels: { 1: 'not at all', 5: 'very much' },
      phrases: {
        1: ['not at all', 'nothing', 'none', 'no', "couldn't relate", 'could not relate', "didn't relate", 'did not relate', 'not in the slightest'],
        2: ['a little', 'a bit', 'slightly', 'not much', 'not very much', 'not really', 'barely', 'hardly'],
        3: ['somewhat', 'moderately', 'some', 'sort of', 'kind of', 'in the middle', 'so so', 'medium', 'halfway'],
        4: ['quite a bit', 'quite a lot', 'a lot', 'quite', 'mostly', 'pretty much', 'very'],
        5: ['completely', 'totally', 'entirely', 'so much', 'extremely', 'absolutely', 'a great deal', 'deeply', 'fully'],
      },
    },
  }],
};

/**
 * Every fixed line the session can say besides `FALLBACK_LINES`, the crisis farewell and the rating
 * item: its own lines and the scripted safety lines its flow says (crisis close and follow-ups, the
 * failed-screen line). For the output-check tests.
 */
export const SESSION_LINES: readonly string[] = [CRISIS_CLOSE, SCREEN_FAILED_LINE, NOT_A_GOOD_TIME, CARRY_ON, ...CRISIS_FOLLOW_UPS];
