// Benchmark of the microphone pipeline without speech recognition (VAD + segmentation + prosody), on real
// recorded speech from Debian's pocketsphinx-testdata. Run alone: `taskset -c 0 npx tsx perception/audio/bench-audio.ts`.
import { existsSync, readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { ArousalEstimator } from './arousal.js';
import { AUDIO_SAMPLE_RATE } from './audio-source.js';
import { prosodyFeatures } from './prosody.js';
import { SileroVad } from './silero-vad.js';
import { VoiceActivityStream } from './voice-activity.js';
import { decodeWav } from './wav.js';

/** Figures `benchAudio` measures. Times are wall-clock on the calling thread (run under `taskset -c 0`). */
export interface AudioBenchResult {
  /** (VAD + segmentation + prosody + arousal wall time) / audio duration. Target ≤ 0.05 on one core. */
  audio_rtf: number;
  /** The same with process CPU time (user + system) instead of wall time: robust to a busy machine. */
  audio_rtf_cpu: number;
  vad_ms_per_frame_p50: number;
  vad_ms_per_frame_p95: number;
  /** Prosody + arousal milliseconds per second of utterance audio. */
  prosody_ms_per_s_p50: number;
  prosody_ms_per_s_p95: number;
  audio_s: number;
  vad_frames: number;
  utterances: number;
  /** Utterance seconds found / seconds of recorded speech laid out: a sanity check, near 1. */
  speech_found_ratio: number;
}

const TESTDATA = '/usr/share/pocketsphinx/test/data';
const FILES = [
  ...['0870', '0880', '0890', '0920', '0930'].map((n) => `librivox/sense_and_sensibility_01_austen_64kb-${n}.wav`),
  'goforward.raw', 'numbers.raw', 'something.raw',
];

function load(path: string): Int16Array {
  const bytes = readFileSync(path);
  if (path.endsWith('.wav')) {
    const { samples, sampleRate } = decodeWav(bytes, path);
    if (sampleRate !== AUDIO_SAMPLE_RATE) throw new Error(`${path}: ${sampleRate} Hz, expected ${AUDIO_SAMPLE_RATE}`);
    return samples;
  }
  return new Int16Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + (bytes.length & ~1)));
}

/** At least `seconds` of real speech: the 16 kHz recordings of pocketsphinx-testdata, looped, 0.8 s of faint noise between. */
export function benchSpeech(seconds = 60): { samples: Int16Array; speechS: number } {
  const clips = FILES.map((f) => `${TESTDATA}/${f}`).filter(existsSync).map(load);
  if (clips.length === 0) throw new Error(`no recordings in ${TESTDATA}: install the Debian package pocketsphinx-testdata`);
  const gap = Math.round(0.8 * AUDIO_SAMPLE_RATE);
  const parts: Int16Array[] = [];
  let total = 0;
  let speech = 0;
  for (let i = 0; total < seconds * AUDIO_SAMPLE_RATE; i++) {
    const c = clips[i % clips.length]!;
    parts.push(new Int16Array(gap), c);
    total += gap + c.length;
    speech += c.length;
  }
  const out = new Int16Array(total + gap);
  let at = 0;
  let seed = 7;
  for (let i = 0; i < out.length; i++) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    out[i] = ((seed >> 16) % 41) - 20;
  }
  for (const p of parts) {
    for (let i = 0; i < p.length; i++) out[at + i] = Math.max(-32768, Math.min(32767, out[at + i]! + p[i]!));
    at += p.length;
  }
  return { samples: out, speechS: speech / AUDIO_SAMPLE_RATE };
}

const pct = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN;
};
const round = (v: number, d = 4) => Math.round(v * 10 ** d) / 10 ** d;

/** Measure VAD per frame, prosody per second and the whole pipeline's real-time factor on ~60 s of real speech. */
export async function benchAudio(options: { seconds?: number } = {}): Promise<AudioBenchResult> {
  const { samples, speechS } = benchSpeech(options.seconds ?? 60);
  const vad = await SileroVad.load();
  // Warm up onnxruntime and the JIT on a different stretch so the first frames are not counted cold.
  const warm = new VoiceActivityStream(vad);
  await warm.push({ samples: samples.subarray(0, AUDIO_SAMPLE_RATE * 3), atMs: 0 });
  prosodyFeatures(samples.subarray(0, AUDIO_SAMPLE_RATE * 2));
  vad.reset();

  // Time each VAD call by wrapping the model.
  const vadMs: number[] = [];
  const timed = Object.create(vad) as SileroVad;
  timed.probability = async (frame: Float32Array) => {
    const t = performance.now();
    const p = await vad.probability(frame);
    vadMs.push(performance.now() - t);
    return p;
  };
  const stream = new VoiceActivityStream(timed);
  const arousal = new ArousalEstimator();
  const prosodyPerS: number[] = [];
  let utterances = 0;
  let found = 0;
  const chunk = 1600;
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const onEvents = (events: Awaited<ReturnType<VoiceActivityStream['push']>>) => {
    for (const e of events) {
      if (e.type !== 'speech.ended') continue;
      const t = performance.now();
      const f = prosodyFeatures(e.segment.samples);
      arousal.estimate(f);
      arousal.learn(f);
      const s = e.segment.samples.length / AUDIO_SAMPLE_RATE;
      prosodyPerS.push((performance.now() - t) / s);
      utterances++;
      found += s;
    }
  };
  for (let i = 0; i < samples.length; i += chunk) {
    onEvents(await stream.push({ samples: samples.subarray(i, Math.min(i + chunk, samples.length)), atMs: (i * 1000) / AUDIO_SAMPLE_RATE }));
  }
  onEvents(stream.flush());
  const elapsedS = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const cpuS = (cpu.user + cpu.system) / 1e6;
  await vad.release();
  const audioS = samples.length / AUDIO_SAMPLE_RATE;
  return {
    audio_rtf: round(elapsedS / audioS),
    audio_rtf_cpu: round(cpuS / audioS),
    vad_ms_per_frame_p50: round(pct(vadMs, 0.5), 3),
    vad_ms_per_frame_p95: round(pct(vadMs, 0.95), 3),
    prosody_ms_per_s_p50: round(pct(prosodyPerS, 0.5), 2),
    prosody_ms_per_s_p95: round(pct(prosodyPerS, 0.95), 2),
    audio_s: round(audioS, 2),
    vad_frames: vadMs.length,
    utterances,
    speech_found_ratio: round(found / speechS, 3),
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.log(JSON.stringify({ stage: 'audio', ...(await benchAudio()) }));
}
