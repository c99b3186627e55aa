// A sentence encoder backed by any OpenAI-compatible /v1/embeddings endpoint (OpenAI, llama.cpp, vLLM…).
// It does not import `openai` itself: it is handed an embedding function, normally `llm.embedder(onRecord)`
// of an `LlmClient` over `openAiModels(settings)` (./openai-models.ts), which brings that client's timeouts,
// retries, breaker and call log.
import type { SentenceEncoder } from '../../behaviors/index.js';
import { firstCodePoints, wellFormed } from '../../perception/index.js';

/** An embedding call: one vector per text, in order; rejects when the service fails. `LlmClient#embedder()` is one. */
export type EmbedFunction = (texts: string[], signal?: AbortSignal) => Promise<number[][]>;

/** A reply from the embeddings service that cannot be used; the message names the model and the problem. */
export class EmbeddingsError extends Error {
  override readonly name = 'EmbeddingsError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** How to reach the service. */
export interface OpenAiEmbeddingsOptions {
  /** The embedding function, e.g. `llmClient.embedder((record) => log(record))`. */
  embed: EmbedFunction;
  /** The embedding model's name, for the encoder's id (e.g. `text-embedding-3-small`). */
  model: string;
  /** Vector length; when left out, `create` asks the service once. */
  dimension?: number;
  /**
   * Characters (code points) sent per text. Servers refuse input over their context (8,191 tokens at
   * OpenAI, 512 for many local models); 2,000 characters (~500 tokens) fits nearly all. Default 2,000.
   */
  maxChars?: number;
  /** Texts per request (OpenAI allows 2,048). Default 128. */
  batchSize?: number;
}

/** The text as sent: well-formed UTF-16 (a lone surrogate cannot be sent as JSON), capped, never empty. */
export function embeddingInput(text: string, maxChars: number): string {
  const s = wellFormed(firstCodePoints(typeof text === 'string' ? text : String(text ?? ''), maxChars));
  // OpenAI rejects an empty string; a single space is the nearest thing to nothing that it accepts.
  return s.trim() === '' ? ' ' : s;
}

/** Sentence vectors from an OpenAI-compatible embeddings endpoint, L2-normalised. */
export class OpenAiEmbeddingsEncoder implements SentenceEncoder {
  /** `openai/<model>`. */
  readonly id: string;
  readonly dimension: number;
  private readonly embed: EmbedFunction;
  private readonly maxChars: number;
  private readonly batchSize: number;

  constructor(options: OpenAiEmbeddingsOptions & { dimension: number }) {
    if (!Number.isInteger(options.dimension) || options.dimension <= 0) throw new EmbeddingsError(`openai/${options.model}: dimension ${options.dimension} is not a positive integer`);
    this.id = `openai/${options.model}`;
    this.dimension = options.dimension;
    this.embed = options.embed;
    this.maxChars = options.maxChars ?? 2_000;
    this.batchSize = Math.max(1, options.batchSize ?? 128);
  }

  /** Make an encoder, asking the service for one vector to learn the dimension when it is not given. */
  static async create(options: OpenAiEmbeddingsOptions, signal?: AbortSignal): Promise<OpenAiEmbeddingsEncoder> {
    if (options.dimension !== undefined) return new OpenAiEmbeddingsEncoder({ ...options, dimension: options.dimension });
    const [probe] = await options.embed(['dimension probe'], signal);
    if (!Array.isArray(probe) || probe.length === 0) throw new EmbeddingsError(`openai/${options.model}: the service returned no vector for a probe text`);
    return new OpenAiEmbeddingsEncoder({ ...options, dimension: probe.length });
  }

  /** One unit vector per text, in order. Rejects when the service fails or answers with vectors of the wrong size. */
  async encode(texts: readonly string[], signal?: AbortSignal): Promise<Float32Array[]> {
    const out: Float32Array[] = [];
    for (let i = 0; i < texts.length; i += this.batchSize) {
      signal?.throwIfAborted();
      const batch = texts.slice(i, i + this.batchSize).map((t) => embeddingInput(t, this.maxChars));
      const vectors = await this.embed(batch, signal);
      if (!Array.isArray(vectors) || vectors.length !== batch.length) {
        throw new EmbeddingsError(`${this.id}: ${Array.isArray(vectors) ? vectors.length : 'no'} vectors for ${batch.length} texts`);
      }
      for (const [k, v] of vectors.entries()) {
        if (!Array.isArray(v) || v.length !== this.dimension || !v.every(Number.isFinite)) {
          throw new EmbeddingsError(`${this.id}: vector ${i + k} has ${Array.isArray(v) ? v.length : 'no'} numbers (expected ${this.dimension} finite numbers)`);
        }
        const f = Float32Array.from(v);
        let s = 0;
        for (const x of f) s += x * x;
        const n = Math.sqrt(s);
        if (n === 0) throw new EmbeddingsError(`${this.id}: vector ${i + k} is all zeros`);
        for (let j = 0; j < f.length; j++) f[j] = f[j]! / n;
        out.push(f);
      }
    }
    return out;
  }
}
