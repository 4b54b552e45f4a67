/**
 * Opt-in bf16 training (`--precision bf16`, src/backend/native/precision.ts): the bf16
 * convolutions agree with float32 to bf16's precision (and do run in bf16: they are not
 * bit-identical), a training step's loss and gradients agree, passes that are not training
 * stay exactly float32, and asking for bf16 where it cannot run is a clear error.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { selectBackend } from '../../src/backend/select.js';
import { loadNativeAddon } from '../../src/backend/native/addon.js';
import { setTrainingPrecision, trainingPrecision, withTrainingPrecision } from '../../src/backend/native/precision.js';
import { randn, relativeError, skipNative } from './compare.js';

const skipBf16: false | string = skipNative || (loadNativeAddon().addon!.bf16Supported() ? false : 'this CPU has no AVX512-BF16/AMX: the bf16 path is not available here');
/** bf16 keeps 8 bits of mantissa: one rounding of each input is ~4e-3 relative, sums of many products less. */
const BF16_TOL = 2e-2;

function convOnBoth(kernel: string, inputs: Record<string, tf.Tensor>, attrs: Record<string, unknown>): { fp32: Float32Array; bf16: Float32Array } {
  const run = (precision: string) => tf.tidy(() => Float32Array.from((tf.engine().runKernel(kernel, inputs, { ...attrs, precision } as unknown as tf.NamedAttrMap) as tf.Tensor).dataSync()));
  return { fp32: run('fp32'), bf16: run('bf16') };
}

test('bf16 convolutions (forward + bias + ReLU, input and filter gradients) agree with float32 within 2e-2 and are not float32', { skip: skipBf16 }, async () => {
  await selectBackend('native', { quiet: true });
  const x = randn([4, 10, 10, 32], 1), w = tf.mul(randn([3, 3, 32, 48], 2), 0.1), bias = randn([48], 3);
  const cases: Array<[string, string, Record<string, tf.Tensor>, Record<string, unknown>]> = [];
  for (const pad of ['same', 'valid'] as const) {
    const info = tf.backend_util.computeConv2DInfo(x.shape as [number, number, number, number], w.shape as [number, number, number, number], 1, 1, pad);
    const dy = randn(info.outShape, 4);
    cases.push(
      [`forward ${pad}`, 'FewshotConv2DBiasActivation', { x, filter: w, bias }, { strides: [1, 1], pad, activation: 'relu' }],
      [`input gradient ${pad}`, 'Conv2DBackpropInput', { dy, filter: w }, { inputShape: x.shape, strides: [1, 1], pad, dataFormat: 'NHWC' }],
      [`filter gradient ${pad}`, 'Conv2DBackpropFilter', { x, dy }, { strides: [1, 1], pad, dataFormat: 'NHWC', filterShape: w.shape }],
    );
  }
  for (const [name, kernel, inputs, attrs] of cases) {
    const { fp32, bf16 } = convOnBoth(kernel, inputs, attrs);
    const err = relativeError(bf16, fp32);
    assert.ok(err <= BF16_TOL, `${name}: relative error ${err.toExponential(2)} > ${BF16_TOL}`);
    assert.ok(err > 1e-6, `${name}: bf16 gave float32's exact result (${err.toExponential(2)}): the bf16 kernel did not run`);
  }
  // A first layer on grey images (1 input channel) stays float32: identical results.
  const grey = randn([2, 12, 12, 1], 5), w1 = randn([3, 3, 1, 16], 6);
  const first = convOnBoth('FewshotConv2DBiasActivation', { x: grey, filter: w1 }, { strides: [1, 1], pad: 'same', activation: 'linear' });
  assert.deepEqual(first.bf16, first.fp32);
  await selectBackend('cpu', { quiet: true });
});

/**
 * Conv, batch norm + ReLU, then linear convs: the ReLU masks come from the batch norm's float32
 * output, so no kink sits right after a bf16 convolution (where a rounding that flips a ReLU or
 * a max-pool choice moves a gradient by far more than bf16's precision, in float32 too).
 */
