import { describe } from 'vitest';
import { audioSourceContract } from './audio-source.contract.js';
import { PcmAudioSource } from './audio-source.js';

describe('PcmAudioSource (in memory: tests, the simulator, recorded fixtures)', () => {
  const tone = Int16Array.from({ length: 16_000 }, (_, i) => Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / 16_000)));
  audioSourceContract('PcmAudioSource', { make: () => new PcmAudioSource(tone, { startMs: 1_000, chunkSamples: 1234 }), minSamples: 16_000 });
});
