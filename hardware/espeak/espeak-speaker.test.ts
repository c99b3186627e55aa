import { execFileSync } from 'node:child_process';
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EspeakSpeaker } from './espeak-speaker.js';

describe('EspeakSpeaker (real espeak-ng)', () => {
  it('speaks a line into a WAV file whose length fits the words, and reports when it spoke', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hearth-espeak-'));
    const speaker = new EspeakSpeaker({ now: () => Date.now(), wavDir: dir, rate: 160 });
    const spoken = await speaker.speak({ text: 'Good evening. I would like to read you a short story today.', act: 'story.intro' });
    expect(spoken.endedAt).toBeGreaterThanOrEqual(spoken.startedAt);
    const file = speaker.files[0]!;
    expect(statSync(file).size).toBeGreaterThan(10_000);
    const seconds = Number(execFileSync('soxi', ['-D', file], { encoding: 'utf8' }));
    expect(seconds).toBeGreaterThan(2);
    expect(seconds).toBeLessThan(8);
  });

  it('fails with a clear reason when espeak-ng cannot run', async () => {
    const speaker = new EspeakSpeaker({ now: () => Date.now(), binary: '/nonexistent/espeak-ng' });
    await expect(speaker.speak({ text: 'hello', act: 'greeting' })).rejects.toThrow(/espeak-ng could not run/);
  });
});
