import { describe, expect, it } from 'vitest';
import { faceObservation, participantFace } from './affect.js';
import type { FaceExpression, FrameResult } from './perceiver.js';

const face = (id: string, w: number, valence: number): FaceExpression => ({
  id, box: { x: 0, y: 0, w, h: w }, score: 0.9, expression: valence > 0 ? 'happy' : 'sad', valence, arousal: 0.2, confidence: 0.7,
});
const frame = (faces: FaceExpression[]): FrameResult => ({ frame: 0, width: 640, height: 480, faces, appeared: [], lost: [], timings: { detectMs: 0, expressionMs: 0, trackMs: 0 } });

describe('face observations for fusion', () => {
  it('takes the addressed face, even when another face is larger', () => {
    const r = frame([face('face1', 40, -0.5), face('face2', 120, 0.6)]);
    expect(participantFace(r, 'face1')?.id).toBe('face1');
    expect(faceObservation(r, 1234, 'face2')).toEqual({ source: 'face', valence: 0.6, arousal: 0.2, confidence: 0.7, atMs: 1234 });
    expect(faceObservation(r, 1234, 'face1')?.valence).toBe(-0.5);
  });

  it('gives nothing when nobody is addressed, or the addressed face is not in the frame (no largest-face guess)', () => {
    const r = frame([face('face1', 40, -0.5), face('face2', 120, 0.6)]);
    expect(faceObservation(r, 1, undefined)).toBeUndefined();
    expect(faceObservation(r, 1, 'face9')).toBeUndefined();
    expect(faceObservation(frame([]), 1, 'face1')).toBeUndefined();
  });
});
