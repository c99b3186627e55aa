import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../data/index.js';
import type { SentenceEncoder } from '../ports.js';
import type { Story } from './story.js';

/**
 * Story vectors for matching by meaning: each story is encoded once, as pieces (its summary line, then each
 * paragraph: USE-lite reads only 128 tokens, about 100 words, so a whole story would be cut short), and
 * the vectors are pinned in `story-vectors.json` with the hash of the library text they came from and the
 * encoder's id and model hash. A pinned file that does not match the library or the encoder is refused and
 * the vectors are computed on the device instead (about 30 s for 156 stories on a loaded core); the
 * reason is returned for the log. Rebuild the file with `npx tsx scripts/story-vectors.ts`.
 */

/** Format version of story-vectors.json. */
export const STORY_VECTORS_FORMAT = 1;

/** The shipped file of pinned vectors. */
export function pinnedStoryVectorsPath(): string {
  return join(packageRoot(), 'behaviors', 'stories', 'story-vectors.json');
}

/** The texts a story is encoded as: a summary line (title, main event, themes, emotions), then each paragraph. */
export function storyPieces(s: Story): string[] {
  return [`${s.title}. ${s.mainEvent} ${s.themes.join(', ')}. ${s.emotions.join(', ')}.`, ...s.paragraphs];
}

/** sha256 of every story's id and pieces, in order: changes whenever anything matching reads changes. */
export function libraryHash(stories: readonly Story[]): string {
  const h = createHash('sha256');
  for (const s of stories) h.update(JSON.stringify([s.id, storyPieces(s)])).update('\n');
  return h.digest('hex');
}

/** What a set of story vectors was made with. */
export interface StoryVectorsOrigin {
  /** The encoder's id (`use-lite/<package>@<version>`). */
  encoderId: string;
  /** sha256 of the model file, when known (from the model manifest); '' otherwise. */
  modelSha256: string;
  libraryHash: string;
}

/** Unit vectors of every story's pieces, keyed by story id. */
export class StoryVectors {
  constructor(
    readonly origin: StoryVectorsOrigin,
    readonly dimension: number,
    private readonly byId: ReadonlyMap<string, readonly Float32Array[]>,
  ) {}

  /** The pieces' vectors of a story, or undefined when the story was not in the library encoded. */
  of(id: string): readonly Float32Array[] | undefined {
    return this.byId.get(id);
  }

  get size(): number {
    return this.byId.size;
  }

  /** Encode every story's pieces (one batch per story, so a long library never holds one huge batch). */
  static async compute(encoder: SentenceEncoder, stories: readonly Story[], modelSha256 = '', signal?: AbortSignal): Promise<StoryVectors> {
    const byId = new Map<string, Float32Array[]>();
    for (const s of stories) {
      const pieces = storyPieces(s);
      const v = await encoder.encode(pieces, signal);
      if (v.length !== pieces.length) throw new Error(`${encoder.id}: asked for ${pieces.length} vectors for story ${s.id}, got ${v.length}`);
      byId.set(s.id, v);
    }
    return new StoryVectors({ encoderId: encoder.id, modelSha256, libraryHash: libraryHash(stories) }, encoder.dimension, byId);
  }

  /** The JSON to pin: vectors as int8 (scaled by each vector's largest magnitude), base64. */
  toJSON(): StoryVectorsFile {
    const stories: Record<string, string[]> = {};
    for (const [id, vs] of this.byId) stories[id] = vs.map(packVector);
    return {
      format: STORY_VECTORS_FORMAT, encoder: this.origin.encoderId, modelSha256: this.origin.modelSha256,
      libraryHash: this.origin.libraryHash, dimension: this.dimension, pieces: 'summary+paragraphs', stories,
    };
  }

