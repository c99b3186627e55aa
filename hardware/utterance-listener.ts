import type { Listener, ListenerEvents, ListenRequest, Utterance } from '../behaviors/index.js';

/**
 * The `Listener` port over a speech pipeline that hears all the time (microphone → voice activity →
 * speech to text): utterances heard while the robot is listening are delivered; one heard while it
 * speaks waits for the next question (the participant answered early); a lost microphone is a
 * listener failure with the pipeline's reason.
 */
export class UtteranceListener implements Listener {
  private waiting: ListenerEvents | null = null;
  private request: ListenRequest | null = null;
  private early: Utterance | null = null;
  private onSpeechStart: (() => void) | null = null;

  constructor(private readonly options: { bargeIn?: boolean } = {}) {}

  /** The pipeline heard speech begin; while the robot talks, that is a barge-in (when enabled). */
  started(): void {
    if (!this.waiting && this.options.bargeIn) this.onSpeechStart?.();
  }

  /** Barge-in, for pipelines that do not hear the robot itself (echo-cancelled robot microphones). */
  watchBargeIn(onSpeechStart: () => void): () => void {
    this.onSpeechStart = onSpeechStart;
    return () => {
      if (this.onSpeechStart === onSpeechStart) this.onSpeechStart = null;
    };
  }

  /** Feed an utterance from the pipeline. */
  heard(u: Utterance): void {
    if (this.waiting) this.waiting.spoke(u);
    else this.early = u;
  }

  /** Report a device fault from the pipeline. */
  fault(reason: string): void {
    this.waiting?.failed(reason);
  }

  /**
   * The answers the question being listened for accepts (from `ListenRequest.answers`), for the speech
   * pipeline to constrain a recognition pass to; undefined while nobody listens or for open questions.
   */
  expectation(): { answers: readonly string[] } | undefined {
    return this.waiting && this.request?.answers?.length ? { answers: this.request.answers } : undefined;
  }

  listen(request: ListenRequest, events: ListenerEvents): () => void {
    this.waiting = events;
    this.request = request;
    const early = this.early;
    this.early = null;
    if (early) setImmediate(() => this.waiting === events && events.spoke(early));
    return () => {
      if (this.waiting === events) {
        this.waiting = null;
        this.request = null;
      }
    };
  }
}
