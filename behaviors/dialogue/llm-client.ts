import { backoffDelay, sleep } from '../../data/index.js';
import type { ChatMessage, ChatModel, EmbeddingModel } from '../ports.js';
import { CircuitBreaker, type BreakerState } from './breaker.js';
import { ModelCallError } from './model-call-error.js';
import { checkSentence, repeatsEarlier } from './output-check.js';
import type { Prompt } from './prompts.js';
import { SentenceSplitter } from './sentences.js';

/**
 * The language-model client: Hearth's own handling of any `ChatModel` and `EmbeddingModel` port (the
 * OpenAI-compatible adapter is in `hardware/openai/`). Streams replies and hands them over sentence by
 * sentence; bounds every call with a per-call timeout, a first-token timeout and an idle (between tokens)
 * timeout; retries with backoff; fails fast through a circuit breaker; checks output before it is spoken.
 * It never throws for a service fault: every call resolves with a record saying what happened, so the
 * caller can fall back.
 */

/** Where and which model to call. */
export interface LlmSettings {
  /** Base URL of the OpenAI-compatible API (ends in /v1 for most servers); undefined means api.openai.com. */
  baseURL: string | undefined;
  /** API key; local servers accept any value. */
  apiKey: string;
  model: string;
  /** Model for embeddings (story matching); undefined means embeddings are not used. */
  embeddingModel: string | undefined;
}

/** Language-model part of the device configuration. */
export interface LlmConfig {
  baseUrl?: string;
  apiKey?: string;
  model?: string;
  embeddingModel?: string;
}

/** A usable configuration, or why there is none (logged; the offline responder is used). */
export type LlmSettingsResult = { ok: true; settings: LlmSettings } | { ok: false; reason: string };

/**
 * Settings from the environment and the device configuration. The environment wins (`OPENAI_BASE_URL`,
 * `OPENAI_API_KEY`, `HEARTH_LLM_MODEL`, `HEARTH_EMBEDDING_MODEL`), so an operator can point one run elsewhere.
 */
