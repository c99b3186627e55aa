import { describe, expect, it } from 'vitest';
import { UtteranceListener } from './utterance-listener.js';

describe('UtteranceListener (microphone pipeline → Listener port)', () => {
  it('delivers what is heard while listening, keeps an early answer for the next question, and reports faults', async () => {
    const ears = new UtteranceListener();
    const got: string[] = [];
    const failed: string[] = [];
    const events = { spoke: (u: { text: string }) => got.push(u.text), left: () => undefined, failed: (r: string) => failed.push(r) };
    ears.heard({ text: 'early answer', startedAt: 0, endedAt: 1 });
    const stop = ears.listen({ step: 'checkin', prompt: '?' }, events);
    await new Promise((r) => setImmediate(r));
    expect(got).toEqual(['early answer']);
    ears.heard({ text: 'second', startedAt: 2, endedAt: 3 });
    expect(got).toEqual(['early answer', 'second']);
    ears.fault('microphone unplugged');
    expect(failed).toEqual(['microphone unplugged']);
    stop();
    ears.heard({ text: 'while the robot talks', startedAt: 4, endedAt: 5 });
    expect(got).toHaveLength(2);
  });
});
