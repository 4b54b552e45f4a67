import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../../src/backend/select.js';
import { gaussianLabel, learnDiscriminativeFilter, refineFilter } from '../../src/tracking/discriminative_filter.js';
import { Rng } from '../../src/util/random.js';

await selectBackend('auto', { quiet: true });

const S = 16, C = 4, K = 4;
/** A [1, S, S, C] map with small noise and `patches` (rows x cols random patterns) added at (row, col). */
function featureMap(rng: Rng, patches: { at: [number, number]; pattern: Float32Array; rows: number; cols: number }[]): tf.Tensor4D {
  const x = new Float32Array(S * S * C).map(() => 0.05 * rng.normal());
  for (const { at: [r, c], pattern, rows, cols } of patches) {
    for (let dy = 0; dy < rows; dy++) for (let dx = 0; dx < cols; dx++) for (let ch = 0; ch < C; ch++) x[((r + dy) * S + c + dx) * C + ch]! += pattern[(dy * cols + dx) * C + ch]!;
  }
  return tf.tensor4d(x, [1, S, S, C]);
}

/** Peak (row, col) of a valid correlation of `map` with `filter`. */
function peak(map: tf.Tensor4D, filter: tf.Tensor4D): [number, number] {
  const out = tf.tidy(() => tf.conv2d(map, filter, 1, 'valid'));
  const data = out.dataSync();
  const size = out.shape[1]!;
  out.dispose();
  let best = 0;
  for (let i = 1; i < data.length; i++) if (data[i]! > data[best]!) best = i;
  return [Math.floor(best / size), best % size];
}

test('discriminative filter: finds the target where the raw template follows the background it was cut with', () => {
  const rng = new Rng(3);
  // As in Human3: a small target (K rows x 2 columns) beside a long straight kerb (a 2-column
  // strip, the same down every row, twice the amplitude). The exemplar window holds both, and the
  // kerb carries most of its energy; along the kerb, windows hold the kerb without the target.
  const target = new Float32Array(K * 2 * C).map(() => rng.normal());
  const edge = new Float32Array(2 * C).map(() => 2 * rng.normal());
  const kerb = new Float32Array(S * 2 * C).map((_, i) => edge[i % (2 * C)]!);
  // First frame: the target window is the centre one (row 6, col 6 of the 13 x 13 positions).
  const first = featureMap(rng, [{ at: [6, 6], pattern: target, rows: K, cols: 2 }, { at: [0, 8], pattern: kerb, rows: S, cols: 2 }]);
  const template = tf.reshape(tf.slice(first, [0, 6, 6, 0], [1, K, K, C]), [K, K, C, 1]) as tf.Tensor4D;
  const { filter } = learnDiscriminativeFilter(first, { cells: K, lambda: 0.1, sigma: 0.7 });
  assert.deepEqual(filter.shape, [K, K, C, 1]);
  assert.deepEqual(peak(first, filter), [6, 6], 'the filter answers the target on the frame it learned from');
  // Later frame: the walker has left the kerb. Target at window (2, 2), the kerb at column 12.
  const later = featureMap(rng, [{ at: [2, 2], pattern: target, rows: K, cols: 2 }, { at: [0, 12], pattern: kerb, rows: S, cols: 2 }]);
  assert.equal(peak(later, template)[1], 10, 'the raw template follows the kerb');
  assert.deepEqual(peak(later, filter), [2, 2], 'the learned filter stays on the target');
  tf.dispose([first, template, filter, later]);
});

