// The matched condition by meaning, with the real USE-lite encoder and the pinned story vectors.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readManifest, USE_LITE_MODEL, UseLiteEncoder } from '../../perception/index.js';
import { titled, useLiteMissing } from '../../perception/text/test-models.js';
import type { SentenceEncoder } from '../ports.js';
import { chooseStory, choiceLogDetail, cosineSimilarity, ENCODER_BLEND } from './choose.js';
import { bundledStories, type Story } from './story.js';
import { libraryHash, loadStoryVectors, storyPieces, StoryVectors, type StoryVectorsFile } from './vectors.js';

describe.skipIf(useLiteMissing)(titled('story choice by meaning (USE-lite)'), () => {
  const stories = bundledStories();
  const modelSha256 = readManifest().models[USE_LITE_MODEL]!.sha256;
  let encoder: SentenceEncoder;
  let pinned: StoryVectors;
  beforeAll(async () => {
    encoder = await UseLiteEncoder.load();
    const loaded = await loadStoryVectors(encoder, stories, { modelSha256 });
    // The committed file must match the library: after editing library.yaml, run `npx tsx scripts/story-vectors.ts`.
    expect(loaded.refused).toBeUndefined();
    expect(loaded.source).toBe('pinned');
    pinned = loaded.vectors;
  }, 30_000);
  afterAll(async () => { await encoder?.close?.(); });

  it('the pinned vectors are the encoder\'s own, within int8 rounding', async () => {
    for (const s of [stories[0]!, stories[77]!, stories.at(-1)!]) {
      const live = await encoder.encode(storyPieces(s));
      pinned.of(s.id)!.forEach((v, i) => expect(cosineSimilarity(Array.from(v), Array.from(live[i]!))).toBeGreaterThan(0.999));
    }
  });

  it('finds the story a paraphrase means when no content word is shared, and logs method, encoder and every score', async () => {
    const shared = 'I can no longer drive because my sight is going.';
    const base = { condition: 'matched' as const, participantId: 'P01', studyDay: 2, heard: [], stories, shared, seed: 's' };
    const lexical = await chooseStory(base);
    expect(lexical!.candidates.slice(0, 3).map((c) => c.storyId)).not.toContain('handing-over-the-car-keys');
    for (const blend of [1, ENCODER_BLEND]) {
      const c = await chooseStory({ ...base, sentence: { encoder, vectors: pinned, vectorsSource: 'pinned', blend } });
      expect(c!.method).toBe(blend === 1 ? 'encoder' : 'blend');
      expect(c!.story.id).toBe('handing-over-the-car-keys');
      expect(c!.fallbackReason).toBeUndefined();
      const d = JSON.parse(JSON.stringify(choiceLogDetail(c!))) as { encoder: unknown; candidates: { id: string; score: number; encoder: number; lexical?: number }[] };
      expect(d.encoder).toEqual({ id: encoder.id, vectors: 'pinned', blend });
      expect(d.candidates).toHaveLength(stories.length);
      for (const x of d.candidates) expect(Number.isFinite(x.encoder) && Number.isFinite(x.score)).toBe(true);
      if (blend < 1) expect(d.candidates.every((x) => typeof x.lexical === 'number')).toBe(true);
    }
  });

  it('never picks a heard story, and reads a long text past the encoder\'s 128 tokens (in pieces)', async () => {
    // ~150 words of small talk first: encoded whole, USE-lite would never read the part that matters.
    const filler = 'The weather was grey again this morning and the bus was a little late, so I waited at the stop for a while. '.repeat(7);
    const shared = `${filler}My wife died in the spring. This will be my first Christmas on my own and I dread it.`;
    const c = await chooseStory({ condition: 'matched', participantId: 'P01', studyDay: 3, heard: ['the-first-christmas-without-him'], stories, shared, sentence: { encoder, vectors: pinned, blend: 1 } });
    expect(c!.method).toBe('encoder');
    expect(c!.candidates.map((x) => x.storyId)).not.toContain('the-first-christmas-without-him');
    expect(c!.candidates).toHaveLength(stories.length - 1);
    expect(c!.story.themes.some((t) => ['grief', 'widowhood', 'loneliness', 'loss'].includes(t)), `${c!.story.id}: ${c!.story.themes.join(', ')}`).toBe(true);
  });

  it('refuses a pinned file made from another library, encoder or model, and computes the vectors instead', async () => {
    const small: Story[] = stories.slice(0, 3).map((s) => ({ ...s }));
    const dir = mkdtempSync(join(tmpdir(), 'story-vectors-'));
    const file = join(dir, 'v.json');
    const made = await StoryVectors.compute(encoder, small, modelSha256);
    writeFileSync(file, JSON.stringify(made.toJSON()));
    expect((await loadStoryVectors(encoder, small, { file, modelSha256 })).source).toBe('pinned');

    const edited = small.map((s, i) => (i === 1 ? { ...s, paragraphs: [...s.paragraphs.slice(0, -1), 'A different last paragraph.'] } : s));
    const rebuilt = await loadStoryVectors(encoder, edited, { file, modelSha256 });
    expect(rebuilt.source).toBe('computed');
    expect(rebuilt.refused).toMatch(/another story library/);
    expect(rebuilt.vectors.origin.libraryHash).toBe(libraryHash(edited));

    expect((await loadStoryVectors(encoder, small, { file, modelSha256: 'f'.repeat(64) })).refused).toMatch(/model sha256/);
    const other = JSON.parse(readFileSync(file, 'utf8')) as StoryVectorsFile;
    writeFileSync(file, JSON.stringify({ ...other, encoder: 'openai/text-embedding-3-small' }));
    expect((await loadStoryVectors(encoder, small, { file })).refused).toMatch(/made with encoder openai/);
    expect((await loadStoryVectors(encoder, small, { file: join(dir, 'missing.json') })).refused).toMatch(/missing/);
  });

  it('falls back to the lexical score, saying why, when the encoder is unavailable or fails', async () => {
    const base = { condition: 'matched' as const, participantId: 'P01', studyDay: 1, heard: [], stories, shared: 'My sister and I had a big argument and we finally made up.' };
    const unavailable = await chooseStory({ ...base, sentence: { unavailable: 'models/use-lite.onnx is missing' } });
    expect(unavailable!.method).toBe('lexical');
    expect(unavailable!.fallbackReason).toBe('sentence encoder unavailable: models/use-lite.onnx is missing');
    expect(choiceLogDetail(unavailable!)).toMatchObject({ method: 'lexical', fallbackReason: expect.stringMatching(/unavailable/) });

    const broken: SentenceEncoder = { id: encoder.id, dimension: encoder.dimension, encode: async () => { throw new Error('the encoder was closed'); } };
    const failed = await chooseStory({ ...base, sentence: { encoder: broken, vectors: pinned } });
    expect(failed!.method).toBe('lexical');
    expect(failed!.fallbackReason).toMatch(/sentence encoder failed: the encoder was closed/);
    expect(failed!.story.id).toBe('making-up-with-my-sister');

    const stale = await chooseStory({ ...base, stories: [...stories, { ...stories[0]!, id: 'not-encoded', title: 'New' }], sentence: { encoder, vectors: pinned } });
    expect(stale!.fallbackReason).toMatch(/no story vectors for not-encoded/);
  });

  it('with nothing shared, keeps the seeded tie-break instead of encoding an empty text', async () => {
    const c = await chooseStory({ condition: 'matched', participantId: 'P01', studyDay: 5, heard: [], stories, shared: '  ', sentence: { encoder, vectors: pinned } });
    expect(c!.method).toBe('lexical');
    expect(c!.fallbackReason).toBeUndefined();
  });
});
