/** One recognised word with its timing inside the utterance. */
export interface TranscriptWord {
  word: string;
  startMs: number;
  endMs: number;
  /** Recogniser's posterior probability 0..1 when known. */
  confidence?: number;
}

/** What a speech recogniser heard in one utterance. */
export interface Transcript {
  text: string;
  /** 0..1 when the recogniser gives one. */
  confidence?: number;
  words?: TranscriptWord[];
  /** Which engine produced it, e.g. `pocketsphinx en-us` or `openai whisper-1 @ http://…`. */
  engine: string;
}

/** Speech to text for one utterance of 16 kHz mono s16le audio. */
export interface Transcriber {
  readonly name: string;
  transcribe(samples: Int16Array, signal?: AbortSignal): Promise<Transcript>;
}

/** The recogniser could not run or answered nonsense; the message names the engine and the problem. */
export class TranscriberError extends Error {
  override readonly name = 'TranscriberError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
