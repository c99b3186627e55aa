/**
 * Engagement from what a camera on the robot sees of a face. ROS4HRI's `hri_engagement` computes a
 * "visual social engagement" from gaze direction and distance; Hearth's camera gives a face box and
 * no gaze, so the box stands in: a face that is near (tall in the image) and in front of the robot
 * (near the image's centre line) is taken as turned towards it. Levels change with hysteresis over
 * time so that a glance away, or one frame's jitter, does not flip them.
 */
import type { EngagementLevel, NormalizedBox } from './people.js';

/** When a face counts as engaging and for how long it must hold; defaults below. */
export interface EngagementTuning {
  /** Face height (share of the image height) at or below which the face is too far to be engaged. */
  farHeight: number;
  /** Face height at or above which distance no longer lowers the score. */
  nearHeight: number;
  /** Score at or above which a face is turned to the robot. */
  engageAt: number;
  /** Score below which it has turned away (below `engageAt`: the gap is the hysteresis). */
  disengageAt: number;
  /** How long ENGAGING must hold before ENGAGED. */
  engageMs: number;
  /** How long DISENGAGING lasts before DISENGAGED, unless the person turns back. */
  disengageMs: number;
}

/**
 * A detector's face box is ~0.16 m tall on an adult. With the Raspberry Pi camera v2's 49° vertical
 * field of view the image spans ~0.9 m of height per metre of distance, so the box is ~0.12 of the
 * image at 1.5 m (score 1), ~0.06 at 3 m (score ~0.4: not engaging), and ~0.045 at 4 m (below the
 * disengage line). One second to engage and two to let go are of the order of `hri_engagement`'s
 * sliding window (a few seconds of history).
 */
export const DEFAULT_ENGAGEMENT_TUNING: EngagementTuning = {
  farHeight: 0.03,
  nearHeight: 0.1,
  engageAt: 0.5,
  disengageAt: 0.3,
  engageMs: 1_000,
  disengageMs: 2_000,
};

/** 0..1: how near and how central a face is (1 = near and straight ahead). */
export function engagementScore(box: NormalizedBox, tuning: EngagementTuning = DEFAULT_ENGAGEMENT_TUNING): number {
  const height = Math.max(0, box.ymax - box.ymin);
  const near = clamp01((height - tuning.farHeight) / (tuning.nearHeight - tuning.farHeight));
  const offCentre = clamp01(Math.abs((box.xmin + box.xmax) / 2 - 0.5) / 0.5);
  return near * (1 - 0.5 * offCentre * offCentre);
}

/** One person's engagement level over time. */
export class EngagementTracker {
  level: EngagementLevel = 'UNKNOWN';
  sinceMs: number;

  constructor(atMs: number, private readonly tuning: EngagementTuning = DEFAULT_ENGAGEMENT_TUNING) {
    this.sinceMs = atMs;
  }

  /**
   * Feed one observation: a score (undefined when the face is not seen, e.g. lost or covered).
   * Returns the new level when it changed.
   */
  observe(score: number | undefined, atMs: number): EngagementLevel | undefined {
    const t = this.tuning;
    const held = atMs - this.sinceMs;
    const high = score !== undefined && score >= t.engageAt;
    const low = score === undefined || score < t.disengageAt;
    let next: EngagementLevel = this.level;
    switch (this.level) {
      case 'UNKNOWN':
      case 'DISENGAGED':
        if (high) next = 'ENGAGING';
        else if (score !== undefined) next = 'DISENGAGED';
        break;
      case 'ENGAGING':
        if (low) next = 'DISENGAGED';
        else if (high && held >= t.engageMs) next = 'ENGAGED';
        break;
      case 'ENGAGED':
        if (low) next = 'DISENGAGING';
        break;
      case 'DISENGAGING':
        if (high) next = 'ENGAGED';
        else if (held >= t.disengageMs) next = 'DISENGAGED';
        break;
    }
    return this.set(next, atMs);
  }

  /** Set a level given by someone else (ROS4HRI's own engagement estimate). */
  set(level: EngagementLevel, atMs: number): EngagementLevel | undefined {
    if (level === this.level) return undefined;
    this.level = level;
    this.sinceMs = atMs;
    return level;
  }
}

const clamp01 = (x: number): number => (Number.isFinite(x) ? Math.max(0, Math.min(1, x)) : 0);
