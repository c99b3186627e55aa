import type { ProsodyFeatures } from './prosody.js';

/** A speaker's typical prosody, against which a new utterance is judged. */
export interface ProsodyBaseline {
  f0MeanSt: number;
  energyDb: number;
  syllablesPerS: number;
  f0SdSt: number;
  /** Seconds of speech the baseline has learned from (0 = population defaults). */
  learnedS: number;
}

/**
 * Population starting point: F0 160 Hz (between typical male and female voices, 8.1 st above 100 Hz),
 * conversational level −25 dBFS, 4 syllables per second, 2.5 st of F0 variation.
 */
export const DEFAULT_BASELINE: ProsodyBaseline = { f0MeanSt: 8.1, energyDb: -25, syllablesPerS: 4, f0SdSt: 2.5, learnedS: 0 };

/** Arousal −1..1 from one utterance's prosody, with its confidence 0..1 and the evidence used. */
export interface ArousalEstimate {
  arousal: number;
  confidence: number;
  /** Standardised deviations from the baseline that went into the estimate. */
  z: { pitch?: number; pitchRange?: number; loudness?: number; rate?: number };
}

// Cue weights and spreads. Higher, louder, faster and livelier speech signals higher arousal
// (Juslin & Laukka 2003 review of vocal affect; Scherer 2003). Spreads are typical within-speaker
// variation, so z = 1 is a clearly raised voice.
const CUES = {
  pitch: { weight: 0.35, spread: 3 },
  pitchRange: { weight: 0.15, spread: 1.5 },
  loudness: { weight: 0.3, spread: 6 },
  rate: { weight: 0.2, spread: 1.5 },
} as const;
/** Prosody says less about arousal than a face does about valence; never claim more than this. */
const MAX_CONFIDENCE = 0.8;
/** How much each second of speech moves the baseline (about two minutes of speech to settle). */
const LEARN_PER_S = 1 / 120;

/**
 * Estimates arousal from prosody relative to the speaker's own baseline, which it learns slowly from
 * their speech. Until it has heard a minute of speech, its confidence is reduced.
 */
export class ArousalEstimator {
  private base: ProsodyBaseline;

  constructor(baseline: ProsodyBaseline = DEFAULT_BASELINE) {
    this.base = { ...baseline };
  }

  /** The speaker baseline as learned so far (persist it to carry it across sessions). */
  get baseline(): ProsodyBaseline {
    return { ...this.base };
  }

  /** Arousal of one utterance, without learning from it; undefined when there is no voiced speech. */
  estimate(f: ProsodyFeatures): ArousalEstimate | undefined {
    if (f.f0MeanSt === undefined || f.energyDb === undefined || f.voicedFraction === 0) return undefined;
    const z: ArousalEstimate['z'] = {
      pitch: (f.f0MeanSt - this.base.f0MeanSt) / CUES.pitch.spread,
      loudness: (f.energyDb - this.base.energyDb) / CUES.loudness.spread,
    };
    if (f.f0SdSt !== undefined) z.pitchRange = (f.f0SdSt - this.base.f0SdSt) / CUES.pitchRange.spread;
    if (f.syllablesPerS !== undefined) z.rate = (f.syllablesPerS - this.base.syllablesPerS) / CUES.rate.spread;
    let sum = 0;
    let weight = 0;
    for (const k of Object.keys(CUES) as (keyof typeof CUES)[]) {
      const v = z[k];
      if (v === undefined) continue;
      // Clip each cue so one wild value (a shout, a pitch error) cannot decide alone.
      sum += CUES[k].weight * Math.max(-3, Math.min(3, v));
      weight += CUES[k].weight;
    }
    const arousal = Math.tanh(sum / weight);
    // Evidence: enough voiced speech (≥ 1.5 s of phonation is plenty), all cues present, a learned baseline.
    const amount = Math.min(1, f.phonationS / 1.5) * Math.min(1, f.voicedFraction / 0.3);
    const learned = 0.5 + 0.5 * Math.min(1, this.base.learnedS / 60);
    const confidence = MAX_CONFIDENCE * amount * weight * learned;
    return { arousal, confidence, z };
  }

  /** Move the baseline toward this utterance, in proportion to how much speech it held. */
  learn(f: ProsodyFeatures): void {
    if (f.f0MeanSt === undefined || f.energyDb === undefined) return;
    const a = Math.min(0.5, f.phonationS * LEARN_PER_S);
    const b = this.base;
    b.f0MeanSt += a * (f.f0MeanSt - b.f0MeanSt);
    b.energyDb += a * (f.energyDb - b.energyDb);
    if (f.syllablesPerS !== undefined) b.syllablesPerS += a * (f.syllablesPerS - b.syllablesPerS);
    if (f.f0SdSt !== undefined) b.f0SdSt += a * (f.f0SdSt - b.f0SdSt);
    b.learnedS += f.phonationS;
  }
}
