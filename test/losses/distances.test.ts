import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-layers'; // registers gradients
import { selectBackend } from '../../src/backend/select.js';
import { createDistance } from '../../src/distances/create_distance.js';
import { assertClose, values } from './helpers.js';

before(async () => {
  await selectBackend('cpu', { quiet: true });
});

// x0 = (1,0), x1 = (3,4); y0 = (3,0), y1 = (0,4).
const X = [[1, 0], [3, 4]];
const Y = [[3, 0], [0, 4]];

test('squared euclidean by hand', () => {
  const d = createDistance('sqeuclidean');
  // |x0-y0|^2 = 2^2 = 4; |x0-y1|^2 = 1 + 16 = 17; |x1-y0|^2 = 0 + 16 = 16; |x1-y1|^2 = 9 + 0 = 9
  assertClose(values(() => d.pairwise(tf.tensor2d(X), tf.tensor2d(Y))), [4, 17, 16, 9], 1e-5, 'pairwise');
  assertClose(values(() => d.paired(tf.tensor2d(X), tf.tensor2d(Y))), [4, 9], 1e-5, 'paired');
});

test('euclidean by hand', () => {
  const d = createDistance('euclidean');
  // square roots of the above: 2, sqrt(17) = 4.1231056, 4, 3
  assertClose(values(() => d.pairwise(tf.tensor2d(X), tf.tensor2d(Y))), [2, 4.1231056, 4, 3], 1e-5, 'pairwise');
  assertClose(values(() => d.paired(tf.tensor2d(X), tf.tensor2d(Y))), [2, 3], 1e-5, 'paired');
});

test('cosine by hand', () => {
  const d = createDistance('cosine');
  // cos(x0,y0) = 1 -> 0; cos(x0,y1) = 0 -> 1; cos(x1,y0) = 3/5 -> 0.4; cos(x1,y1) = 4/5 -> 0.2
  assertClose(values(() => d.pairwise(tf.tensor2d(X), tf.tensor2d(Y))), [0, 1, 0.4, 0.2], 1e-5, 'pairwise');
  assertClose(values(() => d.paired(tf.tensor2d(X), tf.tensor2d(Y))), [0, 0.2], 1e-5, 'paired');
  // An all-zero embedding must not produce NaN (its cosine is taken as 0 -> distance 1).
  assertClose(values(() => d.paired(tf.tensor2d([[0, 0]]), tf.tensor2d([[1, 2]]))), [1], 1e-5, 'zero vector');
});

test('every distance is ~0 for identical rows and has a finite gradient there', () => {
  for (const name of ['euclidean', 'sqeuclidean', 'cosine']) {
    const d = createDistance(name);
    const x = tf.variable(tf.tensor2d([[0.5, -1, 2], [0.5, -1, 2]]));
    assertClose(values(() => d.paired(x, x)), [0, 0], 1e-5, `${name} self`);
    for (const f of [() => tf.sum(d.pairwise(x, x)) as tf.Scalar, () => tf.sum(d.paired(x, tf.clone(x))) as tf.Scalar]) {
      const { value, grads } = tf.variableGrads(f, [x]);
      const g = grads[x.name]!.dataSync();
      assert.ok(g.every(Number.isFinite), `${name}: gradient at zero distance is not finite: ${Array.from(g)}`);
      tf.dispose([value, ...Object.values(grads)]);
    }
    x.dispose();
  }
});

test('createDistance rejects unknown names and mismatched shapes', () => {
  assert.throws(() => createDistance('manhattan'), /unknown distance 'manhattan'/);
  const d = createDistance('euclidean');
  assert.throws(() => d.pairwise(tf.zeros([2, 3]) as tf.Tensor2D, tf.zeros([2, 4]) as tf.Tensor2D), /sizes differ/);
  assert.throws(() => d.paired(tf.zeros([2, 3]) as tf.Tensor2D, tf.zeros([3, 3]) as tf.Tensor2D), /same number of rows/);
});
