/** ONNX export: every shipped model, run by ONNX Runtime, equals TF.js cpu within 1e-4. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { selectBackend } from '../../src/backend/select.js';
import { loadOnnxRuntime, OrtSession } from '../../src/backend/onnx/runtime.js';
import { exportModelDirToOnnx } from '../../src/export/onnx/model_dir.js';
import { exportOnnx } from '../../src/export/onnx/export.js';
import { buildPairModel } from '../../src/models/siamese.js';
import { createEncoder } from '../../src/models/encoders/registry.js';

const skipOrt: false | string = loadOnnxRuntime().ort ? false : loadOnnxRuntime().error!;

/** Runs `model` on seeded inputs in TF.js (cpu) and ONNX Runtime; returns max |diff| and scale. */
function compare(model: tfl.LayersModel, onnx: Uint8Array, shapes: number[][]): { diff: number; scale: number; size: number } {
  const session = OrtSession.create(onnx, { threads: 1 });
  const xs = shapes.map((s, i) => tf.randomUniform(s, 0, 1, 'float32', 11 + i));
  const y = tf.tidy(() => model.apply(xs.length === 1 ? xs[0]! : xs) as tf.Tensor);
  const expected = y.dataSync();
  const feeds = Object.fromEntries(session.inputNames.map((n, i) => [n, { data: xs[i]!.dataSync() as Float32Array, dims: shapes[i]! }]));
  const got = session.run(feeds)[session.outputNames[0]!]!;
  assert.deepEqual(got.dims, y.shape);
  let diff = 0, scale = 0;
  for (let i = 0; i < expected.length; i++) {
    diff = Math.max(diff, Math.abs(expected[i]! - got.data[i]!));
    scale = Math.max(scale, Math.abs(expected[i]!));
  }
  tf.dispose([...xs, y]);
  session.dispose();
  return { diff, scale, size: expected.length };
}

for (const name of ['omniglot', 'omniglot-siamese', 'faces-scratch', 'signatures', 'tracking-small']) {
  const dir = `models/${name}`;
  const isLayersModel = existsSync(`${dir}/model.json`) && (existsSync(`${dir}/fewshot.json`) || existsSync(`${dir}/tracker.json`));
  test(`shipped model ${name}: ONNX Runtime output equals TF.js within 1e-4`, { skip: skipOrt || (!isLayersModel && `${dir} is not a TF.js layers model folder`) }, async () => {
    await selectBackend('cpu', { quiet: true });
    const { model, onnx } = await exportModelDirToOnnx(dir);
    const shape = (t: tfl.SymbolicTensor, batch: number) => t.shape.map((d, i) => (i === 0 ? batch : d ?? 127)) as number[];
    // Trackers: one exemplar against a 3-crop scale pyramid, as the tracker calls them.
    const shapes = model.inputs.length === 2 ? [shape(model.inputs[0]!, 1), shape(model.inputs[1]!, 3)] : [shape(model.inputs[0]!, 5)];
    const { diff, scale, size } = compare(model, onnx, shapes);
    assert.ok(size > 0 && scale > 1e-3, 'outputs are not all zero');
    assert.ok(diff <= 1e-4, `max |ONNX - TF.js| = ${diff}`);
  });
}

test('the pretrained-backbone tracker (a TF.js graph model + head) is refused with a clear message', { skip: !existsSync('models/tracking/tracker.json') && 'models/tracking is not in this checkout' }, async () => {
  await assert.rejects(exportModelDirToOnnx('models/tracking'), /ONNX export covers the layers-model tracker/);
  // the second refusal leaks nothing (the first may have loaded the shared backbone graph)
  const before = tf.memory().numTensors;
  await assert.rejects(exportModelDirToOnnx('models/tracking'), /ONNX export covers the layers-model tracker/);
  assert.equal(tf.memory().numTensors, before);
});

test('a Siamese pair model (two inputs, shared encoder, AbsDifference head) exports exactly', { skip: skipOrt }, async () => {
  await selectBackend('cpu', { quiet: true });
  const encoder = tfl.sequential({ name: 'encoder', layers: [
    tfl.layers.conv2d({ inputShape: [12, 10, 2], filters: 4, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu', kernelInitializer: tfl.initializers.glorotNormal({ seed: 1 }) }),
    tfl.layers.averagePooling2d({ poolSize: 2, padding: 'same' }),
    tfl.layers.batchNormalization({ movingMeanInitializer: 'ones', movingVarianceInitializer: tfl.initializers.constant({ value: 2 }) }),
    tfl.layers.flatten(),
    tfl.layers.dense({ units: 6, activation: 'tanh', kernelInitializer: tfl.initializers.glorotNormal({ seed: 2 }) }),
  ] });
  const pair = buildPairModel(encoder, { hidden: [5], seed: 3 });
  const { diff } = compare(pair, exportOnnx(pair), [[4, 12, 10, 2], [4, 12, 10, 2]]);
  assert.ok(diff <= 1e-5, `max |ONNX - TF.js| = ${diff}`);
});

test('the residual encoder (Add of a projection shortcut, global average pooling) exports exactly', { skip: skipOrt }, async () => {
  await selectBackend('cpu', { quiet: true });
  const encoder = createEncoder('resnet7', { inputShape: [12, 12, 1], embeddingDim: 7, seed: 4 });
  // Batch-norm statistics away from 0 / 1, so that a converter that dropped them would show.
  encoder.weights.forEach((w, i) => {
    const positive = w.originalName.endsWith('moving_variance');
    w.write(tf.randomUniform(w.shape as number[], positive ? 0.5 : -0.5, positive ? 1.5 : 0.5, 'float32', 100 + i));
  });
  const { diff, scale } = compare(encoder, exportOnnx(encoder), [[3, 12, 12, 1]]);
  assert.ok(scale > 1e-3, 'outputs are not all zero');
  assert.ok(diff <= 1e-4 * Math.max(1, scale), `max |ONNX - TF.js| = ${diff} (scale ${scale})`);
});

test('a layer without an ONNX converter is a clear error', async () => {
  await selectBackend('cpu', { quiet: true });
  const model = tfl.sequential({ layers: [tfl.layers.inputLayer({ inputShape: [4] }), tfl.layers.repeatVector({ n: 2 })] });
  assert.throws(() => exportOnnx(model), /layer '.*' of class RepeatVector is not supported/);
});
