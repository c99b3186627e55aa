/**
 * A recogniser with a stand-in: the study site's transcription server first (`OpenAiTranscriber`), the
 * device's own offline recogniser whenever it fails. A home's internet comes and goes; an utterance is
 * never lost to it, and after a failure the server is left alone for a cool-down, so the participant
 * does not wait for a timeout on every answer while it is down.
 */
import { TranscriberError, type TranscribeHint, type Transcriber, type Transcript } from './transcriber.js';

export interface FallbackTranscriberOptions {
  /** Epoch ms (the runtime's clock). */
  now?: () => number;
  /** How long the primary is skipped after it failed; default 60 s. */
  coolDownMs?: number;
  /** Told when the primary fails and the stand-in answers (log it: `transcriber.fallback`). */
  onFallback?: (e: { primary: string; fallback: string; reason: string; retryAt: number }) => void;
}

export class FallbackTranscriber implements Transcriber {
  readonly name: string;
  #retryAt = 0;

  constructor(private readonly primary: Transcriber, private readonly fallback: Transcriber, private readonly o: FallbackTranscriberOptions = {}) {
    this.name = `${primary.name}, else ${fallback.name}`;
  }

  async transcribe(samples: Int16Array, signal?: AbortSignal, hint?: TranscribeHint): Promise<Transcript> {
    const now = this.o.now ?? Date.now;
    if (now() >= this.#retryAt) {
      try {
        return await this.primary.transcribe(samples, signal, hint);
      } catch (e) {
        // Abandoned by the caller, or a bug rather than an unreachable or failing server: not hidden.
        if (signal?.aborted || !(e instanceof TranscriberError)) throw e;
        this.#retryAt = now() + (this.o.coolDownMs ?? 60_000);
        this.o.onFallback?.({ primary: this.primary.name, fallback: this.fallback.name, reason: e.message, retryAt: this.#retryAt });
      }
    }
    return this.fallback.transcribe(samples, signal, hint);
  }

  async close(): Promise<void> {
    await Promise.all([this.primary.close?.(), this.fallback.close?.()]);
  }
}
