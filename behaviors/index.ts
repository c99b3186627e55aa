/** Public surface of `behaviors/`: the session, the responder, the stories, the ports they need. */
export type * from './ports.js';
export { normalise, parseScaleAnswer, RELATE_SCALE, wantsToStop, type ResponseScale, type ScaleAnswer } from './session/answers.js';
export { bundledStories, parseStoryLibrary, StoryLibraryError, wordCount, type Story } from './stories/story.js';
