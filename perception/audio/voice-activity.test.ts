import { beforeAll, describe, expect, it } from 'vitest';
import { concat, haveAudioTools, haveTestdata, layout, POCKETSPHINX_TESTDATA, readTestdata, say, type Layout } from '../../test/fixtures/audio/speech.js';
import { PcmAudioSource } from './audio-source.js';
import { SileroVad } from './silero-vad.js';
import { VoiceActivityStream, type SpeechSegment } from './voice-activity.js';
import { VadSegmenter } from './segmenter.js';

async function segments(vad: SileroVad, samples: Int16Array, startMs = 0): Promise<{ segs: SpeechSegment[]; started: number[] }> {
  const stream = new VoiceActivityStream(vad);
  const segs: SpeechSegment[] = [];
  const started: number[] = [];
  const take = (es: Awaited<ReturnType<VoiceActivityStream['push']>>) => {
    for (const e of es) e.type === 'speech.started' ? started.push(e.atMs) : segs.push(e.segment);
  };
  for await (const c of new PcmAudioSource(samples, { startMs, chunkSamples: 1234 }).open()) take(await stream.push(c));
  take(stream.flush());
  return { segs, started };
}

describe.skipIf(!haveAudioTools)('Silero VAD on real speech (espeak-ng)', () => {
  let vad: SileroVad;
  let speech: Layout;
  beforeAll(async () => {
    vad = await SileroVad.load();
    speech = layout([
      { samples: say('Good morning. I slept quite well last night.'), silenceBeforeMs: 700 },
      { samples: say('Then I went for a long walk by the river.', { speed: 140 }), silenceBeforeMs: 1500 },
      { samples: say('It was sunny!', { pitch: 80 }), silenceBeforeMs: 900 },
      { samples: say('Should we read a story together?', { voice: 'en-us' }), silenceBeforeMs: 2000 },
    ]);
  });

  it('finds each phrase, starting and ending within 100 ms of where the speech is', async () => {
    vad.reset();
    const t0 = 1_700_000_000_000;
    const { segs, started } = await segments(vad, speech.samples, t0);
    expect(segs).toHaveLength(speech.speech.length);
    segs.forEach((s, i) => {
      const truth = speech.speech[i]!;
      expect(Math.abs(s.startMs - t0 - truth.startMs)).toBeLessThanOrEqual(100);
      expect(Math.abs(s.endMs - t0 - truth.endMs)).toBeLessThanOrEqual(100);
      expect(s.decidedAtMs).toBeGreaterThanOrEqual(s.endMs);
      expect(s.samples.length).toBe(Math.round(((s.endMs - s.startMs) * 16_000) / 1000));
      expect(started[i]).toBe(s.startMs);
    });
  });

  it('ends an utterance only after the closing silence (default 600 ms), not at a short pause', async () => {
    const parts = layout([
      { samples: say('I went to the market'), silenceBeforeMs: 500 },
      { samples: say('and bought some apples.'), silenceBeforeMs: 300 },
    ]);
    vad.reset();
    const { segs } = await segments(vad, parts.samples);
    expect(segs).toHaveLength(1);
    expect(Math.abs(segs[0]!.startMs - parts.speech[0]!.startMs)).toBeLessThanOrEqual(100);
    expect(Math.abs(segs[0]!.endMs - parts.speech[1]!.endMs)).toBeLessThanOrEqual(100);
    expect(segs[0]!.decidedAtMs - segs[0]!.endMs).toBeGreaterThanOrEqual(550);
  });

  it('finds nothing in background noise alone', async () => {
    vad.reset();
    const { segs } = await segments(vad, layout([], 5000, 300).samples);
    expect(segs).toEqual([]);
  });

  it('cuts a monologue at maxSpeechMs and keeps going', async () => {
    const long = layout([{ samples: say('This is a long story about my grandmother and her garden, which had roses, tulips and a very old apple tree that we climbed every summer.', { speed: 150 }), silenceBeforeMs: 300 }]);
    const stream = new VoiceActivityStream(vad, { maxSpeechMs: 3000 });
    vad.reset();
    const segs: SpeechSegment[] = [];
    for await (const c of new PcmAudioSource(long.samples).open()) for (const e of await stream.push(c)) if (e.type === 'speech.ended') segs.push(e.segment);
    for (const e of stream.flush()) if (e.type === 'speech.ended') segs.push(e.segment);
    expect(segs.length).toBeGreaterThanOrEqual(2);
    expect(segs[0]!.cut).toBe(true);
    expect(segs[0]!.endMs - segs[0]!.startMs).toBeLessThanOrEqual(3100);
  });
});

describe.skipIf(!haveTestdata)('Silero VAD on recorded speech (pocketsphinx-testdata)', () => {
  it('finds one utterance per LibriVox recording when they are separated by silence', async () => {
    const vad = await SileroVad.load();
    const files = ['0870', '0880', '0890', '0920', '0930'].map((n) => readTestdata(`${POCKETSPHINX_TESTDATA}/librivox/sense_and_sensibility_01_austen_64kb-${n}.wav`));
    const gap = new Int16Array(16_000 * 2);
    const audio = concat(files.flatMap((f) => [gap, f]).concat([gap]));
    const { segs } = await segments(vad, audio);
    // Each recording spans [its offset, offset + length]; every one must be covered by speech found
    // inside it (readers pause mid-sentence, so a recording may split into more than one utterance).
    let offset = 0;
    for (const f of files) {
      offset += gap.length;
      const from = (offset * 1000) / 16_000;
      const to = ((offset + f.length) * 1000) / 16_000;
      const inside = segs.filter((s) => s.endMs > from && s.startMs < to);
      expect(inside.length).toBeGreaterThanOrEqual(1);
      const covered = inside.reduce((n, s) => n + Math.min(s.endMs, to) - Math.max(s.startMs, from), 0);
      expect(covered / (to - from)).toBeGreaterThan(0.6);
      offset += f.length;
    }
    // No speech found in the silent gaps.
    expect(segs.every((s) => files.some((_, i) => {
      const off = files.slice(0, i).reduce((n, f) => n + f.length + gap.length, gap.length);
      return s.startMs >= (off * 1000) / 16_000 - 100 && s.endMs <= ((off + files[i]!.length) * 1000) / 16_000 + 100;
    }))).toBe(true);
  });
});

describe('VadSegmenter (pure logic)', () => {
  const frames = (probs: number[]) => {
    const s = new VadSegmenter({ minSpeechMs: 100, minSilenceMs: 200, speechPadMs: 0 });
    return probs.flatMap((p, i) => s.push(p, i * 512)).concat(s.flush(probs.length * 512));
  };
  it('drops a burst shorter than minSpeechMs', () => {
    expect(frames([0, 0.9, 0.9, 0, 0, 0, 0, 0, 0, 0])).toEqual([]);
  });
  it('keeps speech through a dip between the two thresholds (hysteresis)', () => {
    const ev = frames([0.9, 0.9, 0.9, 0.4, 0.4, 0.4, 0.4, 0.4, 0.4, 0.4, 0.9, 0.9, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(ev.filter((e) => e.type === 'speech.ended')).toEqual([{ type: 'speech.ended', startSample: 0, endSample: 12 * 512, decidedAtSample: 19 * 512, cut: false }]);
  });
  it('rejects a negative threshold above the start threshold', () => {
    expect(() => new VadSegmenter({ threshold: 0.3, negThreshold: 0.5 })).toThrow(/negThreshold 0.5 must be below threshold 0.3/);
  });
});
