/**
 * Ports the behaviours need from the robot. Adapters live in `hardware/`; the runtime wires them.
 * Times are epoch milliseconds from the runtime's clock.
 */

/** What the robot means by a line: lets adapters pick an expression or gesture. */
export type SpeechAct =
  | 'greeting' | 'resume' | 'checkin.ask' | 'checkin.reprompt' | 'checkin.ack' | 'story.intro' | 'story'
  | 'reflection.ask' | 'reflection.reprompt' | 'empathy' | 'rating.ask' | 'rating.reprompt' | 'rating.ack'
  | 'survey.intro' | 'survey.ask' | 'survey.reprompt' | 'repair' | 'crisis' | 'goodbye' | 'safe';

/** A line the robot is about to say. */
export interface RobotLine {
  text: string;
  act: SpeechAct;
}

/** When a line was actually spoken. */
export interface SpokenLine {
  startedAt: number;
  endedAt: number;
}

/** Says lines out loud (a terminal, espeak-ng, a ROS 2 `say` action…). */
export interface Speaker {
  speak(line: RobotLine, signal?: AbortSignal): Promise<SpokenLine>;
}

/** One thing the participant said, with when they started and stopped speaking. */
export interface Utterance {
  text: string;
  startedAt: number;
  endedAt: number;
  /** Speech recogniser confidence 0..1 when known. */
  confidence?: number;
  /** The voice that spoke (a ROS4HRI voice id), when the source tracks voices. */
  voiceId?: string;
  /** Other readings of `text` the recogniser considered, best first (the safeguards read them too). */
  alternatives?: readonly string[];
  /**
   * What a recognition constrained to the accepted answers (`ListenRequest.answers`) heard: one of
   * those phrases, the probability that it is what was said, and the other answers considered.
   * `text` stays the open-vocabulary reading of everything said.
   */
  answer?: { text: string; confidence: number; alternatives: readonly { text: string; confidence?: number }[] };
}

/** What the robot is listening for; lets scripted participants answer the right question. */
export interface ListenRequest {
  step: string;
  prompt: string;
  /**
   * The answers this question accepts (survey items, yes/no, consent, confirmations), generated from
   * the instrument: a recogniser may run a pass constrained to them beside its open one.
   */
  answers?: readonly string[];
}

/** Callbacks a listener calls while it listens. */
export interface ListenerEvents {
  spoke(utterance: Utterance): void;
  /** The participant is gone for good (the terminal closed, the script ended). */
  left(): void;
  /** The input device failed; the reason is logged. */
  failed(reason: string): void;
}

/** Hears the participant. `listen` starts listening and returns a function that stops it. */
export interface Listener {
  listen(request: ListenRequest, events: ListenerEvents): () => void;
  /**
   * Barge-in: call `onSpeechStart` when the participant starts speaking while the robot is not
   * listening (it is talking). Returns a function that stops watching. Optional: listeners that
   * cannot tell (a microphone without echo cancellation hears the robot itself) leave it out.
   */
  watchBargeIn?(onSpeechStart: () => void): () => void;
}

/**
 * Turns sentences into fixed-length vectors of meaning (the issue's `TextEncoder` port; renamed
 * because `TextEncoder` is Node's global UTF-8 encoder). Adapters: USE-lite on the device
 * (`perception/text/`), an OpenAI-compatible embeddings endpoint. Vectors are L2-normalised.
 */
export interface SentenceEncoder {
  /** Stable id of the model and its version, logged with every decision that used it. */
  readonly id: string;
  /** Length of every vector. */
  readonly dimension: number;
  /** One vector per text, in order. Never throws on odd text (empty, huge, binary): truncates. */
  encode(texts: readonly string[], signal?: AbortSignal): Promise<Float32Array[]>;
  /** Frees the model. */
  close?(): Promise<void>;
}

/** A message of a chat with a language model. */
export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/** One chat completion: the system prompt first, then the conversation. */
export interface ChatRequest {
  messages: readonly ChatMessage[];
  maxTokens?: number;
  temperature?: number;
  /** Stops the call; the stream then ends early or throws, and the caller accepts either. */
  signal?: AbortSignal;
}

/** A piece of a streamed reply: text as it arrives, and token counts when the server sends them (usually last). */
export interface ChatChunk {
  text?: string;
  usage?: { promptTokens: number | null; completionTokens: number | null };
}

/**
 * A language model that streams a chat reply (adapter: any OpenAI-compatible server, `hardware/openai/`).
 * Thin on purpose: timeouts, retries, the circuit breaker and the checks on what is spoken are Hearth's
 * own (`LlmClient` in `behaviors/dialogue/` wraps any `ChatModel`). A service fault is thrown as a
 * `ModelCallError` (`behaviors/dialogue/model-call-error.ts`) saying whether it was HTTP, the network or
 * unusable data; anything else thrown counts as a network fault.
 */
export interface ChatModel {
  /** The model's name, logged with every call. */
  readonly model: string;
  /** Where it runs, for the log: a host, never a key. */
  readonly endpoint: string;
  stream(request: ChatRequest): AsyncIterable<ChatChunk>;
}

/**
 * Vectors for texts from an embeddings service, exactly as it sends them (not normalised). `LlmClient`
 * wraps it with retries, a breaker of its own and the call log; a `SentenceEncoder` can sit on top.
 * Faults are thrown as `ModelCallError`, like `ChatModel`'s.
 */
export interface EmbeddingModel {
  readonly model: string;
  readonly endpoint: string;
  /** One vector per text, in order, all of one length; rejects when the service fails or answers nonsense. */
  embed(texts: readonly string[], signal?: AbortSignal): Promise<{ vectors: number[][]; promptTokens: number | null }>;
}
