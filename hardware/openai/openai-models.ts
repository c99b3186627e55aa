// The only module in Hearth that imports `openai`: the ChatModel, EmbeddingModel and Transcriber ports over
// OpenAI or any OpenAI-compatible server (llama.cpp, vLLM, Ollama, faster-whisper-server, whisper.cpp…).
// Each adapter only translates: Hearth's own timeouts, retries, breaker and output checks stay in
// behaviors/dialogue (LlmClient), so the SDK's retries are off for chat and embeddings.
import OpenAI, { APIError, toFile } from 'openai';
import {
  ModelCallError, type ChatChunk, type ChatModel, type ChatRequest, type EmbeddingModel, type LanguageModels, type LlmSettings,
} from '../../behaviors/index.js';
import { encodeWav, TranscriberError, type TranscribeHint, type Transcriber, type Transcript } from '../../perception/index.js';

/** Options of the chat and embeddings adapters. */
export interface OpenAiModelOptions {
  /**
   * The SDK's own timeout per request, a backstop only: `LlmClient` aborts each call at its own (shorter)
   * deadline through the request's signal. Default 60 s.
   */
  timeoutMs?: number;
}

/** The chat model, and the embeddings model when `settings.embeddingModel` is set, sharing one HTTP client. */
export function openAiModels(settings: LlmSettings, options: OpenAiModelOptions = {}): LanguageModels & { chat: OpenAiChatModel; embeddings?: OpenAiEmbeddingModel } {
  const client = new OpenAI({ apiKey: settings.apiKey, baseURL: settings.baseURL ?? null, maxRetries: 0, timeout: options.timeoutMs ?? 60_000 });
  const endpoint = endpointOf(settings.baseURL);
  return {
    chat: new OpenAiChatModel(client, settings.model, endpoint),
    ...(settings.embeddingModel ? { embeddings: new OpenAiEmbeddingModel(client, settings.embeddingModel, endpoint) } : {}),
  };
}

/** Streaming chat completions (`/chat/completions` with `stream: true`), checked chunk by chunk. */
export class OpenAiChatModel implements ChatModel {
  constructor(private readonly client: OpenAI, readonly model: string, readonly endpoint: string) {}

  async *stream(request: ChatRequest): AsyncIterable<ChatChunk> {
    let stream: AsyncIterable<unknown>;
    try {
      stream = await this.client.chat.completions.create(
        {
          model: this.model,
          messages: request.messages.map((m) => ({ role: m.role, content: m.content })),
          stream: true,
          stream_options: { include_usage: true },
          ...(request.maxTokens !== undefined ? { max_tokens: request.maxTokens } : {}),
          ...(request.temperature !== undefined ? { temperature: request.temperature } : {}),
        },
        { ...(request.signal ? { signal: request.signal } : {}), maxRetries: 0 },
      );
    } catch (err) {
      throw callError(err);
    }
    try {
      for await (const chunk of stream) yield parseChunk(chunk);
    } catch (err) {
      throw err instanceof ModelCallError ? err : callError(err);
    }
  }
}

/** One server-sent chunk as a `ChatChunk`; the data is the server's, so it is checked, not trusted. */
function parseChunk(chunk: unknown): ChatChunk {
  if (typeof chunk !== 'object' || chunk === null || !Array.isArray((chunk as { choices?: unknown }).choices)) {
    throw new ModelCallError('malformed', `stream chunk without "choices": ${JSON.stringify(chunk)?.slice(0, 80)}`);
  }
  const c = chunk as { choices: { delta?: { content?: unknown } }[]; usage?: { prompt_tokens?: number; completion_tokens?: number } | null };
  const delta = c.choices[0]?.delta?.content;
  if (delta !== undefined && delta !== null && typeof delta !== 'string') {
    throw new ModelCallError('malformed', `stream chunk with non-text content: ${JSON.stringify(delta).slice(0, 80)}`);
  }
  return {
    ...(typeof delta === 'string' ? { text: delta } : {}),
    ...(c.usage ? { usage: { promptTokens: c.usage.prompt_tokens ?? null, completionTokens: c.usage.completion_tokens ?? null } } : {}),
  };
}

/** Embeddings (`/embeddings`) as floats, in input order. */
export class OpenAiEmbeddingModel implements EmbeddingModel {
  constructor(private readonly client: OpenAI, readonly model: string, readonly endpoint: string) {}

  async embed(texts: readonly string[], signal?: AbortSignal): Promise<{ vectors: number[][]; promptTokens: number | null }> {
    let res: { data?: unknown; usage?: { prompt_tokens?: number } };
    try {
      res = await this.client.embeddings.create(
        // Floats, not the SDK's default base64: several local servers ignore encoding_format and send floats anyway.
        { model: this.model, input: [...texts], encoding_format: 'float' }, { ...(signal ? { signal } : {}), maxRetries: 0 });
    } catch (err) {
      throw callError(err);
    }
    const data = Array.isArray(res?.data) ? [...(res.data as { index: number; embedding: unknown }[])].sort((a, b) => a.index - b.index) : undefined;
    const ok = (v: unknown): v is number[] => Array.isArray(v) && v.length > 0 && v.every(Number.isFinite);
    if (!data || data.length !== texts.length || !data.every((d) => ok(d.embedding) && d.embedding.length === (data[0]!.embedding as number[]).length)) {
      throw new ModelCallError('malformed', `embeddings response has ${data?.length ?? 'no'} vectors for ${texts.length} texts, or empty, ragged or non-numeric vectors`);
    }
    return { vectors: data.map((d) => d.embedding as number[]), promptTokens: res.usage?.prompt_tokens ?? null };
  }
}

