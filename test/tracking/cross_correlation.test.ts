import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../../src/backend/select.js';
import { crossCorrelate, CrossCorrelation } from '../../src/tracking/cross_correlation.js';
import { loadTrackingModel, saveTrackingModel } from '../../src/tracking/model_io.js';
import { buildSiamFC, DEFAULT_SIAMFC, featureSize, scoreSize } from '../../src/tracking/siamfc_model.js';
import { EncoderSiamNetwork, scorePairs } from '../../src/tracking/siam_network.js';
import { SIAMFC_PARAMS } from '../../src/tracking/tracker.js';
import { Rng } from '../../src/util/random.js';

await selectBackend('cpu', { quiet: true });

function randomTensor(shape: number[], rng: Rng): tf.Tensor4D {
  const n = shape.reduce((a, b) => a * b, 1);
  return tf.tensor4d(Float32Array.from({ length: n }, () => rng.normal()), shape as [number, number, number, number]);
}

/** out[b, i, j] = sum_{u,v,c} z[b or 0, u, v, c] * x[b, i+u, j+v, c], by plain loops. */
function direct(z: tf.Tensor4D, x: tf.Tensor4D): number[][][] {
  const zv = z.arraySync();
  const xv = x.arraySync();
  const [bz, h, w, c] = z.shape;
  const [bx, H, W] = x.shape;
  return Array.from({ length: bx }, (_, b) =>
    Array.from({ length: H - h + 1 }, (_, i) =>
      Array.from({ length: W - w + 1 }, (_, j) => {
        let s = 0;
        for (let u = 0; u < h; u++) for (let v = 0; v < w; v++) for (let k = 0; k < c; k++) s += zv[bz === 1 ? 0 : b]![u]![v]![k]! * xv[b]![i + u]![j + v]![k]!;
        return s;
      }),
    ),
  );
}

function assertClose(actual: tf.Tensor4D, expected: number[][][]): void {
  const a = actual.arraySync();
  assert.equal(a.length, expected.length);
  expected.forEach((m, b) =>
    m.forEach((row, i) => row.forEach((v, j) => assert.ok(Math.abs(a[b]![i]![j]![0]! - v) < 1e-3 * (1 + Math.abs(v)), `(${b},${i},${j}): ${a[b]![i]![j]![0]} vs ${v}`))),
  );
}

test('cross-correlation equals the direct sum, pair by pair and with one broadcast exemplar', () => {
  const rng = new Rng(1);
  const z = randomTensor([3, 3, 4, 5], rng);
  const x = randomTensor([3, 9, 8, 5], rng);
  const out = crossCorrelate(z, x);
  assert.deepEqual(out.shape, [3, 7, 5, 1]);
  assertClose(out, direct(z, x));
  const one = tf.slice(z, [1, 0, 0, 0], [1, 3, 4, 5]);
  assertClose(crossCorrelate(one, x), direct(one, x));
  tf.dispose([z, x, out, one]);
});

test('cross-correlation rejects mismatched inputs with clear errors', () => {
  const rng = new Rng(2);
  const z = randomTensor([2, 3, 3, 4], rng);
  assert.throws(() => crossCorrelate(z, randomTensor([2, 8, 8, 3], rng)), /4 channels, search has 3/);
  assert.throws(() => crossCorrelate(z, randomTensor([3, 8, 8, 4], rng)), /2 exemplars for 3 search maps/);
  assert.throws(() => crossCorrelate(z, randomTensor([2, 2, 8, 4], rng)), /larger than search/);
});

test('CrossCorrelation layer: scale and bias, gradients reach both inputs', () => {
  const rng = new Rng(3);
  const layer = new CrossCorrelation({ scaleInit: 0.5 });
  const z = randomTensor([2, 2, 2, 3], rng);
  const x = randomTensor([2, 5, 5, 3], rng);
  const out = layer.apply([z, x]) as tf.Tensor4D;
  const raw = direct(z, x).map((m) => m.map((r) => r.map((v) => 0.5 * v)));
  assertClose(out, raw);
  const [gz, gx] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(crossCorrelate(a as tf.Tensor4D, b as tf.Tensor4D)))([z, x]);
  // d/dz of sum over positions = sum of the windows of x: non-zero; same for x.
  assert.ok(tf.sum(tf.abs(gz!)).dataSync()[0]! > 0);
  assert.ok(tf.sum(tf.abs(gx!)).dataSync()[0]! > 0);
  assert.equal(layer.getConfig()['scaleInit'], 0.5);
});

test('SiamFC geometry: 63/127 crops give 8x8 exemplar features and a 17x17 score map', () => {
  assert.equal(featureSize(63), 8);
  assert.equal(featureSize(127), 24);
  assert.equal(scoreSize(DEFAULT_SIAMFC), 17);
});

test('a SiamFC model saves and loads (standard TF.js files + tracker.json) with identical scores', async () => {
  const cfg = { ...DEFAULT_SIAMFC, channels: [4, 6, 6, 4] as [number, number, number, number], seed: 5 };
  const model = buildSiamFC(cfg);
  const rng = new Rng(4);
  const z = tf.tensor4d(Float32Array.from({ length: 63 * 63 * 3 }, () => rng.next()), [1, 63, 63, 3]);
  const x = tf.tensor4d(Float32Array.from({ length: 2 * 127 * 127 * 3 }, () => rng.next()), [2, 127, 127, 3]);
  const before = scorePairs(new EncoderSiamNetwork(model), tf.concat([z, z]) as tf.Tensor4D, x);
  assert.deepEqual(before.shape, [2, 17, 17, 1]);
  // The functional model (both inputs) gives the same map.
  const viaModel = model.predict([tf.concat([z, z]), x]) as tf.Tensor;
  assert.ok(tf.max(tf.abs(tf.sub(viaModel, before))).dataSync()[0]! < 1e-5);
  const dir = join(mkdtempSync(join(tmpdir(), 'fewshot-trk-model-')), 'm');
  await saveTrackingModel(dir, model, { format: 'fewshot-tracker/1', network: cfg, params: SIAMFC_PARAMS, createdAt: 'now' });
  const { network: loaded, meta } = await loadTrackingModel(dir);
  assert.deepEqual((meta.network as typeof cfg).channels, [4, 6, 6, 4]);
  const after = scorePairs(loaded, tf.concat([z, z]) as tf.Tensor4D, x);
  assert.ok(tf.max(tf.abs(tf.sub(after, before))).dataSync()[0]! < 1e-6);
  await assert.rejects(loadTrackingModel(join(dir, 'nope')), /model\.json: missing/);
});
