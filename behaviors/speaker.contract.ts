// The contract every Speaker adapter runs (hardware/port-contracts.test.ts calls it with each adapter that runs here).
import { describe, expect, it } from 'vitest';
import type { RobotLine, Speaker } from './ports.js';

/** What the contract needs: a speaker, the clock it stamps lines with, and one that cannot speak. */
export interface SpeakerFixture {
  make(): Speaker | Promise<Speaker>;
  now(): number;
  /** A speaker whose device is missing or broken (no binary, no action server, unplugged). */
  broken(): Speaker | Promise<Speaker>;
}

const LONG: RobotLine = {
  act: 'story',
  text: Array.from({ length: 30 }, () => 'The old dog slept by the fire while the rain kept falling on the roof.').join(' '),
};

/** Run the Speaker contract against an adapter. */
export function speakerContract(adapter: string, fixture: SpeakerFixture): void {
  describe(`Speaker contract: ${adapter}`, () => {
    it('speaks a line and says when it started and ended, on its clock', async () => {
      const s = await fixture.make();
      const before = fixture.now();
      const spoken = await s.speak({ text: 'Good evening. It is nice to see you.', act: 'greeting' });
      const after = fixture.now();
      expect(spoken.startedAt).toBeGreaterThanOrEqual(before);
      expect(spoken.endedAt).toBeGreaterThanOrEqual(spoken.startedAt);
      expect(spoken.endedAt).toBeLessThanOrEqual(after);
    });

    it('speaks lines one after another: the next starts when the last has ended', async () => {
      const s = await fixture.make();
      const first = await s.speak({ text: 'How are you today?', act: 'checkin.ask' });
      const second = await s.speak({ text: 'Take your time.', act: 'checkin.reprompt' });
      expect(second.startedAt).toBeGreaterThanOrEqual(first.endedAt);
    });

    it('settles soon when the signal aborts a long line (barge-in), by resolving or rejecting', async () => {
      const s = await fixture.make();
      const ac = new AbortController();
      const t0 = Date.now();
      const done = s.speak(LONG, ac.signal).then(() => 'spoken', () => 'stopped');
      setTimeout(() => ac.abort(), 30);
      expect(['spoken', 'stopped']).toContain(await done);
      // Spoken through, the line would take minutes (a simulator's 50x speed-up still takes seconds).
      expect(Date.now() - t0).toBeLessThan(2_000);
    });

    it('rejects with a reason when it cannot speak', async () => {
      const s = await fixture.broken();
      const err = await s.speak({ text: 'Hello.', act: 'greeting' }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(Error);
      expect((err as Error).message.length).toBeGreaterThan(0);
    });
  });
}
