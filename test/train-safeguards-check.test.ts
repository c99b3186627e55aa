import { describe, expect, it } from 'vitest';
import { firstDifference } from '../scripts/train-safeguards.js';

describe('train:safeguards --check tolerance', () => {
  const artefact = { version: '2.0.0', labels: { crisis: { weights: [0.5, -1.25, 3e-9], threshold: 0.42, cv: { recall: 0.6 } } } };
  it('accepts the same model with numbers that differ in the last digits (vectors differ across CPUs)', () => {
    const noisy = { version: '2.0.0', labels: { crisis: { weights: [0.5000003, -1.2500001, 4e-9], threshold: 0.4200001, cv: { recall: 0.6 } } } };
    expect(firstDifference(artefact, noisy, '')).toBeNull();
  });
  it('names where a real change is: a weight, a threshold, a label, a version', () => {
    expect(firstDifference(artefact, { ...artefact, version: '2.0.1' }, '')).toBe('version: "2.0.0" vs "2.0.1"');
    const moved = { version: '2.0.0', labels: { crisis: { weights: [0.5, -1.3, 3e-9], threshold: 0.42, cv: { recall: 0.6 } } } };
    expect(firstDifference(artefact, moved, '')).toBe('labels.crisis.weights[1]: -1.25 vs -1.3');
    expect(firstDifference(artefact, { version: '2.0.0', labels: {} }, '')).toMatch(/^labels\.crisis: /);
    expect(firstDifference([1, 2], [1], 'w')).toBe('w: 2 vs 1 entries');
  });
});
