// Facial expression: the 7-class FER2013 model (oarriaga/face_classification, via @vladmandic/human),
// mapped to ROS4HRI hri_msgs/Expression names and to circumplex valence/arousal.
import type { OnnxModel } from '../onnx.js';
import type { RgbFrame } from './frame.js';
import { sampleRegion, type Rect } from './image.js';

/** The 7 expressions the model tells apart, named as in hri_msgs/Expression. */
export type BasicExpression = 'angry' | 'disgusted' | 'scared' | 'happy' | 'sad' | 'surprised' | 'neutral';

/** The model's output order (FER2013: angry, disgust, fear, happy, sad, surprise, neutral) in hri names. */
export const EXPRESSION_ORDER: readonly BasicExpression[] = ['angry', 'disgusted', 'scared', 'happy', 'sad', 'surprised', 'neutral'];

/**
 * Where each expression sits on Russell's circumplex (valence, arousal in −1..1). The points follow the
 * per-class means of human valence/arousal annotations reported for AffectNet (Mollahosseini et al.,
 * 2017), rounded, and agree in quadrant with Russell (1980). They are a documented table, not a
 * measurement of this participant; the README explains how valence/arousal are computed from it.
 */
export const CIRCUMPLEX: Readonly<Record<BasicExpression, { valence: number; arousal: number }>> = {
  happy: { valence: 0.7, arousal: 0.3 },
  surprised: { valence: 0.2, arousal: 0.7 },
  angry: { valence: -0.5, arousal: 0.6 },
  scared: { valence: -0.4, arousal: 0.7 },
  disgusted: { valence: -0.6, arousal: 0.3 },
  sad: { valence: -0.6, arousal: -0.3 },
  neutral: { valence: 0, arousal: 0 },
};

/** One face's expression, shaped like hri_msgs/Expression (plus the class probabilities). */
export interface ExpressionEstimate {
  expression: BasicExpression;
  /** −1..1: probability-weighted mean of the classes' circumplex valence. */
  valence: number;
  /** −1..1: probability-weighted mean of the classes' circumplex arousal. */
  arousal: number;
  /** 0..1: the winning class's probability times the detector's score for the face. */
  confidence: number;
  /** Class probabilities in `EXPRESSION_ORDER`. */
  probabilities: number[];
}

/** Turn 7 class probabilities into an expression with valence, arousal and confidence. */
export function expressionFromProbabilities(probs: ArrayLike<number>, detectionScore = 1): ExpressionEstimate {
  let best = 0;
  let valence = 0;
  let arousal = 0;
  let total = 0;
  for (let i = 0; i < 7; i++) total += probs[i]!;
  const p = Array.from({ length: 7 }, (_, i) => (total > 0 ? probs[i]! / total : 1 / 7));
  for (let i = 0; i < 7; i++) {
    const e = EXPRESSION_ORDER[i]!;
    valence += p[i]! * CIRCUMPLEX[e].valence;
    arousal += p[i]! * CIRCUMPLEX[e].arousal;
    if (p[i]! > p[best]!) best = i;
  }
  return {
    expression: EXPRESSION_ORDER[best]!,
    valence,
    arousal,
    confidence: p[best]! * Math.min(1, Math.max(0, detectionScore)),
    probabilities: p,
  };
}

/** Runs the expression model on face crops (all faces of a frame in one batch). */
export class ExpressionClassifier {
  static readonly SIZE = 64;
  private buffer = new Float32Array(0);
  private readonly inputName: string;

  constructor(private readonly model: OnnxModel) {
    this.inputName = model.inputNames[0]!;
  }

  /** Class probabilities (in `EXPRESSION_ORDER`) for each face box of `frame`. */
  async classify(frame: RgbFrame, boxes: readonly Rect[]): Promise<Float32Array[]> {
    if (!boxes.length) return [];
    const S = ExpressionClassifier.SIZE;
    const need = boxes.length * S * S;
    if (this.buffer.length < need) this.buffer = new Float32Array(need);
    boxes.forEach((b, i) => sampleRegion(frame, b, S, S, 'nhwc-gray-pm1', this.buffer, i * S * S));
    const out = await this.model.run({ [this.inputName]: { type: 'float32', data: this.buffer.subarray(0, need), dims: [boxes.length, S, S, 1] } });
    const t = Object.values(out)[0]!;
    const data = t.data as Float32Array;
    if (data.length !== boxes.length * 7) {
      throw new Error(`${this.model.path}: expression output has ${data.length} values for ${boxes.length} faces, expected 7 per face`);
    }
    return boxes.map((_, i) => data.slice(i * 7, i * 7 + 7));
  }
}
