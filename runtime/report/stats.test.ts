import { describe, expect, it } from 'vitest';
import { tCdf, tQuantile, welchInterval } from './stats.js';

describe('report statistics', () => {
  it("Student's t quantiles match published tables", () => {
    // Published two-sided 95% critical values (e.g. NIST/SEMATECH e-Handbook, table 1.3.6.7.2).
    expect(tQuantile(0.975, 1)).toBeCloseTo(12.706, 3);
    expect(tQuantile(0.975, 4)).toBeCloseTo(2.776, 3);
    expect(tQuantile(0.975, 10)).toBeCloseTo(2.228, 3);
    expect(tQuantile(0.975, 30)).toBeCloseTo(2.042, 3);
    expect(tQuantile(0.995, 20)).toBeCloseTo(2.845, 3);
    expect(tQuantile(0.025, 10)).toBeCloseTo(-2.228, 3);
    expect(tCdf(0, 7)).toBeCloseTo(0.5, 12);
    expect(tCdf(1.96, Infinity)).toBeCloseTo(0.975, 4);
  });

  it("Welch's interval of a difference of means, as SciPy's ttest_ind(equal_var=False) gives it", () => {
    // SciPy 1.17: ttest_ind([4.1, 3.8, 4.5, 4.0], [3.2, 3.9, 3.0], equal_var=False)
    //   → df 3.155403, confidence_interval(0.95) = (-0.226355, 1.693022)
    const ci = welchInterval([4.1, 3.8, 4.5, 4.0], [3.2, 3.9, 3.0])!;
    expect(ci.diff).toBeCloseTo(0.733333, 6);
    expect(ci.df).toBeCloseTo(3.155403, 5);
    expect(ci.low).toBeCloseTo(-0.226355, 5);
    expect(ci.high).toBeCloseTo(1.693022, 5);
  });

  it('needs two values per group, and gives a point when both groups have no spread', () => {
    expect(welchInterval([1], [2, 3])).toBeNull();
    expect(welchInterval([2, 2], [1, 1])).toMatchObject({ diff: 1, low: 1, high: 1 });
  });
});
