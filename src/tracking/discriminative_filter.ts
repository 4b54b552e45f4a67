/**
 * A discriminative correlation filter learned on one feature map, for the tracker's first frame.
 *
 * A Siamese template is the exemplar's features as they are: it never sees the background it must
 * be told apart from, so a small target in clutter (a walker next to a kerb) loses the peak to a
 * background patch that shares its context. Discriminative trackers (DCF/KCF, DiMP) instead
 * learn a filter w that answers a Gaussian peak on the target and ~0 on every shifted window of
 * the search region: ridge regression over all k x k windows of the first frame's feature map,
 *   min_w ||A w - y||^2 + lambda ||w||^2,  A = the windows as rows, y = the Gaussian label.
 * It is solved in the dual (w = A^T (A A^T + lambda I)^-1 y): P windows (625 at stride 4) against
 * k*k*C weights (4096), so the P x P system is the small one. Spatial, not Fourier, so there are no
 * circular boundary effects.
 */
import * as tf from '@tensorflow/tfjs-core';
import { choleskySolve } from '../util/cholesky.js';

export interface FilterLearning {
  /** Filter side in feature cells (the Siamese exemplar's, so both maps share one grid). */
  cells: number;
  /** Ridge weight relative to the mean window energy (trace(A A^T) / P). */
  lambda: number;
  /** Standard deviation of the Gaussian label, in feature cells. */
  sigma: number;
}

export interface LearnedFilter {
  /** conv2d kernel [cells, cells, C, 1]. */
  filter: tf.Tensor4D;
  /** The absolute ridge weight used (lambda x mean window energy), for later refinement. */
  ridge: number;
}

/**
 * Learns the filter on `features` ([1, S, S, C], the search crop centred on the target) and returns
 * it as a conv2d kernel [cells, cells, C, 1]. The label peaks on the centre window.
 */
export function learnDiscriminativeFilter(features: tf.Tensor4D, opts: FilterLearning): LearnedFilter {
  const [n, S, S2, C] = features.shape;
  const k = opts.cells;
  if (n !== 1 || S !== S2) throw new Error(`learnDiscriminativeFilter: expected one square feature map, got [${features.shape}]`);
  if (!Number.isInteger(k) || k < 1 || k > S) throw new Error(`learnDiscriminativeFilter: filter side ${k} must be within 1..${S}`);
  if (!(opts.lambda > 0) || !(opts.sigma > 0)) throw new Error(`learnDiscriminativeFilter: lambda and sigma must be > 0, got ${opts.lambda}, ${opts.sigma}`);
  const out = S - k + 1;
  const P = out * out;
  const D = k * k * C;
  const x = features.dataSync() as Float32Array;
  for (const v of x) if (!Number.isFinite(v)) throw new Error('learnDiscriminativeFilter: the feature map holds NaN or infinite values');
  // The windows as rows, in the same (row, column, channel) order as a conv2d kernel.
  const rows = new Float32Array(P * D);
  for (let py = 0; py < out; py++) {
    for (let px = 0; px < out; px++) {
      const r = (py * out + px) * D;
      for (let dy = 0; dy < k; dy++) rows.set(x.subarray(((py + dy) * S + px) * C, ((py + dy) * S + px + k) * C), r + dy * k * C);
    }
  }
  // Read outside tidy: tidy walks the properties of what it returns, every index of a typed array.
  const gramTensor = tf.tidy(() => {
    const a = tf.tensor2d(rows, [P, D]);
    return tf.matMul(a, a, false, true);
  });
  const K = new Float64Array(gramTensor.dataSync());
  gramTensor.dispose();
  let trace = 0;
  for (let i = 0; i < P; i++) trace += K[i * P + i]!;
  const ridge = opts.lambda * Math.max(trace / P, 1e-12);
  for (let i = 0; i < P; i++) K[i * P + i]! += ridge;
  const c = (out - 1) / 2;
  const y = Float64Array.from(gaussianLabel(out, c, c, opts.sigma));
  const alpha = choleskySolve(K, y, P, 'learnDiscriminativeFilter: the window kernel matrix is not positive definite');
  const filter = tf.tidy(() => {
    const w = tf.matMul(tf.tensor2d(Float32Array.from(alpha), [1, P]), tf.tensor2d(rows, [P, D]));
    return tf.reshape(w, [k, k, C, 1]) as tf.Tensor4D;
  });
  return { filter, ridge };
}