function net(): tfl.Sequential {
  return tfl.sequential({
    layers: [
      tfl.layers.conv2d({ inputShape: [12, 12, 1], filters: 32, kernelSize: 3, padding: 'same', kernelInitializer: tfl.initializers.heNormal({ seed: 1 }) }),
      tfl.layers.batchNormalization({}),
      tfl.layers.activation({ activation: 'relu' }),
      tfl.layers.conv2d({ filters: 32, kernelSize: 3, padding: 'same', kernelInitializer: tfl.initializers.heNormal({ seed: 2 }) }),
      tfl.layers.conv2d({ filters: 16, kernelSize: 3, kernelInitializer: tfl.initializers.heNormal({ seed: 3 }) }),
      tfl.layers.flatten(),
      tfl.layers.dense({ units: 4, kernelInitializer: tfl.initializers.glorotNormal({ seed: 4 }) }),
    ],
  });
}

test('a bf16 training pass: loss and every gradient within 1e-2 of float32 (norm-wise); a non-training pass stays exactly float32; no leaks', { skip: skipBf16 }, async () => {
  await selectBackend('native', { quiet: true });
  const model = net();
  const x = randn([8, 12, 12, 1], 7);
  const labels = tf.oneHot(tf.tensor1d([0, 1, 2, 3, 0, 1, 2, 3], 'int32'), 4);
  const lossAndGrads = () => tf.tidy(() => {
    const { value, grads } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(labels, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar);
    return { loss: value.dataSync()[0]!, grads: Object.fromEntries(Object.entries(grads).map(([k, g]) => [k, Float32Array.from(g.dataSync())])) };
  });
  const predict = () => tf.tidy(() => Float32Array.from((model.predict(x) as tf.Tensor).dataSync()));
  const fp32 = lossAndGrads();
  const before = tf.memory().numTensors;
  let predictedUnderBf16: Float32Array | undefined;
  const bf16 = await withTrainingPrecision('bf16', async () => {
    assert.equal(trainingPrecision(), 'bf16');
    const r = lossAndGrads();
    predictedUnderBf16 = predict();
    return r;
  });
  // (a training pass moves batch norm's statistics, so both predictions come after it)
  assert.deepEqual(predictedUnderBf16, predict(), 'a non-training pass under --precision bf16 must stay float32');
  assert.equal(trainingPrecision(), 'fp32', 'withTrainingPrecision restores the previous precision');
  assert.equal(tf.memory().numTensors, before, 'tensors leaked');
  assert.ok(Math.abs(bf16.loss - fp32.loss) <= 1e-2 * Math.abs(fp32.loss), `loss ${bf16.loss} vs ${fp32.loss}`);
  let differs = false;
  for (const [name, g] of Object.entries(fp32.grads)) {
    // The bias before a batch norm has an exact gradient of zero: both values are rounding noise.
    if (norm(g) < 1e-5) continue;
    const err = norm(g.map((v, i) => v - bf16.grads[name]![i]!)) / norm(g);
    assert.ok(err <= 1e-2, `gradient of ${name}: |bf16 - fp32| / |fp32| = ${err.toExponential(2)} > 1e-2`);
    differs ||= err > 1e-6;
  }
  assert.ok(differs, 'bf16 gradients equal float32 exactly: the bf16 path did not run');
  tf.dispose([x, labels]);
  model.dispose();
  await selectBackend('cpu', { quiet: true });
});

test('bf16 where it cannot run is a clear error, and the precision is unchanged', { skip: skipNative }, async () => {
  await selectBackend('cpu', { quiet: true });
  assert.throws(() => setTrainingPrecision('bf16'), /needs the native backend \(active: cpu\)/);
  assert.throws(() => setTrainingPrecision('fp16' as never), /unknown precision 'fp16'/);
  assert.equal(trainingPrecision(), 'fp32');
});
function norm(v: Float32Array): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i]! * v[i]!;
  return Math.sqrt(s);
}
