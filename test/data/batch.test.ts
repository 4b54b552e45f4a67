import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../../src/backend/select.js';
import { toBatchTensor } from '../../src/data/batch.js';
import { ImageDataset } from '../../src/data/dataset.js';
import { Rng } from '../../src/util/random.js';

function dataset(n: number, h: number, w: number, c: 1 | 3): ImageDataset {
  const pixels = new Uint8Array(n * h * w * c).map((_, i) => (i * 13) & 255);
  return new ImageDataset({ height: h, width: w, channels: c, pixels, labels: Int32Array.from({ length: n }, (_, i) => i % 2),
    classNames: ['a', 'b'], classGroups: ['a', 'b'], paths: Array.from({ length: n }, (_, i) => `${i}.png`) });
}

test('toBatchTensor: shape [n,h,w,c], float32 value / 255, in index order', async () => {
  await selectBackend('cpu', { quiet: true });
  const ds = dataset(5, 4, 3, 3);
  const t = toBatchTensor(ds, [4, 0]);
  assert.deepEqual(t.shape, [2, 4, 3, 3]);
  assert.equal(t.dtype, 'float32');
  const v = t.dataSync();
  const px4 = ds.imagePixels(4), px0 = ds.imagePixels(0);
  for (let j = 0; j < px4.length; j++) {
    assert.ok(Math.abs(v[j]! - px4[j]! / 255) < 1e-6);
    assert.ok(Math.abs(v[px4.length + j]! - px0[j]! / 255) < 1e-6);
  }
  t.dispose();
  assert.throws(() => toBatchTensor(ds, [5]), /index 5/);
  assert.throws(() => toBatchTensor(ds, []), /empty/);
  assert.throws(() => toBatchTensor(ds, [0], { augment: true }), /rng/);
});

test('augmented batches are seeded, stay in [0, 1], and leak no tensors', async () => {
  await selectBackend('cpu', { quiet: true });
  const ds = dataset(8, 28, 28, 1);
  const before = tf.memory().numTensors;
  const runs: Float32Array[] = [];
  for (let r = 0; r < 2; r++) {
    const rng = new Rng(7);
    for (let step = 0; step < 5; step++) {
      const t = toBatchTensor(ds, [0, 1, 2, 3, 4, 5, 6, 7], { augment: true, rng });
      const v = t.dataSync() as Float32Array;
      if (step === 4) runs.push(v.slice());
      assert.ok(v.every((x) => x >= 0 && x <= 1));
      t.dispose();
    }
  }
  assert.deepEqual(runs[0], runs[1]);
  assert.equal(tf.memory().numTensors, before);
});
