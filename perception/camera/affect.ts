// From a camera frame's faces to one face observation for affect fusion.
import type { AffectObservation } from '../fusion/affect.js';
import type { FaceExpression, FrameResult } from './perceiver.js';

/**
 * The participant's face in a frame: the given track id if it is present, else the largest face
 * (the one nearest the robot). Undefined when no face is visible.
 */
export function participantFace(result: FrameResult, preferId?: string): FaceExpression | undefined {
  if (preferId) {
    const f = result.faces.find((x) => x.id === preferId);
    if (f) return f;
  }
  let best: FaceExpression | undefined;
  for (const f of result.faces) if (!best || f.box.w * f.box.h > best.box.w * best.box.h) best = f;
  return best;
}

/** A `face` observation for `AffectFusion` from a frame, or undefined when no face is visible (nothing is invented). */
export function faceObservation(result: FrameResult, atMs: number, preferId?: string): AffectObservation | undefined {
  const f = participantFace(result, preferId);
  if (!f) return undefined;
  return { source: 'face', valence: f.valence, arousal: f.arousal, confidence: f.confidence, atMs };
}
