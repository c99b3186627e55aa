// The contract every Listener adapter runs (hardware/port-contracts.test.ts calls it with each adapter that runs here).
import { describe, expect, it } from 'vitest';
import type { Listener, ListenerEvents, Utterance } from './ports.js';

/** A listener and the participant's side of it. */
export interface ListenerRig {
  listener: Listener;
  /**
   * The participant says `text` now: typed, published, heard by the pipeline. A scripted participant
   * was made with the lines and says each when asked, so for it this does nothing.
   */
  say(text: string): void | Promise<void>;
}

/** What the contract needs: a listener whose participant will say these lines, in this order. */
export interface ListenerFixture {
  make(lines: readonly string[]): ListenerRig | Promise<ListenerRig>;
  /** Speech while nobody listens is kept for the next question (true) or is the adapter's to drop. */
  keepsEarlySpeech: boolean;
}

const REQUEST = { step: 'checkin', prompt: 'How are you today?' };

function recorder() {
  const spoke: Utterance[] = [];
  let wake: (() => void) | null = null;
  const events: ListenerEvents = {
    spoke: (u) => { spoke.push(u); wake?.(); },
    left: () => undefined,
    failed: () => undefined,
  };
  const next = (n: number, ms = 3_000) => new Promise<void>((resolve, reject) => {
    if (spoke.length >= n) return resolve();
    const t = setTimeout(() => reject(new Error(`no utterance ${n} within ${ms} ms`)), ms);
    wake = () => { if (spoke.length >= n) { clearTimeout(t); resolve(); } };
  });
  return { spoke, events, next };
}
const settle = (ms = 100) => new Promise((r) => setTimeout(r, ms));

/** Run the Listener contract against an adapter. */
export function listenerContract(adapter: string, fixture: ListenerFixture): void {
  describe(`Listener contract: ${adapter}`, () => {
    it('delivers what the participant says while it listens, once, with when they spoke', async () => {
      const rig = await fixture.make(['I feel fine today.']);
      const r = recorder();
      const stop = rig.listener.listen(REQUEST, r.events);
      await rig.say('I feel fine today.');
      await r.next(1);
      await settle();
      stop();
      expect(r.spoke.map((u) => u.text)).toEqual(['I feel fine today.']);
      const u = r.spoke[0]!;
      expect(u.endedAt).toBeGreaterThanOrEqual(u.startedAt);
      if (u.confidence !== undefined) expect(u.confidence >= 0 && u.confidence <= 1).toBe(true);
    });

    it('delivers nothing to a listen that was stopped', async () => {
      const rig = await fixture.make(['Yes.', 'A story about the sea.']);
      const first = recorder();
      const stop = rig.listener.listen(REQUEST, first.events);
      await rig.say('Yes.');
      await first.next(1);
      stop();
      await rig.say('A story about the sea.');
      await settle();
      expect(first.spoke.map((u) => u.text)).toEqual(['Yes.']);
      const second = recorder();
      const stop2 = rig.listener.listen({ step: 'reflection', prompt: 'What did it bring up?' }, second.events);
      if (fixture.keepsEarlySpeech) {
        await second.next(1);
        expect(second.spoke.map((u) => u.text)).toEqual(['A story about the sea.']);
      }
      stop2();
      expect(first.spoke).toHaveLength(1);
    });
  });
}
