/** Test helpers for the native inference plan: a Conv-4 model with real batch-norm statistics, and the equality check. */
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { selectBackend } from '../../src/backend/select.js';
import { loadNativeAddon } from '../../src/backend/native/addon.js';
import { compileInferencePlan } from '../../src/backend/native/inference_plan.js';
import { relativeError } from './compare.js';

/** Gives every batch-norm layer non-trivial moving statistics, so folding is really tested. */
export function randomiseBatchNorm(model: tfl.LayersModel, seed: number): void {
  for (const layer of model.layers) {
    if (layer.getClassName() !== 'BatchNormalization') continue;
    const w = layer.getWeights();
    layer.setWeights(w.map((t, i) => tf.randomUniform(t.shape, i === 3 ? 0.5 : -0.5, i === 3 ? 2 : 1.5, 'float32', seed++)));
  }
}

export async function planMatchesCpu(model: tfl.LayersModel, batches: number[]): Promise<void> {
  const compiled = compileInferencePlan(model, loadNativeAddon().addon!);
  assert.ok('plan' in compiled, 'reason' in compiled ? compiled.reason : '');
  const [, h, w, c] = model.inputs[0]!.shape as number[];
  for (const n of batches) {
    await selectBackend('cpu', { quiet: true });
    const x = tf.randomUniform([n, h!, w!, c!], 0, 1, 'float32', n);
    const expected = tf.tidy(() => tf.reshape(model.predict(x) as tf.Tensor, [n, -1]));
    const y = new Float32Array(n * compiled.plan.outputSize);
    const threads = loadNativeAddon().addon!.getNumThreads();
    compiled.plan.run(x.dataSync() as Float32Array, n, y);
    // small batches run single-threaded inside the plan; the thread count must come back
    assert.equal(loadNativeAddon().addon!.getNumThreads(), threads, `batch ${n}: thread count not restored`);
    const err = relativeError(y, expected.dataSync());
    assert.ok(err <= 1e-4, `batch ${n}: relative error ${err}`);
    tf.dispose([x, expected]);
  }
}

/** Conv-4 at 28x28 with 16 filters, batch norm (randomised statistics), ReLU and max-pool. */
export function conv4PlanModel(): tfl.LayersModel {
  const layers: tfl.layers.Layer[] = [];
  for (let i = 0; i < 4; i++) {
    layers.push(
      tfl.layers.conv2d({ filters: 16, kernelSize: 3, padding: 'same', ...(i === 0 ? { inputShape: [28, 28, 1] } : {}), kernelInitializer: tfl.initializers.heNormal({ seed: i }) }),
      tfl.layers.batchNormalization({}),
      tfl.layers.activation({ activation: 'relu' }),
      tfl.layers.maxPooling2d({ poolSize: 2 }),
    );
  }
  const model = tfl.sequential({ layers: [...layers, tfl.layers.flatten()] });
  randomiseBatchNorm(model, 1);
  return model;
}
