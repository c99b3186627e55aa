/** One recognised word with its timing inside the utterance. */
export interface TranscriptWord {
  word: string;
  startMs: number;
  endMs: number;
  /** Probability 0..1 that the word is right, when the recogniser gives one (calibrated for pocketsphinx). */
  confidence?: number;
}

/** One answer a constrained pass could have heard, with how likely it is. */
export interface AnswerAlternative {
  text: string;
  /** 0..1 when known. */
  confidence?: number;
}

/**
 * What a recognition constrained to the accepted answers heard: one of the phrases it was given
 * ("four", "strongly agree", "skip"), how likely it is that the participant said it, and the others.
 */
export interface HeardAnswer {
  /** The accepted phrase heard, without lead or tail words ("i think four" → "four"). */
  text: string;
  /** Probability 0..1 that the participant gave this answer (calibrated; see perception/README.md). */
  confidence: number;
  /** Other answers the recogniser considered, best first. */
  alternatives: AnswerAlternative[];
  /** What the confidence was computed from (engine-specific figures, for logs and calibration). */
  evidence?: Record<string, number>;
}

/** What a speech recogniser heard in one utterance. */
export interface Transcript {
  /** The open-vocabulary text: everything said, answer or not (the safeguards read this). */
  text: string;
  /** 0..1 when the recogniser gives one: the expected share of words that are right. */
  confidence?: number;
  words?: TranscriptWord[];
  /** Which engine produced it, e.g. `pocketsphinx en-us` or `openai whisper-1 @ http://…`. */
  engine: string;
  /** Other readings of the open text, best first, when the recogniser gives them. */
  alternatives?: string[];
  /** Set when the request named the accepted answers: what the constrained pass heard. */
  answer?: HeardAnswer;
}

/** What the robot expects to hear, so recognition can be constrained to it. */
export interface TranscribeHint {
  /** The phrases that answer the question being asked ("one" … "nine", "strongly agree", "skip"). */
  answers?: readonly string[];
}

/** Speech to text for one utterance of 16 kHz mono s16le audio. */
export interface Transcriber {
  readonly name: string;
  transcribe(samples: Int16Array, signal?: AbortSignal, hint?: TranscribeHint): Promise<Transcript>;
  /**
   * Optional: start an utterance now and decode its audio as it arrives, so that at the end of speech
   * only the final search is left. Recognisers without it are given the whole utterance at the end.
   */
  stream?(hint?: TranscribeHint): TranscriptionStream;
  /** Free the recogniser (stop its process). */
  close?(): Promise<void>;
}

/** An utterance being decoded while the participant speaks. */
export interface TranscriptionStream {
  /** More audio of the utterance, in order. */
  push(samples: Int16Array): void;
  /** The utterance is over: the transcript. */
  finish(signal?: AbortSignal): Promise<Transcript>;
  /** The utterance is abandoned; nothing is returned. */
  cancel(): void;
  /** Optional: resolves once the audio pushed so far has been decoded (benchmarks measure the final search alone). */
  settled?(): Promise<void>;
}

/** The recogniser could not run or answered nonsense; the message names the engine and the problem. */
export class TranscriberError extends Error {
  override readonly name = 'TranscriberError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
