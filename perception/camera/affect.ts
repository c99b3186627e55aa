// From a camera frame's faces to one face observation for affect fusion.
import type { AffectObservation } from '../fusion/affect.js';
import type { FaceExpression, FrameResult } from './perceiver.js';

/**
 * The addressed person's face in a frame: the face with track id `faceId` (from `PeopleRegistry`'s
 * addressee), or undefined when nobody is addressed or that face is not in this frame. There is no
 * fallback to "the largest face": in a home with a partner, grandchildren and a television, the
 * nearest face is not necessarily the participant's, and someone else's expression is not theirs.
 */
export function participantFace(result: FrameResult, faceId: string | undefined): FaceExpression | undefined {
  return faceId === undefined ? undefined : result.faces.find((x) => x.id === faceId);
}

/** A `face` observation for `AffectFusion` from the addressed face, or undefined (nothing is invented). */
export function faceObservation(result: FrameResult, atMs: number, faceId: string | undefined): AffectObservation | undefined {
  const f = participantFace(result, faceId);
  if (!f) return undefined;
  return { source: 'face', valence: f.valence, arousal: f.arousal, confidence: f.confidence, atMs };
}
