import { PitchDetector } from 'pitchy';
import { AUDIO_SAMPLE_RATE } from './audio-source.js';

/** Prosodic features of one stretch of speech. Undefined where the audio gave no evidence. */
export interface ProsodyFeatures {
  durationS: number;
  /** Fraction of 20 ms frames with a clear pitch (0..1). */
  voicedFraction: number;
  /** Median F0 in Hz over voiced frames. */
  f0MedianHz: number | undefined;
  /** Mean F0 in semitones above 100 Hz. */
  f0MeanSt: number | undefined;
  /** Standard deviation of F0 in semitones: how lively the intonation is. */
  f0SdSt: number | undefined;
  /** Mean RMS level of the sounding frames, dB re full scale. */
  energyDb: number | undefined;
  /** Standard deviation of the sounding frames' level, dB. */
  energySdDb: number | undefined;
  /** Syllable nuclei (intensity peaks in voiced audio) per second of phonation. */
  syllablesPerS: number | undefined;
  /** Seconds of phonation (frames above the silence floor). */
  phonationS: number;
}

const HOP = 160; // 10 ms
const ENERGY_WIN = 480; // 50 ms, centred on each hop
const PITCH_WIN = 1024; // 64 ms at 16 kHz: two periods of 60 Hz
/** Pitch is found at 8 kHz (F0 ≤ 500 Hz needs no more): a 512-sample window, 2.6× cheaper than 1024. */
const PITCH_RATE = AUDIO_SAMPLE_RATE / 2;
const PITCH_WIN_8K = PITCH_WIN / 2;
const PITCH_EVERY = 2; // pitch every 20 ms
const MIN_F0 = 60;
const MAX_F0 = 500;
const MIN_CLARITY = 0.8;
/** Frames quieter than the loudest by more than this are silence (de Jong & Wempe use 25 dB). */
const SILENCE_BELOW_PEAK_DB = 25;
/** And anything below this absolute floor is silence too. */
const ABSOLUTE_FLOOR_DB = -55;
/** An intensity peak counts as a new syllable only after a dip of at least this. */
const MIN_DIP_DB = 2;

const detectors = new Map<number, PitchDetector<Float32Array>>();
function detector(): PitchDetector<Float32Array> {
  let d = detectors.get(PITCH_WIN_8K);
  if (!d) {
    d = PitchDetector.forFloat32Array(PITCH_WIN_8K);
    d.minVolumeDecibels = ABSOLUTE_FLOOR_DB;
    detectors.set(PITCH_WIN_8K, d);
  }
  return d;
}

/** Samples as floats in −1..1. */
export function toFloat(samples: Int16Array): Float32Array {
  const out = new Float32Array(samples.length);
  for (let i = 0; i < samples.length; i++) out[i] = samples[i]! / 32768;
  return out;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const sd = (xs: number[]) => {
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / xs.length);
};
const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
};

/**
 * F0 (McLeod pitch method, `pitchy`), level and speech rate (syllable nuclei after de Jong & Wempe 2009)
 * of 16 kHz mono speech.
 */
export function prosodyFeatures(input: Int16Array | Float32Array): ProsodyFeatures {
  const x = input instanceof Int16Array ? toFloat(input) : input;
  const durationS = x.length / AUDIO_SAMPLE_RATE;
  const frames = Math.floor(x.length / HOP);
  // Level per 10 ms hop over a 50 ms window, by a running sum of squares.
  const sq = new Float64Array(x.length + 1);
  for (let i = 0; i < x.length; i++) sq[i + 1] = sq[i]! + x[i]! * x[i]!;
  const db = new Float64Array(frames);
  for (let f = 0; f < frames; f++) {
    const c = f * HOP + HOP / 2;
    const a = Math.max(0, c - ENERGY_WIN / 2);
    const b = Math.min(x.length, c + ENERGY_WIN / 2);
    const ms = (sq[b]! - sq[a]!) / Math.max(1, b - a);
    db[f] = 10 * Math.log10(ms + 1e-12);
  }
  const dbs = Array.from(db);
  const peak = frames ? quantile(dbs, 0.99) : -Infinity;
  const floor = Math.max(peak - SILENCE_BELOW_PEAK_DB, ABSOLUTE_FLOOR_DB);
  const sounding = dbs.filter((v) => v > floor);

  // Pitch every 20 ms on a 64 ms window, at 8 kHz after a [1 2 1]/4 low-pass.
  const x8 = new Float32Array(x.length >> 1);
  for (let i = 0; i < x8.length; i++) x8[i] = 0.25 * (x[2 * i - 1] ?? 0) + 0.5 * x[2 * i]! + 0.25 * (x[2 * i + 1] ?? 0);
  const det = detector();
  const voiced = new Uint8Array(frames);
  const f0s: number[] = [];
  let pitchFrames = 0;
  for (let f = 0; f + PITCH_WIN / HOP <= frames + 1; f += PITCH_EVERY) {
    const start = f * HOP + HOP / 2 - PITCH_WIN / 2;
    if (start < 0 || start + PITCH_WIN > x.length) continue;
    pitchFrames++;
    if (db[f]! <= floor) continue;
    const s8 = start >> 1;
    const [hz, clarity] = det.findPitch(x8.subarray(s8, s8 + PITCH_WIN_8K), PITCH_RATE);
    if (clarity >= MIN_CLARITY && hz >= MIN_F0 && hz <= MAX_F0) {
      f0s.push(hz);
      for (let k = -1; k <= PITCH_EVERY && f + k < frames; k++) if (f + k >= 0) voiced[f + k] = 1;
    }
  }
  const st = f0s.map((hz) => 12 * Math.log2(hz / 100));

  // Syllable nuclei: intensity peaks above the floor, separated by dips of MIN_DIP_DB, in voiced frames.
  const peaks: { f: number; v: number }[] = [];
  for (let f = 1; f < frames - 1; f++) {
    const v = db[f]!;
    if (!(v > floor && v >= db[f - 1]! && v > db[f + 1]!)) continue;
    const prev = peaks.at(-1);
    if (prev) {
      let dip = Infinity;
      for (let k = prev.f; k <= f; k++) dip = Math.min(dip, db[k]!);
      if (Math.min(prev.v, v) - dip < MIN_DIP_DB) {
        if (v > prev.v) peaks[peaks.length - 1] = { f, v };
        continue;
      }
    }
    peaks.push({ f, v });
  }
  const nuclei = peaks.filter((p) => voiced[p.f] === 1).length;
  const phonationS = (sounding.length * HOP) / AUDIO_SAMPLE_RATE;

  return {
    durationS,
    voicedFraction: pitchFrames ? f0s.length / pitchFrames : 0,
    f0MedianHz: f0s.length ? median(f0s) : undefined,
    f0MeanSt: st.length ? mean(st) : undefined,
    f0SdSt: st.length > 1 ? sd(st) : undefined,
    energyDb: sounding.length ? mean(sounding) : undefined,
    energySdDb: sounding.length > 1 ? sd(sounding) : undefined,
    syllablesPerS: phonationS >= 0.2 ? nuclei / phonationS : undefined,
    phonationS,
  };
}
