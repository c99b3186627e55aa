/** The senses affect is read from. */
export type AffectSource = 'face' | 'voice' | 'text';
/** All sources, in a fixed order. */
export const AFFECT_SOURCES: readonly AffectSource[] = ['face', 'voice', 'text'];

/**
 * One reading from one sense: valence and arousal in −1..1 (either may be missing: the voice says
 * little about valence, words little about arousal), confidence 0..1, and when it was observed.
 */
export interface AffectObservation {
  source: AffectSource;
  valence?: number;
  arousal?: number;
  confidence: number;
  /** Epoch ms when the evidence was observed (frame time, end of the utterance). */
  atMs: number;
}

/** What one source adds to the fused state right now. */
export interface SourceContribution {
  /** Its smoothed readings, undefined when it never gave one. */
  valence?: number;
  arousal?: number;
  /** Its smoothed confidence 0..1. */
  confidence: number;
  /** 1 just observed, decaying toward 0 with age; 0 once stale. */
  freshness: number;
  /** Its share (0..1) of the fused valence and arousal. */
  share: { valence: number; arousal: number };
  /** Milliseconds since its last observation, undefined if never observed. */
  ageMs?: number;
  /** True when it has not been observed for too long to count. */
  stale: boolean;
}

/** Circumplex labels, named as in ROS4HRI hri_msgs/Expression. */
export type AffectLabel = 'neutral' | 'happy' | 'excited' | 'surprised' | 'angry' | 'sad' | 'bored' | 'tired';

/** The fused estimate behaviours read. Unknown dimensions are undefined, never guessed. */
export interface AffectState {
  atMs: number;
  valence?: number;
  arousal?: number;
  /** Coarse sector of the valence/arousal circle; undefined while valence is unknown. */
  label?: AffectLabel;
  /** 0..1: how much fresh, confident evidence supports valence and arousal (0 with no fresh source). */
  confidence: number;
  sources: Record<AffectSource, SourceContribution>;
}

/** Coarse label of a valence/arousal point: neutral near the centre, else one of eight 45° sectors. */
export function affectLabel(valence: number | undefined, arousal: number | undefined): AffectLabel | undefined {
  if (valence === undefined) return undefined;
  const a = arousal ?? 0;
  if (Math.hypot(valence, a) < 0.2) return 'neutral';
  const deg = ((Math.atan2(a, valence) * 180) / Math.PI + 360 + 22.5) % 360;
  // Sectors counter-clockwise from positive valence. Calm-positive has no hri_msgs name: 'neutral'.
  const sectors: AffectLabel[] = ['happy', 'excited', 'surprised', 'angry', 'sad', 'bored', 'tired', 'neutral'];
  return sectors[Math.floor(deg / 45)]!;
}
