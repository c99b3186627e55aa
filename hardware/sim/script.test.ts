import { describe, expect, it } from 'vitest';
import { ManualClock, runUntil } from '../../runtime/clock.js';
import { parseScript } from './script.js';
import { ScriptedParticipant } from './scripted-participant.js';

describe('participant scripts', () => {
  it('parse YAML and JSON, with defaults', () => {
    expect(parseScript('replies:\n  - say: hi\n  - silence: true\n  - say: four\n    after_ms: 200\n    confidence: 0.8\n', 's.yaml')).toEqual({
      replies: [{ say: 'hi', afterMs: 1000 }, { silence: true }, { say: 'four', afterMs: 200, confidence: 0.8 }],
    });
    expect(parseScript('{"replies": [{"say": "yes", "after_ms": 5}]}', 's.json').replies).toEqual([{ say: 'yes', afterMs: 5 }]);
  });

  it.each([
    ['replies: 3\n', /s\.yaml:1:10 replies: expected a list/],
    ['- say: hi\n', /s\.yaml:1:1 \(root\): expected a mapping/],
    ['replies:\n  - shout: hi\n', /s\.yaml:2:5 replies\[0\]\.shout: unknown field/],
    ['replies:\n  - say: ""\n', /s\.yaml:2:10 replies\[0\]\.say: must be a non-empty string/],
    ['replies:\n  - silence: maybe\n', /s\.yaml:2:14 replies\[0\]\.silence: must be true/],
    ['replies:\n  - say: hi\n    confidence: 3\n', /s\.yaml:3:17 replies\[0\]\.confidence: must be a number from 0 to 1/],
    ['replies: [\n', /s\.yaml:2:1: not valid YAML or JSON/],
  ])('reject %j with file, line, column and problem', (source, message) => {
    expect(() => parseScript(source, 's.yaml')).toThrow(message);
  });

  it('answer each time the robot listens, after the pause and the time it takes to speak, then leave', async () => {
    const clock = new ManualClock(0);
    const p = new ScriptedParticipant(parseScript('replies:\n  - say: one two three\n    after_ms: 1000\n  - silence: true\n', 's.yaml'), clock);
    const heard: { text: string; at: number }[] = [];
    let left = false;
    const events = { spoke: (u: { text: string }) => heard.push({ text: u.text, at: clock.now() }), left: () => (left = true), failed: () => undefined };
    p.listen({ step: 'checkin', prompt: 'How are you?' }, events);
    await runUntil(clock, () => heard.length === 1);
    expect(heard[0]).toEqual({ text: 'one two three', at: 1000 + 1200 }); // 3 words at 150 wpm
    p.listen({ step: 'reflection', prompt: '?' }, events); // silence: nothing happens
    expect(clock.pending).toBe(0);
    p.listen({ step: 'rating', prompt: '?' }, events);
    await runUntil(clock, () => left);
    expect(p.requests.map((r) => r.step)).toEqual(['checkin', 'reflection', 'rating']);
  });
});
