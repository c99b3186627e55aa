import { chooseStory, choiceLogDetail, loadStoryVectors, type LoadedStoryVectors, type SentenceEncoder, type SentenceMatching, type Story } from '../../behaviors/index.js';
import { readManifest, USE_LITE_MODEL } from '../../perception/index.js';
import { ManualClock } from '../clock.js';
import type { CompanionCore } from './core.js';

/** Choose the session's story: matched to what was shared or a seeded draw (the day's plan says which), never one heard before while others remain. */
export function createStoryChoice(core: CompanionCore) {
  const { o, log, clock, pid, allows } = core;
  // Story vectors per encoder, made once per run (pinned file, or computed when it does not match).
  const vectors = new WeakMap<SentenceEncoder, Promise<LoadedStoryVectors>>();

  /** Matching by meaning: the device's sentence encoder (the one the learned safeguard layer loaded) and the story vectors. */
  const sentenceMatching = async (sessionId: string): Promise<SentenceMatching | { unavailable: string } | undefined> => {
    if (!o.safeguardGate) return undefined;
    try {
      const gate = await o.safeguardGate();
      if (!gate.learned) return { unavailable: gate.failure ?? 'the sentence encoder did not load' };
      const encoder = gate.learned.encoder;
      let p = vectors.get(encoder);
      if (!p) {
        const modelSha256 = encoder.id.startsWith('use-lite/') ? readManifest().models[USE_LITE_MODEL]?.sha256 : undefined;
        p = loadStoryVectors(encoder, o.stories, modelSha256 ? { modelSha256 } : {});
        vectors.set(encoder, p);
        p.then((v) => log.recordEvent('story.vectors', { encoder: encoder.id, source: v.source, stories: v.vectors.size, ...(v.refused ? { refused: v.refused } : {}) }, clock.now(), sessionId), () => vectors.delete(encoder));
      }
      const loaded = await p;
      return { encoder, vectors: loaded.vectors, vectorsSource: loaded.source };
    } catch (error) {
      return { unavailable: (error as Error).message };
    }
  };

  return async ({ sessionId, shared }: { sessionId: string; shared: readonly string[] }): Promise<Story> => {
    const day = core.services(sessionId)?.studyDay ?? log.session(sessionId)?.studyDay ?? core.dayOf(clock.now());
    const heard = log.storiesHeard(pid);
    const condition = core.planFor(day)?.storySelection ?? 'random';
    // Words are matched on the device; they leave it only through an embeddings call, which needs model consent.
    const embed = o.llm && allows('llm_processing') && o.llm.embeddingModel ? o.llm.embedder((r) => log.recordEvent('llm.call', r, clock.now(), sessionId)) : undefined;
    // Encoding is real work: on a simulated clock it is tracked, so simulated time does not run ahead of it.
    const real = <T>(p: Promise<T>): Promise<T> => (clock instanceof ManualClock ? clock.track(p) : p);
    const sentence = condition === 'matched' ? await real(sentenceMatching(sessionId)) : undefined;
    const choice = (await real(chooseStory({ condition, participantId: pid, studyDay: day, shared: shared.join(' '), heard, stories: o.stories, seed: o.storySeed, embed, ...(sentence ? { sentence } : {}) })))
      ?? (await chooseStory({ condition: 'random', participantId: pid, studyDay: day, shared: '', heard: [], stories: o.stories, seed: `${o.storySeed ?? ''}|repeat` }));
    if (!choice) throw new Error('the story library is empty');
    log.recordEvent('story.chosen', choiceLogDetail(choice), clock.now(), sessionId);
    return choice.story;
  };
}