/** The SDK's errors as the ports' `ModelCallError`: an HTTP status, data that is not JSON, or the network. */
function callError(err: unknown): ModelCallError {
  if (err instanceof APIError && typeof err.status === 'number') return new ModelCallError('http', firstLine(err.message), { status: err.status, cause: err });
  if (err instanceof SyntaxError) return new ModelCallError('malformed', `unparseable data in the stream: ${firstLine(err.message)}`, { cause: err });
  if (err instanceof Error) {
    const cause = (err as { cause?: unknown }).cause;
    return new ModelCallError('network', `${err.name}: ${firstLine(err.message)}${cause instanceof Error ? `: ${cause.message}` : ''}`, { cause: err });
  }
  return new ModelCallError('network', String(err), { cause: err });
}

/** The host of a base URL, for logs (never the key); api.openai.com when none is given. */
function endpointOf(baseURL: string | undefined): string {
  try {
    return new URL(baseURL ?? 'https://api.openai.com/v1').host;
  } catch {
    return 'unknown';
  }
}

const firstLine = (s: string): string => s.split('\n')[0]!.slice(0, 200);

/** Where and how to reach an OpenAI-compatible transcription server (OpenAI, faster-whisper-server, whisper.cpp…). */
export interface OpenAiTranscriberOptions {
  /** Base URL of the API, e.g. `http://localhost:8000/v1`. */
  baseURL: string;
  /** Model name the server knows, e.g. `whisper-1` or `Systran/faster-whisper-small`. */
  model: string;
  /** Bearer token; local servers usually accept any. */
  apiKey?: string;
  /** IETF/ISO-639-1 language hint, e.g. `en`. */
  language?: string;
  /** Ask for `verbose_json` to get segment log-probabilities as a confidence. Default true. */
  verbose?: boolean;
  /** Per-request timeout; default 30 s. */
  timeoutMs?: number;
  /** Retries on network errors and 5xx; default 1. */
  maxRetries?: number;
}

/** Speech to text through any OpenAI-compatible `/audio/transcriptions` endpoint; audio is sent as WAV in memory. */
export class OpenAiTranscriber implements Transcriber {
  readonly name: string;
  private readonly client: OpenAI;

  constructor(private readonly options: OpenAiTranscriberOptions) {
    this.name = `openai ${options.model} @ ${options.baseURL}`;
    this.client = new OpenAI({
      baseURL: options.baseURL,
      apiKey: options.apiKey ?? 'hearth-local',
      timeout: options.timeoutMs ?? 30_000,
      maxRetries: options.maxRetries ?? 1,
    });
  }

  /**
   * With a hint naming the accepted answers, they go to the server as the transcription `prompt`
   * (whisper then favours those spellings: "four", not "for"); the session reads the answer from the
   * text and says an unsure one back, as it does for pocketsphinx's open pass.
   */
  async transcribe(samples: Int16Array, signal?: AbortSignal, hint?: TranscribeHint): Promise<Transcript> {
    const file = await toFile(encodeWav(samples), 'utterance.wav', { type: 'audio/wav' });
    const verbose = this.options.verbose ?? true;
    let res: unknown;
    try {
      res = await this.client.audio.transcriptions.create(
        {
          file,
          model: this.options.model,
          response_format: verbose ? 'verbose_json' : 'json',
          ...(this.options.language ? { language: this.options.language } : {}),
          ...(hint?.answers?.length ? { prompt: `Answers: ${hint.answers.slice(0, 40).join(', ')}.` } : {}),
        },
        signal ? { signal } : {},
      );
    } catch (cause) {
      const status = (cause as { status?: number }).status;
      throw new TranscriberError(`${this.name}: ${status ? `HTTP ${status}: ` : ''}${(cause as Error).message}`, { cause });
    }
    return this.parse(res);
  }

  /** Check the server's answer: a `text` string, optionally `segments` with `avg_logprob`. */
  private parse(res: unknown): Transcript {
    const r = (typeof res === 'string' ? { text: res } : res) as { text?: unknown; segments?: unknown };
    if (!r || typeof r.text !== 'string') {
      throw new TranscriberError(`${this.name}: response has no "text" string (got ${JSON.stringify(res)?.slice(0, 200)})`);
    }
    const t: Transcript = { text: r.text.trim(), engine: this.name };
    if (Array.isArray(r.segments)) {
      const lp = r.segments.map((s) => (s as { avg_logprob?: unknown }).avg_logprob).filter((v): v is number => typeof v === 'number');
      // Whisper's mean token log-probability, as a probability.
      if (lp.length) t.confidence = Math.exp(lp.reduce((a, b) => a + b, 0) / lp.length);
    }
    return t;
  }
}
