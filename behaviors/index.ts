/** Public surface of `behaviors/`: the session, the responder, stories, dialogue, memory, safeguards, and the ports they need. */
export type * from './ports.js';
export { fnv1a } from './hash.js';
export { acceptedAnswers, ACCEPT_ANSWER_CONFIDENCE, AGREED_ANSWER_CONFIDENCE, CONFIRM_ANSWER_FLOOR, decideAnswer, OPEN_ANSWER_CONFIDENCE, recognitionConfidence, wantsToStop, YES_NO_ANSWERS, type AnswerDecision, type HeardReply } from './session/answers.js';
export {
  composeRequest, currentInstrument, DEFAULT_STEPS, FALLBACK_LINES, RELATE_INSTRUMENT, REPAIR_CONFIDENCE, SESSION_BEHAVIOURS, sessionMachine, type ResumePoint,
  type ScreenRequest, type ScreenResult, type SessionEvent, type SessionInput, type SessionDevice, type SessionOutcome, type SessionProgress, type SessionStep, type SurveyInstrument,
  type SurveyItem, type ResponseParams,
} from './session/session.machine.js';
export { sayLineMachine, type CheckedLine, type CheckRequest, type SayLineEvent, type SayLineInput, type SayLineOutput } from './session/say-line.machine.js';
export { SESSION_LINES } from './session/lines.js';
export { handsOverFloor, OfflineResponder, type ComposeRequest } from './responder/offline-responder.js';
export { hear, type Heard } from './responder/listen-for.js';
export { bundledStories, parseStoryLibrary, StoryLibraryError, wordCount, type Story } from './stories/story.js';
export * from './stories/choose.js';
export * from './stories/vectors.js';
export * from './expression.js';
export * from './dialogue/index.js';
export * from './memory/index.js';
export * from './safeguards/index.js';
