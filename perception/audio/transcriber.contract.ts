// The contract every Transcriber adapter runs (perception/audio/transcriber.test.ts for pocketsphinx,
// hardware/openai/openai-models.test.ts for an OpenAI-compatible server).
import { describe, expect, it } from 'vitest';
import { TranscriberError, type Transcriber } from './transcriber.js';

/** What the contract needs: a recogniser, one recorded utterance with what was said, and a broken recogniser. */
export interface TranscriberFixture {
  make(): Transcriber | Promise<Transcriber>;
  /** 16 kHz mono s16le speech and its reference words. */
  speech: () => { samples: Int16Array; reference: string };
  /** Share of the reference words it must hear (0..1); weak offline recognisers get less. */
  minOverlap: number;
  /** A recogniser that cannot run (missing binary, unreachable server). */
  broken(): Transcriber | Promise<Transcriber>;
}

const words = (s: string) => new Set(s.toLowerCase().split(/\W+/).filter(Boolean));
const overlap = (heard: string, truth: string) => {
  const h = words(heard);
  const t = [...words(truth)];
  return t.filter((w) => h.has(w)).length / t.length;
};

/** Run the Transcriber contract against an adapter. */
export function transcriberContract(adapter: string, fixture: TranscriberFixture): void {
  describe(`Transcriber contract: ${adapter}`, () => {
    it('hears most of what was said, trimmed, naming the engine, with a confidence in 0..1 when it gives one', async () => {
      const t = await fixture.make();
      expect(t.name.length).toBeGreaterThan(0);
      const { samples, reference } = fixture.speech();
      const heard = await t.transcribe(samples);
      expect(overlap(heard.text, reference)).toBeGreaterThanOrEqual(fixture.minOverlap);
      expect(heard.text).toBe(heard.text.trim());
      expect(heard.engine).toBe(t.name);
      if (heard.confidence !== undefined) {
        expect(heard.confidence).toBeGreaterThanOrEqual(0);
        expect(heard.confidence).toBeLessThanOrEqual(1);
      }
      for (const w of heard.words ?? []) expect(w.endMs).toBeGreaterThanOrEqual(w.startMs);
    });

    it('rejects when the signal has aborted', async () => {
      const t = await fixture.make();
      const ac = new AbortController();
      ac.abort();
      await expect(t.transcribe(fixture.speech().samples, ac.signal)).rejects.toThrow();
    });

    it('fails with a TranscriberError when it cannot run', async () => {
      const t = await fixture.broken();
      const err = await t.transcribe(new Int16Array(1600)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TranscriberError);
      expect((err as Error).message.length).toBeGreaterThan(0);
    });
  });
}
