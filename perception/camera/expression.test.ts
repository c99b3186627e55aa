import { describe, expect, it } from 'vitest';
import { CIRCUMPLEX, EXPRESSION_ORDER, expressionFromProbabilities } from './expression.js';

describe('expression → hri_msgs/Expression', () => {
  it('names the 7 model classes as hri_msgs/Expression does, in the model’s output order', () => {
    expect(EXPRESSION_ORDER).toEqual(['angry', 'disgusted', 'scared', 'happy', 'sad', 'surprised', 'neutral']);
  });

  it('puts every class in its circumplex quadrant', () => {
    expect(CIRCUMPLEX.happy.valence).toBeGreaterThan(0);
    expect(CIRCUMPLEX.sad.valence).toBeLessThan(0);
    expect(CIRCUMPLEX.sad.arousal).toBeLessThan(0);
    for (const e of ['angry', 'scared', 'surprised'] as const) expect(CIRCUMPLEX[e].arousal).toBeGreaterThan(0.5);
    expect(CIRCUMPLEX.neutral).toEqual({ valence: 0, arousal: 0 });
  });

  it('weights valence/arousal by probability and scales confidence by the detector score', () => {
    const p = [0, 0, 0, 0.5, 0.5, 0, 0]; // half happy, half sad
    const e = expressionFromProbabilities(p, 0.8);
    expect(e.valence).toBeCloseTo((CIRCUMPLEX.happy.valence + CIRCUMPLEX.sad.valence) / 2, 6);
    expect(e.arousal).toBeCloseTo((CIRCUMPLEX.happy.arousal + CIRCUMPLEX.sad.arousal) / 2, 6);
    expect(e.confidence).toBeCloseTo(0.4, 6);
    const sure = expressionFromProbabilities([0, 0, 0, 0, 0, 1, 0]);
    expect([sure.expression, sure.valence, sure.arousal, sure.confidence]).toEqual(['surprised', CIRCUMPLEX.surprised.valence, CIRCUMPLEX.surprised.arousal, 1]);
  });

  it('normalises probabilities that do not sum to one', () => {
    const e = expressionFromProbabilities([0, 0, 0, 2, 0, 0, 2]);
    expect(e.probabilities[3]).toBeCloseTo(0.5, 6);
    expect(e.confidence).toBeCloseTo(0.5, 6);
  });
});
