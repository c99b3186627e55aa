// The contract every FrameSource adapter runs (hardware/camera/*.test.ts call it with their adapter).
import { describe, expect, it } from 'vitest';
import type { FrameSource, RgbFrame } from './frame.js';

/** What the contract needs: a source that yields at least `minFrames` frames of a known size. */
export interface FrameSourceFixture {
  make(): FrameSource | Promise<FrameSource>;
  minFrames: number;
  width: number;
  height: number;
}

/** Run the FrameSource contract against an adapter. */
export function frameSourceContract(adapter: string, fixture: FrameSourceFixture): void {
  describe(`FrameSource contract: ${adapter}`, () => {
    it('has a name for logs and says whether it is live', async () => {
      const s = await fixture.make();
      expect(s.name.length).toBeGreaterThan(0);
      expect(typeof s.live).toBe('boolean');
    });

    it('yields packed RGB frames of the stated size with indices counting from 0', async () => {
      const s = await fixture.make();
      const frames: RgbFrame[] = [];
      const ac = new AbortController();
      for await (const f of s.open({ signal: ac.signal })) {
        frames.push(f);
        if (frames.length >= fixture.minFrames) ac.abort();
      }
      expect(frames.length).toBeGreaterThanOrEqual(fixture.minFrames);
      frames.forEach((f, i) => {
        expect(f.index).toBe(i);
        expect([f.width, f.height, f.data.length]).toEqual([fixture.width, fixture.height, fixture.width * fixture.height * 3]);
      });
      // Each frame owns its pixels: holding on to one does not see the next one's bytes.
      if (frames.length > 1) expect(frames[0]!.data.buffer).not.toBe(frames[1]!.data.buffer);
    });

    it('stops promptly when aborted', async () => {
      const s = await fixture.make();
      const ac = new AbortController();
      let n = 0;
      for await (const _ of s.open({ signal: ac.signal })) {
        n++;
        ac.abort();
      }
      expect(n).toBe(1);
    });
  });
}
