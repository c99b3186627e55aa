// The contract every AudioSource adapter runs (perception/audio/audio-source.test.ts for the in-memory
// source, hardware/microphone/lpcm-microphone.test.ts for a real sound device).
import { describe, expect, it } from 'vitest';
import { AUDIO_SAMPLE_RATE, AudioSourceError, type AudioChunk, type AudioSource } from './audio-source.js';

/** What the contract needs: a source that delivers at least `minSamples`, and one whose device fails. */
export interface AudioSourceFixture {
  make(): AudioSource | Promise<AudioSource>;
  /** Samples to read before stopping (a file's length at most). */
  minSamples: number;
  /** A source whose device or file cannot be read; undefined when the adapter cannot fail (in memory). */
  broken?: () => AudioSource | Promise<AudioSource>;
}

/** Run the AudioSource contract against an adapter. */
export function audioSourceContract(adapter: string, fixture: AudioSourceFixture): void {
  describe(`AudioSource contract: ${adapter}`, () => {
    it('has a name for logs and says whether it is live', async () => {
      const s = await fixture.make();
      expect(s.name.length).toBeGreaterThan(0);
      expect(typeof s.live).toBe('boolean');
    });

    it('yields 16 kHz s16 chunks stamped with the time of their first sample, advancing with the sample count', async () => {
      const s = await fixture.make();
      const ac = new AbortController();
      const chunks: AudioChunk[] = [];
      let total = 0;
      for await (const c of s.open(ac.signal)) {
        chunks.push(c);
        total += c.samples.length;
        if (total >= fixture.minSamples) ac.abort();
      }
      expect(total).toBeGreaterThanOrEqual(fixture.minSamples);
      for (const c of chunks) {
        expect(c.samples).toBeInstanceOf(Int16Array);
        expect(c.samples.length).toBeGreaterThan(0);
        expect(Number.isFinite(c.atMs)).toBe(true);
      }
      for (let i = 1; i < chunks.length; i++) {
        expect(chunks[i]!.atMs - chunks[i - 1]!.atMs).toBeCloseTo((chunks[i - 1]!.samples.length * 1000) / AUDIO_SAMPLE_RATE, 6);
      }
    });

    it('stops promptly when aborted', async () => {
      const s = await fixture.make();
      const ac = new AbortController();
      let n = 0;
      const t0 = Date.now();
      for await (const _ of s.open(ac.signal)) {
        n++;
        ac.abort();
      }
      expect(n).toBe(1);
      expect(Date.now() - t0).toBeLessThan(5_000);
    });

    it.skipIf(!fixture.broken)('throws an AudioSourceError naming the source when the device fails', async () => {
      const s = await fixture.broken!();
      const run = async () => { for await (const _ of s.open()) { /* read until it fails */ } };
      const err = await run().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(AudioSourceError);
      expect((err as Error).message).toContain(s.name);
    });
  });
}
