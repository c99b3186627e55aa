/** Public surface of `behaviors/`: the session, the responder, the stories, the ports they need. */
export type * from './ports.js';
export { normalise, parseScaleAnswer, RELATE_SCALE, wantsToStop, type ResponseScale, type ScaleAnswer } from './session/answers.js';
export {
  FALLBACK_LINES, SESSION_STEPS, sessionMachine, type ResumePoint, type ScreenResult, type SessionEvent, type SessionInput,
  type SessionOutcome, type SessionProgress, type SessionStep,
} from './session/session.machine.js';
export { OfflineResponder, type ComposeRequest } from './responder/offline-responder.js';
export { hear, type Heard } from './responder/listen-for.js';
export { bundledStories, parseStoryLibrary, StoryLibraryError, wordCount, type Story } from './stories/story.js';
