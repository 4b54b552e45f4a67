import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { selectBackend } from '../../src/backend/select.js';
import { CosineClassifier } from '../../src/models/layers/cosine_classifier.js';

await selectBackend('cpu', { quiet: true });

function headModel(units: number, dim: number): { model: tfl.LayersModel; head: CosineClassifier } {
  const input = tfl.input({ shape: [dim] });
  const head = new CosineClassifier({ units, scale: 10 });
  return { model: tfl.model({ inputs: input, outputs: head.apply(input) as tfl.SymbolicTensor }), head };
}

test('CosineClassifier: logits are scale x cosine of input and class weights (hand-checked)', () => {
  const { model, head } = headModel(2, 2);
  // Class 0 points along x, class 1 along y (its length, 2, must not matter).
  head.setWeights([tf.tensor2d([[1, 0], [0, 2]]), tf.tensor1d([10])]);
  const logits = model.predict(tf.tensor2d([[3, 4], [-2, 0]])) as tf.Tensor;
  const got = Array.from(logits.dataSync());
  [6, 8, -10, 0].forEach((want, i) => assert.ok(Math.abs(got[i]! - want) < 1e-4, `logit ${i}: ${got[i]} vs ${want}`));
  assert.throws(() => new CosineClassifier({ units: 1 }), /units must be an integer >= 2/);
  assert.throws(() => new CosineClassifier({ units: 3, scale: 0 }), /scale must be > 0/);
});

test('CosineClassifier: a registered layer that saves and loads without Lambda layers', async () => {
  const { model } = headModel(3, 4);
  let saved: tf.io.ModelArtifacts | null = null;
  await model.save(tf.io.withSaveHandler(async (a) => {
    saved = a;
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
  }));
  assert.ok(JSON.stringify(saved!.modelTopology).includes('"class_name":"CosineClassifier"'));
  const loaded = await tfl.loadLayersModel(tf.io.fromMemory(saved!));
  const x = tf.randomNormal([5, 4], 0, 1, 'float32', 7);
  assert.deepEqual(Array.from((loaded.predict(x) as tf.Tensor).dataSync()), Array.from((model.predict(x) as tf.Tensor).dataSync()));
});
