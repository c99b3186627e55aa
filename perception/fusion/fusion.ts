import { AFFECT_SOURCES, affectLabel, type AffectObservation, type AffectSource, type AffectState, type SourceContribution } from './affect.js';

/** How one source is trusted over time. Durations in ms. */
export interface SourceTuning {
  /** Time constant of exponential smoothing between this source's observations. */
  smoothingMs: number;
  /** Time constant of freshness decay: after this long a reading counts e⁻¹ as much (before the taper to stale). */
  freshnessMs: number;
  /** After this long without an observation the source drops out. */
  staleAfterMs: number;
  /** How much this sense says about each dimension (0..1), before its own confidence. */
  reliability: { valence: number; arousal: number };
}

/** Per-source tuning. */
export type FusionTuning = Record<AffectSource, SourceTuning>;

/**
 * Defaults. A face is seen many times a second and changes fast; a voice and its words arrive once
 * per utterance and stay relevant for a while. Faces are the better valence cue; prosody the better
 * arousal cue (see DOMAIN.md §5); words carry valence. Voice and words are smoothed over a few
 * seconds only, so the latest utterance dominates: what was just said matters most in a conversation.
 */
export const DEFAULT_FUSION_TUNING: FusionTuning = {
  face: { smoothingMs: 600, freshnessMs: 2_000, staleAfterMs: 6_000, reliability: { valence: 1, arousal: 0.6 } },
  voice: { smoothingMs: 3_000, freshnessMs: 10_000, staleAfterMs: 30_000, reliability: { valence: 0.3, arousal: 1 } },
  text: { smoothingMs: 2_000, freshnessMs: 15_000, staleAfterMs: 45_000, reliability: { valence: 0.8, arousal: 0.3 } },
};

interface Track {
  valence?: number;
  arousal?: number;
  confidence: number;
  lastAtMs: number;
}

/**
 * Late fusion of face, voice and text affect. Each source is smoothed on its own (exponentially,
 * by time constant, using the observation timestamps), then sources are combined weighted by
 * reliability × confidence × freshness. Pure: time only enters through the timestamps passed in.
 */
export class AffectFusion {
  private readonly tracks = new Map<AffectSource, Track>();
  private readonly tuning: FusionTuning;

  constructor(tuning: Partial<{ [K in AffectSource]: Partial<SourceTuning> }> = {}) {
    this.tuning = Object.fromEntries(AFFECT_SOURCES.map((s) => [s, { ...DEFAULT_FUSION_TUNING[s], ...tuning[s] }])) as FusionTuning;
  }

  /** Take one observation. Older than the source's last one: ignored (returns false). Invalid: throws RangeError. */
  observe(o: AffectObservation): boolean {
    check(o);
    const t = this.tuning[o.source];
    const prev = this.tracks.get(o.source);
    if (prev && o.atMs < prev.lastAtMs) return false;
    if (!prev || o.atMs - prev.lastAtMs > t.staleAfterMs) {
      // Nothing recent to blend with: start from this reading.
      const track: Track = { confidence: o.confidence, lastAtMs: o.atMs };
      if (o.valence !== undefined) track.valence = o.valence;
      if (o.arousal !== undefined) track.arousal = o.arousal;
      this.tracks.set(o.source, track);
      return true;
    }
    const alpha = t.smoothingMs > 0 ? 1 - Math.exp(-(o.atMs - prev.lastAtMs) / t.smoothingMs) : 1;
    // A dimension seen for the first time is taken as is; otherwise it moves toward the new reading.
    if (o.valence !== undefined) prev.valence = prev.valence === undefined ? o.valence : prev.valence + alpha * (o.valence - prev.valence);
    if (o.arousal !== undefined) prev.arousal = prev.arousal === undefined ? o.arousal : prev.arousal + alpha * (o.arousal - prev.arousal);
    prev.confidence += alpha * (o.confidence - prev.confidence);
    prev.lastAtMs = o.atMs;
    return true;
  }

  /** The fused state at `nowMs`. */
  stateAt(nowMs: number): AffectState {
    const sources = {} as Record<AffectSource, SourceContribution>;
    const sum = { valence: { w: 0, x: 0, miss: 1 }, arousal: { w: 0, x: 0, miss: 1 } };
    for (const s of AFFECT_SOURCES) {
      const track = this.tracks.get(s);
      const t = this.tuning[s];
      if (!track) {
        sources[s] = { confidence: 0, freshness: 0, share: { valence: 0, arousal: 0 }, stale: true };
        continue;
      }
      const ageMs = Math.max(0, nowMs - track.lastAtMs);
      const stale = ageMs > t.staleAfterMs;
      // Exponential decay, tapered linearly to 0 over the last quarter before stale, so a source
      // fades out without a jump in the fused estimate.
      const taper = Math.min(1, (t.staleAfterMs - ageMs) / (0.25 * t.staleAfterMs));
      const freshness = stale ? 0 : Math.exp(-ageMs / t.freshnessMs) * Math.max(0, taper);
      const c: SourceContribution = { confidence: track.confidence, freshness, share: { valence: 0, arousal: 0 }, ageMs, stale };
      for (const dim of ['valence', 'arousal'] as const) {
        const v = track[dim];
        if (v === undefined) continue;
        c[dim] = v;
        const w = Math.min(1, t.reliability[dim] * track.confidence * freshness);
        sum[dim].w += w;
        sum[dim].x += w * v;
        // Probability that no source supports this dimension, treating them as independent.
        sum[dim].miss *= 1 - w;
      }
      sources[s] = c;
    }
    for (const s of AFFECT_SOURCES) {
      const track = this.tracks.get(s);
      if (!track) continue;
      const t = this.tuning[s];
      const f = sources[s].freshness;
      for (const dim of ['valence', 'arousal'] as const) {
        if (track[dim] !== undefined && sum[dim].w > 0) sources[s].share[dim] = Math.min(1, t.reliability[dim] * track.confidence * f) / sum[dim].w;
      }
    }
    const state: AffectState = { atMs: nowMs, confidence: 0, sources };
    if (sum.valence.w > 0) state.valence = sum.valence.x / sum.valence.w;
    if (sum.arousal.w > 0) state.arousal = sum.arousal.x / sum.arousal.w;
    state.confidence = ((1 - sum.valence.miss) + (1 - sum.arousal.miss)) / 2;
    const label = affectLabel(state.valence, state.arousal);
    if (label) state.label = label;
    return state;
  }

  /** Forget everything (a new participant, a new session). */
  reset(): void {
    this.tracks.clear();
  }
}

function check(o: AffectObservation): void {
  const where = `affect observation from ${String(o.source)} at ${o.atMs}`;
  if (!AFFECT_SOURCES.includes(o.source)) throw new RangeError(`${where}: unknown source (expected face, voice or text)`);
  if (!Number.isFinite(o.atMs)) throw new RangeError(`${where}: atMs must be a finite epoch ms`);
  if (!(o.confidence >= 0 && o.confidence <= 1)) throw new RangeError(`${where}: confidence ${o.confidence} is outside 0..1`);
  for (const dim of ['valence', 'arousal'] as const) {
    const v = o[dim];
    if (v !== undefined && !(v >= -1 && v <= 1)) throw new RangeError(`${where}: ${dim} ${v} is outside −1..1`);
  }
}
