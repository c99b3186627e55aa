import { describe, expect, it } from 'vitest';
import { wilson } from '../evaluate.js';
import { contextWindow, speechForm, turnParts } from './features.js';
import { chooseThreshold, fitLogistic, foldOf, predict } from './train.js';

// A small reproducible data set: two Gaussian-ish clouds from a fixed linear congruential sequence.
function clouds(n: number): { xs: number[][]; ys: number[] } {
  let seed = 12345;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) - 0.5;
  const xs: number[][] = [];
  const ys: number[] = [];
  for (let i = 0; i < n; i++) {
    const y = i % 4 === 0 ? 1 : 0;
    xs.push([rnd() + (y ? 1.2 : -0.4), rnd() * 2, rnd() + (y ? 0.8 : 0)]);
    ys.push(y);
  }
  return { xs, ys };
}

describe('fitLogistic', () => {
  it('separates two clouds and gives the same weights bit for bit on a second run', () => {
    const { xs, ys } = clouds(400);
    const a = fitLogistic(xs, ys, { l2: 0.1, positiveWeight: 'balanced' });
    const b = fitLogistic(xs, ys, { l2: 0.1, positiveWeight: 'balanced' });
    expect(Array.from(a.weights)).toEqual(Array.from(b.weights));
    expect(a.bias).toBe(b.bias);
    const correct = xs.filter((x, i) => (predict(a, x) >= 0.5 ? 1 : 0) === ys[i]).length;
    expect(correct / xs.length).toBeGreaterThan(0.9);
    expect(a.weights[0]).toBeGreaterThan(0); // the informative coordinate points the right way
  });

  it('shrinks weights as the L2 penalty grows', () => {
    const { xs, ys } = clouds(200);
    const loose = fitLogistic(xs, ys, { l2: 0.01, positiveWeight: 1 });
    const tight = fitLogistic(xs, ys, { l2: 100, positiveWeight: 1 });
    expect(Math.abs(tight.weights[0]!)).toBeLessThan(Math.abs(loose.weights[0]!));
  });

  it('refuses mismatched rows and targets', () => {
    expect(() => fitLogistic([[1]], [1, 0], { l2: 1, positiveWeight: 1 })).toThrow(/1 rows but 2 targets/);
  });
});

describe('foldOf', () => {
  it('puts a group in the same fold every time and spreads groups over the folds', () => {
    expect(foldOf('cr-0001', 5)).toBe(foldOf('cr-0001', 5));
    const counts = [0, 0, 0, 0, 0];
    for (let i = 0; i < 1000; i++) counts[foldOf(`g${i}`, 5)]!++;
    expect(Math.min(...counts)).toBeGreaterThan(150);
  });
});

describe('chooseThreshold', () => {
  const scores = [0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.05];
  const ys = [1, 1, 0, 1, 0, 0, 1, 0, 0, 0];
  it('takes the highest threshold that reaches the recall target within the FPR bound', () => {
    const p = chooseThreshold(scores, ys, { minRecall: 0.75, maxFpr: 0.5 });
    expect(p.recall).toBe(0.75);
    expect(p.threshold).toBeLessThanOrEqual(0.6);
    expect(p.threshold).toBeGreaterThan(0.5);
  });
  it('stops at the FPR bound when the recall target cannot be met', () => {
    const p = chooseThreshold(scores, ys, { minRecall: 1, maxFpr: 1 / 6 });
    expect(p.fpr).toBeLessThanOrEqual(1 / 6);
    expect(p.recall).toBe(0.75);
  });
  it('counts rows another part already flags as caught', () => {
    const p = chooseThreshold(scores, ys, { minRecall: 1, maxFpr: 0.5 }, [false, false, false, false, false, false, true, false, false, false]);
    expect(p.recall).toBe(1);
    expect(p.threshold).toBeGreaterThan(0.5);
  });
});

describe('features', () => {
  it('puts typed text in speech-recogniser form', () => {
    expect(speechForm("I don't want to be here, anymore!")).toBe('i dont want to be here anymore');
  });
  it('splits long turns into sentences or word windows, and leaves short ones whole', () => {
    expect(turnParts('Just tired.')).toEqual([]);
    expect(turnParts('Shopping was fine. I gave the dog to my neighbour for good. Then tea.')).toHaveLength(3);
    const words = Array.from({ length: 40 }, (_, i) => `w${i}`).join(' ');
    expect(turnParts(words).length).toBeGreaterThan(2);
    expect(turnParts('x '.repeat(50_000)).length).toBeLessThanOrEqual(6);
  });
  it('joins only participant turns into the context window', () => {
    expect(contextWindow('so she wont have to', ['robot: How was today?', 'participant: i sorted the insurance papers'], 2)).toBe('i sorted the insurance papers . so she wont have to');
    expect(contextWindow('hello', ['robot: hi'], 2)).toBeNull();
  });
});

describe('wilson', () => {
  it('gives the textbook interval', () => {
    // 8/10: Wilson 95% interval is about [0.490, 0.943].
    expect(wilson(8, 10)).toEqual([0.4902, 0.9433]);
    expect(wilson(0, 0)).toBeNull();
    expect(wilson(0, 20)![0]).toBe(0);
  });
});
