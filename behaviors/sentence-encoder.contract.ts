// The contract every SentenceEncoder adapter runs (perception/text/use-lite-encoder.test.ts and
// hardware/openai/openai-embeddings-encoder.test.ts call it with theirs).
import { describe, expect, it } from 'vitest';
import type { SentenceEncoder } from './ports.js';

/** What the contract needs: an encoder, and whether its vectors carry meaning (a real model, not a test double). */
export interface SentenceEncoderFixture {
  make(): SentenceEncoder | Promise<SentenceEncoder>;
  /** True for a real model: a paraphrase is then nearer than an unrelated sentence. */
  semantic: boolean;
}

const dot = (a: Float32Array, b: Float32Array) => a.reduce((s, x, i) => s + x * b[i]!, 0);

/** Run the SentenceEncoder contract against an adapter. */
export function sentenceEncoderContract(adapter: string, fixture: SentenceEncoderFixture): void {
  describe(`SentenceEncoder contract: ${adapter}`, () => {
    it('has an id to log and a positive dimension', async () => {
      const e = await fixture.make();
      expect(e.id.length).toBeGreaterThan(0);
      expect(Number.isInteger(e.dimension) && e.dimension > 0).toBe(true);
    });

    it('gives one unit vector of the stated length per text, in order, the same for the same text', async () => {
      const e = await fixture.make();
      const texts = ['I miss my sister.', 'The garden is full of tomatoes.', 'I miss my sister.'];
      const v = await e.encode(texts);
      expect(v).toHaveLength(3);
      for (const x of v) {
        expect(x).toBeInstanceOf(Float32Array);
        expect(x).toHaveLength(e.dimension);
        expect(Math.sqrt(dot(x, x))).toBeCloseTo(1, 4);
      }
      expect(dot(v[0]!, v[2]!)).toBeCloseTo(1, 4);
      const [alone] = await e.encode([texts[1]!]);
      expect(dot(alone!, v[1]!)).toBeCloseTo(1, 4);
      expect(await e.encode([])).toEqual([]);
    });

    it('never refuses odd text: empty, blank, broken UTF-16, binary and huge', async () => {
      const e = await fixture.make();
      const odd = ['', '   ', 'bad \ud800 half', '\u0000\u0001\u00ff', 'word '.repeat(20_000)];
      const v = await e.encode(odd);
      expect(v).toHaveLength(odd.length);
      for (const x of v) expect(x.every(Number.isFinite)).toBe(true);
    });

    it('rejects when the signal has already aborted', async () => {
      const e = await fixture.make();
      const ac = new AbortController();
      ac.abort();
      await expect(e.encode(['hello'], ac.signal)).rejects.toThrow();
    });

    it.skipIf(!fixture.semantic)('puts a paraphrase nearer than an unrelated sentence', async () => {
      const e = await fixture.make();
      const [a, b, c] = await e.encode(['My dog died last week.', 'I lost my dog a few days ago.', 'The bus to town leaves at nine.']);
      expect(dot(a!, b!)).toBeGreaterThan(dot(a!, c!));
    });
  });
}