export function resolveLlmSettings(env: Readonly<Record<string, string | undefined>> = process.env, config: LlmConfig = {}): LlmSettingsResult {
  const pick = (...xs: (string | undefined)[]) => xs.map((x) => x?.trim()).find((x) => x !== undefined && x !== '');
  const model = pick(env.HEARTH_LLM_MODEL, config.model);
  const baseURL = pick(env.OPENAI_BASE_URL, config.baseUrl);
  const apiKey = pick(env.OPENAI_API_KEY, config.apiKey);
  if (!model) return { ok: false, reason: 'no language model configured (set HEARTH_LLM_MODEL or llm.model in the device configuration)' };
  if (!baseURL && !apiKey) return { ok: false, reason: 'no language-model endpoint: set OPENAI_BASE_URL for a local server or OPENAI_API_KEY for OpenAI' };
  if (baseURL) {
    let url: URL;
    try {
      url = new URL(baseURL);
    } catch {
      return { ok: false, reason: `OPENAI_BASE_URL / llm.baseUrl "${baseURL}" is not a URL` };
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return { ok: false, reason: `language-model base URL "${baseURL}" must be http or https` };
  }
  return { ok: true, settings: { baseURL, apiKey: apiKey ?? 'not-needed', model, embeddingModel: pick(env.HEARTH_EMBEDDING_MODEL, config.embeddingModel) } };
}

/** Timeouts, retries and breaker settings. Defaults suit a spoken conversation. */
export interface LlmClientOptions {
  /** Whole call, retries included: the participant never waits longer than this. Default 12 s. */
  timeoutMs?: number;
  /** From sending a request to the first word of text. Default 5 s. */
  firstTokenTimeoutMs?: number;
  /** Longest silence between two chunks once text is flowing. Default 4 s. */
  idleTimeoutMs?: number;
  /** Attempts per call (1 = no retry). Default 2. */
  maxAttempts?: number;
  /** Backoff before retry n is base·2^(n−1), capped, with jitter in [50%, 100%]. */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** Consecutive failed attempts that open the breaker. Default 3. */
  breakerThreshold?: number;
  /** How long an open breaker fails fast before a trial call. Default 60 s. */
  breakerCoolDownMs?: number;
  /** Most sentences spoken from one reply (a runaway model is cut off). Default 4. */
  maxSentences?: number;
  /** Clock for latencies and the breaker (epoch ms). */
  now?: () => number;
  /** Waits between retries; tests inject a recorder. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** 0..1, for backoff jitter. */
  random?: () => number;
}

export type { ChatMessage } from '../ports.js';

/** The ports a client talks through: a chat model, and an embeddings model when one is configured. */
export interface LanguageModels {
  chat: ChatModel;
  embeddings?: EmbeddingModel | undefined;
}

/** What the runtime uses of a language model: replies, and embeddings for story choice. `LlmClient` is the one. */
export interface LanguageModel {
  /** The chat model's name, for the log. */
  readonly chatModel: string;
  /** The embedding model's name; undefined when none is configured (story choice then stays on the device). */
  readonly embeddingModel: string | undefined;
  reply(req: ReplyRequest): Promise<LlmReply>;
  embedder(onRecord?: (record: LlmCallRecord) => void): (texts: string[], signal?: AbortSignal) => Promise<number[][]>;
}

/** One reply request. */
export interface ReplyRequest {
  prompt: Prompt;
  /** The rendered system prompt (see `renderPrompt`). */
  system: string;
  /** The conversation so far, ending with the participant's turn. */
  messages: readonly ChatMessage[];
  /** Called with each checked sentence as soon as it is complete, so speech can start early. */
  onSentence?: (sentence: string) => void;
  /** Cancels the call (barge-in, session end). */
  signal?: AbortSignal;
  /** Put the reply text in the record; pass true only when the participant's consent allows storing it. */
  logText: boolean;
}

/** What happened on a call. */
export type LlmOutcome =
  | 'ok' | 'partial' | 'empty' | 'malformed' | 'timeout' | 'first-token-timeout' | 'idle-timeout'
  | 'http-error' | 'network-error' | 'circuit-open' | 'aborted';

/** The log record of one call: enough to know how every reply was produced. */
export interface LlmCallRecord {
  kind: 'chat' | 'embeddings';
  model: string;
  /** `<prompt id>.v<version>`; null for embeddings. */
  promptVersion: string | null;
  /** Host of the endpoint (never the key). */
  endpoint: string;
  latencyMs: number;
  /** Request to first text, of the attempt that produced text; null when none came. */
  firstTokenMs: number | null;
  promptTokens: number | null;
  completionTokens: number | null;
  outcome: LlmOutcome;
  /** What went wrong, naming the source; null on success. */
  error: string | null;
  attempts: number;
  /** Breaker state after the call. */
  breaker: BreakerState;
  sentences: number;
  /** The reply, only when the caller said consent allows it. */
  text?: string;
}

/** A reply: the sentences spoken (already handed to `onSentence`) and the record. */
export interface LlmReply {
  /** True when the model produced a complete, checked reply. */
  ok: boolean;
  sentences: string[];
  record: LlmCallRecord;
}

/** Vectors for texts, or undefined when the call failed (the record says why). */
export interface EmbeddingResult {
  vectors: number[][] | undefined;
  record: LlmCallRecord;
}

class AttemptError extends Error {
  constructor(readonly outcome: LlmOutcome, message: string, readonly retryable: boolean, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** A chat and embeddings client over the model ports, with streaming sentences, timeouts, retries and a breaker. */
export class LlmClient implements LanguageModel {
  readonly models: LanguageModels;
  private readonly opts: Required<Omit<LlmClientOptions, 'now' | 'sleep' | 'random'>>;
  private readonly now: () => number;
  private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  private readonly random: () => number;
  private readonly chatBreaker: CircuitBreaker;
  // Embeddings have their own breaker: a server without an embeddings endpoint must not silence chat.
  private readonly embedBreaker: CircuitBreaker;

  constructor(models: LanguageModels, options: LlmClientOptions = {}) {
    this.models = models;
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? sleep;
    this.random = options.random ?? Math.random;
    this.opts = {
      timeoutMs: options.timeoutMs ?? 12_000,
      firstTokenTimeoutMs: options.firstTokenTimeoutMs ?? 5_000,
      idleTimeoutMs: options.idleTimeoutMs ?? 4_000,
      maxAttempts: Math.max(1, options.maxAttempts ?? 2),
      backoffBaseMs: options.backoffBaseMs ?? 300,
      backoffMaxMs: options.backoffMaxMs ?? 2_000,
      breakerThreshold: options.breakerThreshold ?? 3,
      breakerCoolDownMs: options.breakerCoolDownMs ?? 60_000,
      maxSentences: options.maxSentences ?? 4,
    };
    const breaker = { failureThreshold: this.opts.breakerThreshold, coolDownMs: this.opts.breakerCoolDownMs, now: this.now };
    this.chatBreaker = new CircuitBreaker(breaker);
    this.embedBreaker = new CircuitBreaker(breaker);
  }

  get chatModel(): string {
    return this.models.chat.model;
  }

  get embeddingModel(): string | undefined {
    return this.models.embeddings?.model;
  }

  /** State of the chat breaker. */
  get breakerState(): BreakerState {
    return this.chatBreaker.state;
  }

  /** Ask for a reply, streamed sentence by sentence. Resolves (never rejects) with the sentences and the call record. */
  async reply(req: ReplyRequest): Promise<LlmReply> {
    const start = this.now();
    const deadline = start + this.opts.timeoutMs;
    const sentences: string[] = [];
    const usage = { prompt: null as number | null, completion: null as number | null, firstTokenMs: null as number | null };
    let attempts = 0;
    let last: AttemptError | undefined;
    while (attempts < this.opts.maxAttempts) {
      if (req.signal?.aborted) { last = new AttemptError('aborted', 'cancelled by the caller', false); break; }
      if (!this.chatBreaker.tryAcquire()) {
        last = attempts === 0
          ? new AttemptError('circuit-open', `circuit open after repeated failures; next trial in ${Math.ceil(this.chatBreaker.retryInMs / 1000)} s`, false)
          : last;
        break;
      }
      attempts++;
      try {
        await this.chatAttempt(req, deadline, sentences, usage, start);
        this.chatBreaker.success();
        last = undefined;
        break;
      } catch (err) {
        last = err instanceof AttemptError ? err : new AttemptError('network-error', describe(err), true, { cause: err });
        if (last.outcome === 'aborted') { this.chatBreaker.release(); break; }
        this.chatBreaker.failure();
        // Once the participant has heard part of a reply, a retry would repeat it: stop here.
        if (sentences.length > 0) { last = new AttemptError('partial', `${last.outcome}: ${last.message}`, false); break; }
        if (!last.retryable || attempts >= this.opts.maxAttempts) break;
        const wait = this.backoff(attempts);
        if (this.now() + wait >= deadline) break;
        await this.sleep(wait, req.signal);
      }
    }
    const text = sentences.join(' ');
    const record: LlmCallRecord = {
      kind: 'chat', model: this.models.chat.model, promptVersion: req.prompt.ref, endpoint: this.models.chat.endpoint,
      latencyMs: this.now() - start, firstTokenMs: usage.firstTokenMs, promptTokens: usage.prompt, completionTokens: usage.completion,
      outcome: last ? last.outcome : 'ok', error: last ? last.message : null, attempts, breaker: this.chatBreaker.state,
      sentences: sentences.length, ...(req.logText ? { text } : {}),
    };
    return { ok: !last, sentences, record };
  }

  private async chatAttempt(
    req: ReplyRequest, deadline: number, sentences: string[],
    usage: { prompt: number | null; completion: number | null; firstTokenMs: number | null }, callStart: number,
  ): Promise<void> {
    const ac = new AbortController();
    let why: LlmOutcome | undefined;
    const stop = (reason: LlmOutcome) => { why ??= reason; ac.abort(); };
    const onCallerAbort = () => stop('aborted');
    req.signal?.addEventListener('abort', onCallerAbort, { once: true });
    const total = setTimeout(() => stop('timeout'), Math.max(0, deadline - this.now()));
    let watchdog = setTimeout(() => stop('first-token-timeout'), this.opts.firstTokenTimeoutMs);
    const attemptStart = this.now();
    const splitter = new SentenceSplitter();
    let gotText = false;
    let finished = false;
    const emit = (s: string) => {
      if (finished) return;
      const bad = checkSentence(s);
      if (bad) throw new AttemptError('malformed', `model output rejected (${bad.problem}): ${bad.detail}`, true);
      if (repeatsEarlier(s, sentences)) throw new AttemptError('malformed', `model output rejected (repetition): "${s.slice(0, 60)}" said twice`, true);
      sentences.push(s);
      req.onSentence?.(s);
      if (sentences.length >= this.opts.maxSentences) finished = true;
    };
    try {
      const stream = this.models.chat.stream({
        messages: [{ role: 'system', content: req.system }, ...req.messages],
        maxTokens: req.prompt.maxTokens,
        temperature: req.prompt.temperature,
        signal: ac.signal,
      });
      for await (const chunk of stream) {
        if (why) break;
        if (chunk.usage) {
          usage.prompt = chunk.usage.promptTokens;
          usage.completion = chunk.usage.completionTokens;
        }
        const delta = chunk.text;
        if (delta !== undefined && typeof delta !== 'string') {
          throw new AttemptError('malformed', `stream chunk with non-text content: ${JSON.stringify(delta).slice(0, 80)}`, true);
        }
        if (delta) {
          if (!gotText && delta.trim()) { gotText = true; usage.firstTokenMs = this.now() - attemptStart; }
          clearTimeout(watchdog);
          watchdog = setTimeout(() => stop(gotText ? 'idle-timeout' : 'first-token-timeout'), gotText ? this.opts.idleTimeoutMs : this.opts.firstTokenTimeoutMs);
          for (const s of splitter.push(delta)) emit(s);
          if (finished) break; // enough said: a runaway reply is cut off, not an error
        }
      }
      // A stream may end quietly when aborted: a timeout or barge-in must not pass for a finished reply.
      if (why && !finished) throw abortError(why, this.opts, deadline - callStart);
      if (!finished) for (const s of splitter.flush()) emit(s);
      if (sentences.length === 0) throw new AttemptError('empty', 'model returned no text', true);
    } catch (err) {
      if (err instanceof AttemptError) throw err;
      if (why) throw abortError(why, this.opts, deadline - callStart);
      throw classify(err);
    } finally {
      clearTimeout(total);
      clearTimeout(watchdog);
      req.signal?.removeEventListener('abort', onCallerAbort);
      if (!ac.signal.aborted) ac.abort(); // closes the socket when we stopped reading early
    }
  }

  /** Vectors for texts through the embeddings endpoint (same retries, timeouts and a breaker of its own). */
  async embed(texts: readonly string[], signal?: AbortSignal): Promise<EmbeddingResult> {
    const embeddings = this.models.embeddings;
    const model = embeddings?.model;
    const start = this.now();
    const deadline = start + this.opts.timeoutMs;
    let attempts = 0;
    let last: AttemptError | undefined;
    let vectors: number[][] | undefined;
    let promptTokens: number | null = null;
    if (!model) last = new AttemptError('http-error', 'no embedding model configured (HEARTH_EMBEDDING_MODEL or llm.embeddingModel)', false);
    while (embeddings && attempts < this.opts.maxAttempts) {
      if (!this.embedBreaker.tryAcquire()) {
        last = attempts === 0 ? new AttemptError('circuit-open', 'embeddings circuit open after repeated failures', false) : last;
        break;
      }
      attempts++;
      const ac = new AbortController();
      let why: LlmOutcome | undefined;
      const onCallerAbort = () => { why ??= 'aborted'; ac.abort(); };
      signal?.addEventListener('abort', onCallerAbort, { once: true });
      const timer = setTimeout(() => { why ??= 'timeout'; ac.abort(); }, Math.max(0, deadline - this.now()));
      try {
        const res = await embeddings.embed(texts, ac.signal);
        // Checked here too, whatever the adapter checks: a ragged or short answer must never reach story choice.
        const v = res?.vectors;
        if (!Array.isArray(v) || v.length !== texts.length || !v.every((d) => Array.isArray(d) && d.length > 0 && d.length === v[0]!.length && d.every(Number.isFinite))) {
          throw new AttemptError('malformed', `embeddings response has ${Array.isArray(v) ? v.length : 'no'} vectors for ${texts.length} texts, or empty, ragged or non-numeric vectors`, true);
        }
        vectors = v;
        promptTokens = res.promptTokens ?? null;
        this.embedBreaker.success();
        last = undefined;
        break;
      } catch (err) {
        last = err instanceof AttemptError ? err : why ? abortError(why, this.opts, this.opts.timeoutMs) : classify(err);
        if (last.outcome === 'aborted') { this.embedBreaker.release(); break; }
        this.embedBreaker.failure();
        if (!last.retryable || attempts >= this.opts.maxAttempts) break;
        const wait = this.backoff(attempts);
        if (this.now() + wait >= deadline) break;
        await this.sleep(wait, signal);
      } finally {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onCallerAbort);
      }
    }
    return {
      vectors,
      record: {
        kind: 'embeddings', model: model ?? '', promptVersion: null, endpoint: embeddings?.endpoint ?? this.models.chat.endpoint, latencyMs: this.now() - start,
        firstTokenMs: null, promptTokens, completionTokens: null, outcome: last ? last.outcome : 'ok', error: last ? last.message : null,
        attempts, breaker: this.embedBreaker.state, sentences: 0,
      },
    };
  }

  /**
   * An embedding function for story choice (`chooseStory({ embed })`): rejects on failure so story choice
   * falls back to the offline score; every call's record goes to `onRecord` for the log.
   */
  embedder(onRecord?: (record: LlmCallRecord) => void): (texts: string[], signal?: AbortSignal) => Promise<number[][]> {
    return async (texts, signal) => {
      const { vectors, record } = await this.embed(texts, signal);
      onRecord?.(record);
      if (!vectors) throw new Error(`${record.outcome}: ${record.error}`);
      return vectors;
    };
  }

  private backoff(attempt: number): number {
    return backoffDelay(attempt, { baseMs: this.opts.backoffBaseMs, maxMs: this.opts.backoffMaxMs }, this.random);
  }

}

function abortError(why: LlmOutcome, opts: { timeoutMs: number; firstTokenTimeoutMs: number; idleTimeoutMs: number }, budgetMs: number): AttemptError {
  switch (why) {
    case 'timeout': return new AttemptError('timeout', `no complete reply within ${Math.round(budgetMs)} ms`, false);
    case 'first-token-timeout': return new AttemptError('first-token-timeout', `no text within ${opts.firstTokenTimeoutMs} ms of the request`, true);
    case 'idle-timeout': return new AttemptError('idle-timeout', `stream stalled for ${opts.idleTimeoutMs} ms`, true);
    default: return new AttemptError('aborted', 'cancelled by the caller', false);
  }
}

/** What a port's failure means for the call: HTTP statuses that may pass are retried, a 4xx is not. */
function classify(err: unknown): AttemptError {
  if (err instanceof ModelCallError) {
    if (err.fault === 'http' && err.status !== undefined) {
      const retryable = err.status >= 500 || err.status === 429 || err.status === 408;
      return new AttemptError('http-error', `HTTP ${err.status} from the language-model server: ${firstLine(err.message)}`, retryable, { cause: err });
    }
    if (err.fault === 'malformed') return new AttemptError('malformed', firstLine(err.message), true, { cause: err });
    return new AttemptError('network-error', firstLine(err.message), true, { cause: err });
  }
  return new AttemptError('network-error', describe(err), true, { cause: err });
}

function describe(err: unknown): string {
  if (err instanceof Error) {
    const cause = (err as { cause?: unknown }).cause;
    const detail = cause instanceof Error ? `: ${cause.message}` : '';
    return `${err.name}: ${firstLine(err.message)}${detail}`;
  }
  return String(err);
}

const firstLine = (s: string): string => s.split('\n')[0]!.slice(0, 200);
