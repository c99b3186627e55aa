/**
 * Training for the learned safeguard layer: L2-regularised, class-weighted logistic regression
 * fitted by Newton's method (exact, deterministic: same rows in the same order give the same
 * weights bit for bit), k-fold cross-validation, and per-label threshold choice.
 * Pure numbers in, numbers out: no I/O, no randomness.
 */
import { fnv1a } from '../../hash.js';

/** A fitted linear model: p = σ(w·x + b). */
export interface LinearModel {
  weights: Float64Array;
  bias: number;
}

/** Fitting options. */
export interface FitOptions {
  /** L2 penalty on the weights (not the bias). */
  l2: number;
  /** Weight of each positive row relative to a negative one; `balanced` makes both classes weigh the same in total. */
  positiveWeight: number | 'balanced';
  /** Newton iterations (the fit converges in well under 20 on these data). */
  iterations?: number;
  /** Start from these weights (a fold's fit starts from the full fit: fewer iterations, same optimum). */
  init?: LinearModel;
}

export const sigmoid = (z: number): number => (z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z)));

/** Probability of a row under a model. */
export function predict(model: LinearModel, x: ArrayLike<number>): number {
  let z = model.bias;
  const w = model.weights;
  for (let i = 0; i < w.length; i++) z += w[i]! * x[i]!;
  return sigmoid(z);
}

/**
 * Fit logistic regression on rows `xs` (all the same length) with 0/1 targets `ys`.
 * Newton–Raphson on the penalised log-likelihood; the Hessian is solved by Cholesky.
 */
export function fitLogistic(xs: readonly ArrayLike<number>[], ys: readonly number[], options: FitOptions): LinearModel {
  if (xs.length !== ys.length) throw new Error(`fitLogistic: ${xs.length} rows but ${ys.length} targets`);
  if (xs.length === 0) throw new Error('fitLogistic: no rows');
  const d = xs[0]!.length;
  const D = d + 1; // the last coordinate is the bias
  const pos = ys.filter((y) => y === 1).length;
  const neg = ys.length - pos;
  const wPos = options.positiveWeight === 'balanced' ? (pos === 0 ? 1 : neg / pos) : options.positiveWeight;
  const beta = new Float64Array(D);
  if (options.init) {
    beta.set(options.init.weights);
    beta[d] = options.init.bias;
  }
  const iterations = options.iterations ?? 25;
  const H = new Float64Array(D * D);
  const g = new Float64Array(D);
  const row = new Float64Array(D);
  for (let it = 0; it < iterations; it++) {
    H.fill(0);
    g.fill(0);
    for (let n = 0; n < xs.length; n++) {
      const x = xs[n]!;
      for (let i = 0; i < d; i++) row[i] = x[i]!;
      row[d] = 1;
      let z = 0;
      for (let i = 0; i < D; i++) z += beta[i]! * row[i]!;
      const p = sigmoid(z);
      const c = ys[n] === 1 ? wPos : 1;
      const r = c * (p - ys[n]!);
      const s = c * Math.max(p * (1 - p), 1e-10);
      for (let i = 0; i < D; i++) {
        g[i]! += r * row[i]!;
        const si = s * row[i]!;
        if (si === 0) continue;
        const base = i * D;
        for (let j = i; j < D; j++) H[base + j]! += si * row[j]!;
      }
    }
    for (let i = 0; i < d; i++) {
      g[i]! += options.l2 * beta[i]!;
      H[i * D + i]! += options.l2;
    }
    H[d * D + d]! += 1e-8; // keeps the bias row positive definite when a class is empty
    for (let i = 0; i < D; i++) for (let j = 0; j < i; j++) H[i * D + j] = H[j * D + i]!;
    const step = choleskySolve(H, g, D);
    let change = 0;
    for (let i = 0; i < D; i++) {
      beta[i]! -= step[i]!;
      change = Math.max(change, Math.abs(step[i]!));
    }
    if (change < 1e-7) break;
  }
  return { weights: beta.slice(0, d), bias: beta[d]! };
}

/** Solve A x = b for symmetric positive definite A (row-major D×D). A is overwritten. */
function choleskySolve(A: Float64Array, b: Float64Array, D: number): Float64Array {
  for (let j = 0; j < D; j++) {
    let sum = A[j * D + j]!;
    for (let k = 0; k < j; k++) sum -= A[j * D + k]! * A[j * D + k]!;
    if (sum <= 0) throw new Error('fitLogistic: Hessian is not positive definite (raise l2)');
    const ljj = Math.sqrt(sum);
    A[j * D + j] = ljj;
    for (let i = j + 1; i < D; i++) {
      let s = A[i * D + j]!;
      for (let k = 0; k < j; k++) s -= A[i * D + k]! * A[j * D + k]!;
      A[i * D + j] = s / ljj;
    }
  }
  const y = new Float64Array(D);
  for (let i = 0; i < D; i++) {
    let s = b[i]!;
    for (let k = 0; k < i; k++) s -= A[i * D + k]! * y[k]!;
    y[i] = s / A[i * D + i]!;
  }
  const x = new Float64Array(D);
  for (let i = D - 1; i >= 0; i--) {
    let s = y[i]!;
    for (let k = i + 1; k < D; k++) s -= A[k * D + i]! * x[k]!;
    x[i] = s / A[i * D + i]!;
  }
  return x;
}

/**
 * Deterministic fold of a group id (FNV-1a): rows of one group (a sentence and its
 * speech-recogniser twin) always fall in the same fold.
 */
export function foldOf(group: string, k: number): number {
  return fnv1a(group) % k;
}

/** What a threshold gives on scored rows. */
export interface ThresholdPoint {
  threshold: number;
  recall: number;
  fpr: number;
}

/**
 * Pick a threshold from out-of-fold scores: the highest one whose recall reaches `minRecall`,
 * unless its false-positive rate exceeds `maxFpr`, in which case the lowest threshold whose FPR
 * stays within `maxFpr` (recall is then below target and the report says so).
 * `alreadyFlagged` marks rows another part (the rules) flags anyway: they count as caught whatever
 * the threshold, so the threshold is chosen for the combined decision.
 */
export function chooseThreshold(
  scores: ArrayLike<number>,
  ys: readonly number[],
  target: { minRecall: number; maxFpr: number },
  alreadyFlagged?: readonly boolean[],
): ThresholdPoint {
  const candidates = [...new Set(Array.from(scores))].sort((a, b) => b - a);
  const at = (t: number): ThresholdPoint => {
    let tp = 0, fp = 0, p = 0, n = 0;
    for (let i = 0; i < ys.length; i++) {
      const flagged = scores[i]! >= t || (alreadyFlagged?.[i] ?? false);
      if (ys[i] === 1) {
        p++;
        if (flagged) tp++;
      } else {
        n++;
        if (flagged) fp++;
      }
    }
    return { threshold: t, recall: p ? tp / p : 1, fpr: n ? fp / n : 0 };
  };
  let best: ThresholdPoint | null = null;
  let lastWithinFpr: ThresholdPoint | null = null;
  for (const t of candidates) {
    const point = at(t);
    if (point.fpr > target.maxFpr) break;
    lastWithinFpr = point;
    if (point.recall >= target.minRecall) {
      best = point;
      break;
    }
  }
  const chosen = best ?? lastWithinFpr ?? at(1.0000001);
  // Sit halfway to the next lower score so a tiny numeric change cannot flip a boundary row.
  const below = candidates.find((c) => c < chosen.threshold);
  const threshold = below === undefined ? chosen.threshold : (chosen.threshold + below) / 2;
  return { ...at(threshold), threshold };
}