/** An out x out Gaussian of the given sigma centred on (row cy, column cx), in cells. */
export function gaussianLabel(out: number, cy: number, cx: number, sigma: number): Float32Array {
  const y = new Float32Array(out * out);
  for (let py = 0; py < out; py++) {
    for (let px = 0; px < out; px++) y[py * out + px] = Math.exp(-((py - cy) ** 2 + (px - cx) ** 2) / (2 * sigma ** 2));
  }
  return y;
}

export interface Refinement {
  /** The refined conv2d kernel. */
  filter: tf.Tensor4D;
  /** conv(features_j, filter) - label_j for every sample [M, out, out, 1], for the next call. */
  residual: tf.Tensor4D;
}

/**
 * Refines `filter` on weighted samples by steepest descent with exact line search (the objective
 * is quadratic), as DiMP's optimiser does: sum_j weight_j ||conv(features_j, w) - label_j||^2 +
 * ridge ||w||^2. `features` [M, S, S, C], `labels` [M, out, out, 1]. Returns new tensors.
 *
 * `residual`, when the caller has it, is conv(features, filter) - labels: it saves a convolution
 * over every sample. A tracker has it: the returned residual stays exact for the samples it keeps
 * as long as the filter does not change, and a new frame's response is the map it just scored.
 */
export function refineFilter(
  filter: tf.Tensor4D,
  features: tf.Tensor4D,
  labels: tf.Tensor4D,
  weights: Float32Array,
  ridge: number,
  iterations: number,
  residual?: tf.Tensor4D,
): Refinement {
  if (weights.length !== features.shape[0] || labels.shape[0] !== features.shape[0]) throw new Error(`refineFilter: ${features.shape[0]} samples, ${labels.shape[0]} labels, ${weights.length} weights`);
  if (residual && !tf.util.arraysEqual(residual.shape, labels.shape)) throw new Error(`refineFilter: residual [${residual.shape}] against labels [${labels.shape}]`);
  return tf.tidy(() => {
    const gamma = tf.tensor4d(weights, [weights.length, 1, 1, 1]);
    const response = (w: tf.Tensor4D) => tf.conv2d(features, w, 1, 'valid') as tf.Tensor4D;
    // The filter gradient of sum(c * response(w)): the backward kernel every backend has for training.
    const correlate = (c: tf.Tensor4D) =>
      tf.engine().runKernel('Conv2DBackpropFilter', { x: features, dy: c }, { strides: 1, pad: 'valid', dataFormat: 'NHWC', filterShape: filter.shape } as unknown as tf.NamedAttrMap) as tf.Tensor4D;
    let w = filter;
    // The residual is kept up to date through linearity (response(w - a g) = response(w) - a
    // response(g)), so each step costs two convolutions, not four.
    let r = residual ?? (tf.sub(response(w), labels) as tf.Tensor4D);
    for (let i = 0; i < iterations; i++) {
      const g = tf.add(correlate(tf.mul(gamma, r) as tf.Tensor4D), tf.mul(ridge, w)) as tf.Tensor4D;
      const rg = response(g);
      const gg = tf.sum(tf.square(g));
      const curvature = tf.add(tf.sum(tf.mul(gamma, tf.square(rg))), tf.mul(ridge, gg));
      const step = tf.div(gg, tf.maximum(curvature, 1e-20));
      w = tf.sub(w, tf.mul(step, g)) as tf.Tensor4D;
      r = tf.sub(r, tf.mul(step, rg)) as tf.Tensor4D;
    }
    return { filter: w === filter ? tf.clone(filter) : w, residual: r === residual ? tf.clone(r) : r };
  });
}
