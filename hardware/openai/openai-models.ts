// The only module in perception/ that imports `openai`.
import OpenAI, { toFile } from 'openai';
import type { Transcriber, Transcript } from './transcriber.js';
import { TranscriberError } from './transcriber.js';
import { encodeWav } from './wav.js';

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

  async transcribe(samples: Int16Array, signal?: AbortSignal): Promise<Transcript> {
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
