import { chooseStory, choiceLogDetail, type Story } from '../../behaviors/index.js';
import type { CompanionCore } from './core.js';

/** Choose the session's story: matched to what was shared or a seeded draw (the day's plan says which), never one heard before while others remain. */
export function createStoryChoice(core: CompanionCore) {
  const { o, log, clock, pid, allows } = core;
  return async ({ sessionId, shared }: { sessionId: string; shared: readonly string[] }): Promise<Story> => {
    const day = core.services(sessionId)?.studyDay ?? log.session(sessionId)?.studyDay ?? core.dayOf(clock.now());
    const heard = log.storiesHeard(pid);
    const condition = core.planFor(day)?.storySelection ?? 'random';
    // Words are matched on the device; they leave it only through an embeddings call, which needs model consent.
    const embed = o.llm && allows('llm_processing') && o.llm.embeddingModel ? o.llm.embedder((r) => log.recordEvent('llm.call', r, clock.now(), sessionId)) : undefined;
    const choice = (await chooseStory({ condition, participantId: pid, studyDay: day, shared: shared.join(' '), heard, stories: o.stories, seed: o.storySeed, embed }))
      ?? (await chooseStory({ condition: 'random', participantId: pid, studyDay: day, shared: '', heard: [], stories: o.stories, seed: `${o.storySeed ?? ''}|repeat` }));
    if (!choice) throw new Error('the story library is empty');
    log.recordEvent('story.chosen', choiceLogDetail(choice), clock.now(), sessionId);
    return choice.story;
  };
}