  /**
   * Read pinned vectors, refusing (with the reason) a file made from another library text, another encoder
   * or another model file, or one that is malformed.
   */
  static fromJSON(raw: unknown, expect: { stories: readonly Story[]; encoderId: string; dimension: number; modelSha256?: string }): StoryVectors {
    const f = raw as Partial<StoryVectorsFile> | null;
    if (!f || typeof f !== 'object' || f.format !== STORY_VECTORS_FORMAT) throw new StoryVectorsError(`not a format-${STORY_VECTORS_FORMAT} story vectors file`);
    if (f.encoder !== expect.encoderId) throw new StoryVectorsError(`made with encoder ${String(f.encoder)}, the device has ${expect.encoderId}`);
    if (expect.modelSha256 && f.modelSha256 !== expect.modelSha256) {
      throw new StoryVectorsError(`made with model sha256 ${String(f.modelSha256).slice(0, 12)}…, the manifest has ${expect.modelSha256.slice(0, 12)}…`);
    }
    const hash = libraryHash(expect.stories);
    if (f.libraryHash !== hash) throw new StoryVectorsError(`made from another story library (hash ${String(f.libraryHash).slice(0, 12)}…, the library is ${hash.slice(0, 12)}…)`);
    if (f.dimension !== expect.dimension || typeof f.stories !== 'object' || f.stories === null) throw new StoryVectorsError(`dimension ${String(f.dimension)}, expected ${expect.dimension}`);
    const byId = new Map<string, Float32Array[]>();
    for (const s of expect.stories) {
      const packed = f.stories[s.id];
      if (!Array.isArray(packed) || packed.length !== storyPieces(s).length) throw new StoryVectorsError(`story ${s.id} has no vectors or the wrong number of pieces`);
      byId.set(s.id, packed.map((p) => unpackVector(p, expect.dimension, s.id)));
    }
    return new StoryVectors({ encoderId: f.encoder, modelSha256: f.modelSha256 ?? '', libraryHash: hash }, expect.dimension, byId);
  }
}

/** The pinned file's shape. */
export interface StoryVectorsFile {
  format: number;
  encoder: string;
  modelSha256: string;
  libraryHash: string;
  dimension: number;
  pieces: 'summary+paragraphs';
  /** Per story, one base64 string per piece: a float32 scale, then `dimension` int8 values. */
  stories: Record<string, string[]>;
}

/** Raised when pinned story vectors cannot be used. */
export class StoryVectorsError extends Error {
  override readonly name = 'StoryVectorsError';
}

function packVector(v: Float32Array): string {
  let max = 0;
  for (const x of v) max = Math.max(max, Math.abs(x));
  const scale = max > 0 ? max / 127 : 1;
  const buf = Buffer.alloc(4 + v.length);
  buf.writeFloatLE(scale, 0);
  for (let i = 0; i < v.length; i++) buf.writeInt8(Math.round(v[i]! / scale), 4 + i);
  return buf.toString('base64');
}

function unpackVector(p: unknown, dimension: number, id: string): Float32Array {
  if (typeof p !== 'string') throw new StoryVectorsError(`story ${id}: a vector is not a string`);
  const buf = Buffer.from(p, 'base64');
  if (buf.length !== 4 + dimension) throw new StoryVectorsError(`story ${id}: a vector has ${buf.length - 4} values, expected ${dimension}`);
  const scale = buf.readFloatLE(0);
  const v = new Float32Array(dimension);
  let n = 0;
  for (let i = 0; i < dimension; i++) {
    v[i] = buf.readInt8(4 + i) * scale;
    n += v[i]! * v[i]!;
  }
  const norm = Math.sqrt(n);
  if (!(norm > 0) || !Number.isFinite(norm)) throw new StoryVectorsError(`story ${id}: a vector is all zeros or not finite`);
  for (let i = 0; i < dimension; i++) v[i] = v[i]! / norm;
  return v;
}

/** Where a run's story vectors came from, for the log. */
export interface LoadedStoryVectors {
  vectors: StoryVectors;
  source: 'pinned' | 'computed';
  /** Why the pinned file was not used (absent when it was). */
  refused?: string;
}

/**
 * The story vectors for an encoder: the pinned file when it matches the library, the encoder and the model;
 * otherwise computed now with the encoder (and the refusal returned, to be logged).
 */
export async function loadStoryVectors(encoder: SentenceEncoder, stories: readonly Story[], o: { file?: string; modelSha256?: string; signal?: AbortSignal } = {}): Promise<LoadedStoryVectors> {
  const file = o.file ?? pinnedStoryVectorsPath();
  let refused: string;
  if (!existsSync(file)) {
    refused = `${file} is missing`;
  } else {
    try {
      const vectors = StoryVectors.fromJSON(JSON.parse(readFileSync(file, 'utf8')), {
        stories, encoderId: encoder.id, dimension: encoder.dimension, ...(o.modelSha256 ? { modelSha256: o.modelSha256 } : {}),
      });
      return { vectors, source: 'pinned' };
    } catch (error) {
      refused = `${file}: ${(error as Error).message}`;
    }
  }
  return { vectors: await StoryVectors.compute(encoder, stories, o.modelSha256 ?? '', o.signal), source: 'computed', refused };
}
