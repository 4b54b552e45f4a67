/**
 * Binary logistic regression with an L2 penalty and class weights, fitted exactly by Newton's
 * method (iteratively reweighted least squares) on standardised features.
 *
 * Why not a library: a writer-dependent classifier sees 1..5 positives against a hundred or so
 * negatives in 64 dimensions, so it needs class weighting (or the positives are ignored) and a
 * penalty (or the problem is separable and the weights run off to infinity). ml-logistic-regression
 * (mljs) offers neither and runs fixed-step gradient descent whose result depends on a learning
 * rate; libsvm-js (a wasm build of libsvm, unchanged since 2019) needs async wasm start-up in every
 * consumer, including the browser app. The penalised, weighted objective is strictly convex, so
 * Newton's method reaches its unique minimum in a few iterations of a (d+1)x(d+1) Cholesky solve:
 * deterministic, no step size, and testable against the optimality condition (zero gradient).
 */
import { choleskySolve } from '../util/cholesky.js';

export interface LogisticRegressionOptions {
  /** L2 penalty on the weights (not the bias), relative to the total sample weight (default 1e-2). */
  l2?: number;
  /** 'balanced': each class carries half of the total weight, however few its samples (default). */
  classWeight?: 'balanced' | 'none';
  /** Newton iterations at most (default 50). */
  maxIterations?: number;
  /** Stop when the largest change of a parameter falls below this (default 1e-8). */
  tolerance?: number;
}

export interface FittedLogisticRegression {
  /** Per-feature mean and scale used to standardise (from the training samples). */
  mean: Float64Array;
  scale: Float64Array;
  /** Weights on the standardised features, and the bias. */
  weights: Float64Array;
  bias: number;
  iterations: number;
}

export class LogisticRegression {
  private constructor(readonly model: FittedLogisticRegression) {}

  /** Fits on rows `x` (all the same length) with labels 1 (positive) or 0. */
  static fit(x: readonly ArrayLike<number>[], y: readonly (0 | 1)[], opts: LogisticRegressionOptions = {}): LogisticRegression {
    const n = x.length;
    if (n === 0 || y.length !== n) throw new Error(`logistic regression: ${n} samples for ${y.length} labels`);
    const d = x[0]!.length;
    if (d === 0) throw new Error('logistic regression: samples have no features');
    const positives = y.filter((v) => v === 1).length;
    if (positives === 0 || positives === n) throw new Error(`logistic regression needs both classes: ${positives} positive, ${n - positives} negative samples`);
    const l2 = opts.l2 ?? 1e-2;
    if (!(Number.isFinite(l2) && l2 > 0)) throw new Error(`logistic regression: l2 must be a positive number, got ${l2}`);
    const maxIterations = opts.maxIterations ?? 50;
    const tolerance = opts.tolerance ?? 1e-8;

    // Standardise: the penalty then treats every feature alike.
    const mean = new Float64Array(d), scale = new Float64Array(d);
    for (const row of x) {
      if (row.length !== d) throw new Error(`logistic regression: samples of ${row.length} and ${d} features`);
      for (let j = 0; j < d; j++) {
        const v = row[j]!;
        if (!Number.isFinite(v)) throw new Error('logistic regression: a sample has a non-finite feature');
        mean[j]! += v / n;
      }
    }
    for (const row of x) for (let j = 0; j < d; j++) scale[j]! += (row[j]! - mean[j]!) ** 2 / n;
    for (let j = 0; j < d; j++) scale[j] = Math.sqrt(scale[j]!) || 1;
    const z = x.map((row) => Float64Array.from({ length: d + 1 }, (_, j) => (j < d ? (row[j]! - mean[j]!) / scale[j]! : 1)));

    const balanced = (opts.classWeight ?? 'balanced') === 'balanced';
    const sw = y.map((v) => (balanced ? n / (2 * (v === 1 ? positives : n - positives)) : 1));
    const total = sw.reduce((a, b) => a + b, 0);
    const lambda = l2 * total;

    const p = d + 1;
    const beta = new Float64Array(p);
    let iterations = 0;
    for (; iterations < maxIterations; iterations++) {
      const grad = new Float64Array(p);
      const hess = new Float64Array(p * p);
      for (let i = 0; i < n; i++) {
        const zi = z[i]!;
        let t = 0;
        for (let j = 0; j < p; j++) t += beta[j]! * zi[j]!;
        const prob = sigmoid(t);
        const g = sw[i]! * (prob - y[i]!);
        const h = sw[i]! * Math.max(prob * (1 - prob), 1e-12);
        for (let j = 0; j < p; j++) {
          grad[j]! += g * zi[j]!;
          const hz = h * zi[j]!;
          for (let k = 0; k <= j; k++) hess[j * p + k]! += hz * zi[k]!;
        }
      }
      for (let j = 0; j < d; j++) {
        grad[j]! += lambda * beta[j]!;
        hess[j * p + j]! += lambda;
      }
      hess[d * p + d]! += 1e-9 * total; // keeps the bias row positive definite
      const step = choleskySolve(hess, grad, p, 'logistic regression: the Hessian is not positive definite (degenerate features)');
      let change = 0;
      for (let j = 0; j < p; j++) {
        beta[j]! -= step[j]!;
        change = Math.max(change, Math.abs(step[j]!));
      }
      if (change < tolerance) { iterations++; break; }
    }
    return new LogisticRegression({ mean, scale, weights: beta.slice(0, d), bias: beta[d]!, iterations });
  }

  /** The log-odds of the positive class (0 = undecided). */
  decision(row: ArrayLike<number>): number {
    const { mean, scale, weights, bias } = this.model;
    if (row.length !== weights.length) throw new Error(`logistic regression: a sample of ${row.length} features, fitted on ${weights.length}`);
    let t = bias;
    for (let j = 0; j < weights.length; j++) t += (weights[j]! * (row[j]! - mean[j]!)) / scale[j]!;
    return t;
  }

  probability(row: ArrayLike<number>): number {
    return sigmoid(this.decision(row));
  }
}

function sigmoid(t: number): number {
  return t >= 0 ? 1 / (1 + Math.exp(-t)) : Math.exp(t) / (1 + Math.exp(t));
}