test('refineFilter: steepest descent from zero reaches the dual closed-form solution of the same ridge problem', () => {
  const rng = new Rng(5);
  const map = featureMap(rng, [{ at: [5, 5], pattern: new Float32Array(K * K * C).map(() => rng.normal()), rows: K, cols: K }]);
  const { filter, ridge } = learnDiscriminativeFilter(map, { cells: K, lambda: 0.1, sigma: 1 });
  const out = S - K + 1;
  const label = tf.tensor4d(gaussianLabel(out, (out - 1) / 2, (out - 1) / 2, 1), [1, out, out, 1]);
  const zero = tf.zerosLike(filter) as tf.Tensor4D;
  const { filter: refined, residual } = refineFilter(zero, map, label, Float32Array.of(1), ridge, 300);
  const gap = tf.tidy(() => tf.max(tf.abs(tf.sub(tf.conv2d(map, refined, 1, 'valid'), tf.conv2d(map, filter, 1, 'valid')))).dataSync()[0]!);
  assert.ok(gap < 0.02, `responses differ by up to ${gap}`);
  // A sample of weight 0 changes nothing but the ridge's pull towards zero.
  // The residual it returns, carried through 300 steps by linearity, is still the recomputed one.
  const carried = tf.tidy(() => tf.max(tf.abs(tf.sub(residual, tf.sub(tf.conv2d(map, refined, 1, 'valid'), label)))).dataSync()[0]!);
  assert.ok(carried < 1e-4, `carried residual off by ${carried}`);
  const { filter: twice, residual: r2 } = refineFilter(filter, tf.concat([map, map]) as tf.Tensor4D, tf.concat([label, tf.zerosLike(label)]) as tf.Tensor4D, Float32Array.of(1, 0), ridge, 5);
  const drift = tf.tidy(() => tf.max(tf.abs(tf.sub(twice, filter))).dataSync()[0]!);
  assert.ok(drift < 1e-3, `the optimum moved by ${drift}`);
  assert.throws(() => refineFilter(filter, map, label, Float32Array.of(1, 1), ridge, 1), /1 samples, 1 labels, 2 weights/);
  assert.throws(() => refineFilter(filter, map, label, Float32Array.of(1), ridge, 1, r2), /residual \[2,13,13,1\] against labels \[1,13,13,1\]/);
  tf.dispose([map, filter, label, zero, refined, residual, twice, r2]);
});

test('refineFilter: a residual handed in gives the same refinement as one it computes', () => {
  const rng = new Rng(8);
  const maps = tf.concat([0, 1, 2].map(() => featureMap(rng, [{ at: [rng.int(8), rng.int(8)], pattern: new Float32Array(K * K * C).map(() => rng.normal()), rows: K, cols: K }]))) as tf.Tensor4D;
  const out = S - K + 1;
  const labels = tf.concat([0, 1, 2].map((j) => tf.tensor4d(gaussianLabel(out, 4 + j, 6, 1), [1, out, out, 1]))) as tf.Tensor4D;
  const start = tf.randomNormal([K, K, C, 1], 0, 0.1, 'float32', 3) as tf.Tensor4D;
  const weights = Float32Array.of(1, 0.1, 0.09);
  const own = refineFilter(start, maps, labels, weights, 0.5, 2);
  const given = tf.tidy(() => tf.sub(tf.conv2d(maps, start, 1, 'valid'), labels) as tf.Tensor4D);
  const handed = refineFilter(start, maps, labels, weights, 0.5, 2, given);
  const gap = tf.tidy(() => Math.max(tf.max(tf.abs(tf.sub(own.filter, handed.filter))).dataSync()[0]!, tf.max(tf.abs(tf.sub(own.residual, handed.residual))).dataSync()[0]!));
  assert.ok(gap < 1e-6, `differ by ${gap}`);
  // And it moved: the refinement did something to compare.
  const moved = tf.tidy(() => tf.max(tf.abs(tf.sub(own.filter, start))).dataSync()[0]!);
  assert.ok(moved > 1e-3, `moved ${moved}`);
  tf.dispose([maps, labels, start, own.filter, own.residual, given, handed.filter, handed.residual]);
});

test('discriminative filter: bad input is refused', () => {
  const map = tf.zeros([1, 8, 8, 2]) as tf.Tensor4D;
  assert.throws(() => learnDiscriminativeFilter(map, { cells: 9, lambda: 0.1, sigma: 1 }), /filter side 9 must be within 1..8/);
  assert.throws(() => learnDiscriminativeFilter(map, { cells: 4, lambda: 0, sigma: 1 }), /lambda and sigma must be > 0/);
  const nan = tf.fill([1, 8, 8, 2], NaN) as tf.Tensor4D;
  assert.throws(() => learnDiscriminativeFilter(nan, { cells: 4, lambda: 0.1, sigma: 1 }), /NaN or infinite/);
  tf.dispose([map, nan]);
});
