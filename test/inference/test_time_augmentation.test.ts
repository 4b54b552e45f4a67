import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../../src/backend/select.js';
import { jitteredViews, MAX_TTA_VIEWS, TTA_TRANSFORMS } from '../../src/inference/test_time_augmentation.js';
import { syntheticDataset } from '../training/synthetic_omniglot.js';
import { identityScorer } from './identity_scorer.js';

await selectBackend('cpu', { quiet: true });
const ds = syntheticDataset({ alphabets: 1, charactersPerAlphabet: 3, drawers: 2 });
const images = [0, 1, 2].map((i) => ds.imagePixels(i));

test('jittered views: the identity first, then distinct small jitters, view-major', () => {
  const flat = new Uint8Array(3 * 28 * 28);
  images.forEach((p, i) => flat.set(p, i * 28 * 28));
  const views = jitteredViews(flat, 3, 28, 28, 1, MAX_TTA_VIEWS);
  assert.equal(views.length, MAX_TTA_VIEWS * 3 * 28 * 28);
  assert.deepEqual(views.subarray(0, 3 * 784), flat);
  for (let v = 1; v < MAX_TTA_VIEWS; v++) {
    const view = views.subarray((v * 3 + 1) * 784, (v * 3 + 2) * 784); // image 1, view v
    const diff = view.reduce((a, x, j) => a + Math.abs(x - images[1]![j]!), 0);
    assert.ok(diff > 0, `view ${v} differs from the image`);
    // Small: the jittered character keeps most of its ink where it was.
    const ink = images[1]!.reduce((a, x) => a + x, 0);
    assert.ok(diff < ink * 1.5, `view ${v} moved too much (${diff} vs ink ${ink})`);
  }
  assert.equal(TTA_TRANSFORMS.length, MAX_TTA_VIEWS);
  assert.throws(() => jitteredViews(flat, 3, 28, 28, 1, 0), /from 1 \(off\) to 7/);
  assert.throws(() => jitteredViews(flat, 2, 28, 28, 1, 2), /expected 2 images/);
});

test('a TTA scorer embeds the mean of the views; 1 view is the plain scorer; no tensor leaks', () => {
  const plain = identityScorer(28);
  assert.equal(plain.ttaViews, 1);
  const one = plain.withTestTimeAugmentation(1).embed(images);
  assert.deepEqual(one, plain.embed(images));
  const tta = plain.withTestTimeAugmentation(3);
  assert.equal(tta.ttaViews, 3);
  const flat = new Uint8Array(3 * 784);
  images.forEach((p, i) => flat.set(p, i * 784));
  const views = jitteredViews(flat, 3, 28, 28, 1, 3);
  const got = tta.embed(images);
  // The identity encoder's embedding is the pixels in [0, 1]: the mean of the three views' pixels.
  for (let i = 0; i < 3; i++) {
    for (const j of [100, 350, 400, 500]) {
      const want = (views[i * 784 + j]! + views[(3 + i) * 784 + j]! + views[(6 + i) * 784 + j]!) / 3 / 255;
      assert.ok(Math.abs(got[i]![j]! - want) < 1e-6, `image ${i} pixel ${j}: ${got[i]![j]} vs ${want}`);
    }
  }
  tta.embed(images);
  const before = tf.memory().numTensors;
  for (let k = 0; k < 3; k++) tta.embed(images);
  assert.equal(tf.memory().numTensors, before);
  assert.throws(() => plain.withTestTimeAugmentation(9), /from 1 \(off\) to 7/);
});
