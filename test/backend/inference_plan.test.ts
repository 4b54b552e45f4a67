/**
 * The compiled native inference plan (BN folded into conv weights, conv+bias+activation fused,
 * blocked layouts between layers) equals TF.js cpu within 1e-4, at batch 1 and larger.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { selectBackend } from '../../src/backend/select.js';
import { loadNativeAddon } from '../../src/backend/native/addon.js';
import { compileInferencePlan, planSpecOf } from '../../src/backend/native/inference_plan.js';
import { loadModel } from '../../src/models/io.js';
import { ensembleMembers } from '../../src/models/ensemble.js';
import { splitPairModel } from '../../src/models/siamese.js';
import { createEncoder } from '../../src/models/encoders/registry.js';
import { skipNative } from './compare.js';
import { conv4PlanModel, planMatchesCpu, randomiseBatchNorm } from './plan_check.js';

test('Conv-4 with batch norm, ReLU and max-pool: plan equals TF.js cpu', { skip: skipNative }, async () => {
  await selectBackend('cpu', { quiet: true });
  const model = conv4PlanModel();
  // 45 and 64: one pipeline per thread (batch >= 2 x 16 images), uneven shares and a short last chunk
  await planMatchesCpu(model, [1, 3, 45, 64]);
});

test('strides, valid/same padding, dilation, avg-pool, rescaling, layer norm, dense: plan equals TF.js cpu', { skip: skipNative }, async () => {
  await selectBackend('cpu', { quiet: true });
  const model = tfl.sequential({ layers: [
    tfl.layers.rescaling({ scale: 2, offset: -0.5, inputShape: [23, 19, 3] } as never),
    tfl.layers.layerNormalization({ axis: [1, 2, 3], gammaInitializer: tfl.initializers.randomUniform({ minval: 0.5, maxval: 1.5, seed: 3 }), betaInitializer: tfl.initializers.randomUniform({ minval: -0.2, maxval: 0.2, seed: 4 }) }),
    tfl.layers.conv2d({ filters: 8, kernelSize: 5, strides: 2, padding: 'valid', activation: 'relu', kernelInitializer: tfl.initializers.heNormal({ seed: 5 }) }),
    tfl.layers.maxPooling2d({ poolSize: 3, strides: 2, padding: 'same' }),
    tfl.layers.conv2d({ filters: 12, kernelSize: 3, dilationRate: 2, padding: 'same', kernelInitializer: tfl.initializers.heNormal({ seed: 6 }), biasInitializer: tfl.initializers.constant({ value: 0.1 }) }),
    tfl.layers.batchNormalization({ center: false }),
    tfl.layers.activation({ activation: 'elu' }),
    tfl.layers.averagePooling2d({ poolSize: 2, padding: 'same' }),
    tfl.layers.flatten(),
    tfl.layers.dense({ units: 7, activation: 'sigmoid', kernelInitializer: tfl.initializers.glorotNormal({ seed: 7 }) }),
  ] });
  randomiseBatchNorm(model, 10);
  await planMatchesCpu(model, [1, 5, 37]);
});

test('the residual encoder (identity and projection shortcuts, global average pooling): plan equals TF.js cpu', { skip: skipNative }, async () => {
  await selectBackend('cpu', { quiet: true });
  const model = createEncoder('resnet7', { seed: 3, embeddingDim: 10 });
  randomiseBatchNorm(model, 20);
  const r = planSpecOf(model);
  assert.ok('spec' in r, 'reason' in r ? r.reason : '');
  // stem, 3 blocks (each: save, 2 convs, add, and a pool after the first two), global pool, dense
  assert.deepEqual(r.spec.ops.map((op) => op.kind), [0, 1, 6, 0, 0, 7, 1, 6, 0, 0, 7, 1, 6, 0, 0, 7, 2, 5]);
  assert.equal(r.spec.ops.filter((op) => op.kind === 7 && op.weights).length, 2, 'two projection shortcuts (64 -> 128 -> 256)');
  await planMatchesCpu(model, [1, 6, 40]);
});

test('a functional model whose fork is not a residual block is reported, not compiled', async () => {
  await selectBackend('cpu', { quiet: true });
  const input = tfl.input({ shape: [6, 6, 2] });
  const a = tfl.layers.conv2d({ filters: 2, kernelSize: 3, padding: 'same' }).apply(input) as tfl.SymbolicTensor;
  const b = tfl.layers.conv2d({ filters: 2, kernelSize: 1 }).apply(input) as tfl.SymbolicTensor;
  const joined = tfl.layers.concatenate().apply([a, b]) as tfl.SymbolicTensor;
  const r = planSpecOf(tfl.model({ inputs: input, outputs: joined }));
  assert.ok('reason' in r && /not a residual block/.test(r.reason), JSON.stringify(r));
  const sameLength = tfl.layers.add().apply([a, b]) as tfl.SymbolicTensor;
  const r2 = planSpecOf(tfl.model({ inputs: input, outputs: sameLength }));
  assert.ok('reason' in r2 && /not a residual block/.test(r2.reason), JSON.stringify(r2));
});

for (const name of ['omniglot', 'omniglot-siamese', 'faces-scratch', 'signatures']) {
  test(`shipped model ${name}: plan equals TF.js cpu`, { skip: skipNative }, async (t) => {
    await selectBackend('cpu', { quiet: true });
    let loaded: Awaited<ReturnType<typeof loadModel>>;
    try {
      loaded = await loadModel(`models/${name}`);
    } catch (e) {
      t.skip(`models/${name} is not a fewshot layers model here (${(e as Error).message})`);
      return;
    }
    // A pair model's plan is its encoder's; an ensemble (models/omniglot, and the encoder of
    // models/omniglot-siamese) runs one plan per member (src/inference/native_runners.ts).
    const encoder = loaded.meta.score === 'pair-probability' ? splitPairModel(loaded.model).encoder : loaded.model;
    const members = ensembleMembers(encoder);
    if (loaded.meta.encoder.startsWith('ensemble(')) assert.ok(members && members.length > 0, `${name}: its ensemble members are found`);
    for (const member of members ?? [encoder]) await planMatchesCpu(member, [1, 9, 40]);
  });
}

test('layers the plan cannot compute exactly are reported, not compiled', async () => {
  await selectBackend('cpu', { quiet: true });
  const model = tfl.sequential({ layers: [tfl.layers.conv2d({ filters: 2, kernelSize: 1, inputShape: [4, 4, 1] }), tfl.layers.batchNormalization({ axis: 1 })] });
  const r = planSpecOf(model);
  assert.ok('reason' in r && /axis/.test(r.reason), JSON.stringify(r));
  const prelu = tfl.sequential({ layers: [tfl.layers.conv2d({ filters: 2, kernelSize: 1, inputShape: [4, 4, 1] }), tfl.layers.prelu()] });
  const r2 = planSpecOf(prelu);
  assert.ok('reason' in r2 && /PReLU/.test(r2.reason), JSON.stringify(r2));
});

test('a plan refuses inputs and outputs of the wrong size instead of reading past them', { skip: skipNative }, async () => {
  await selectBackend('cpu', { quiet: true });
  const model = tfl.sequential({ layers: [tfl.layers.conv2d({ filters: 2, kernelSize: 3, inputShape: [5, 5, 1] }), tfl.layers.flatten()] });
  const compiled = compileInferencePlan(model, loadNativeAddon().addon!);
  assert.ok('plan' in compiled);
  const { plan } = compiled;
  assert.equal(plan.outputSize, 18);
  assert.throws(() => plan.run(new Float32Array(24), 1, new Float32Array(18)), /input has 24 values, expected 1 x 25/);
  assert.throws(() => plan.run(new Float32Array(50), 2, new Float32Array(18)), /output buffer has the wrong size/);
  assert.throws(() => plan.run([1, 2] as unknown as Float32Array, 1, new Float32Array(18)), /expected a Float32Array/);
});
