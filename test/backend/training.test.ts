/**
 * The native backend inside real training: a numeric gradient check on a tiny conv net, one
 * tfjs-layers step (conv + batchnorm + relu + pool + dense, Adam) equal to the cpu backend's,
 * and no tensor leaks over many steps.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { selectBackend } from '../../src/backend/select.js';
import { randn, relativeError, skipNative } from './compare.js';

function tinyNet(): tfl.Sequential {
  return tfl.sequential({
    layers: [
      tfl.layers.conv2d({ inputShape: [9, 9, 2], filters: 4, kernelSize: 3, padding: 'same', useBias: false /* batchnorm follows: a bias gradient would be pure rounding noise, which Adam amplifies */, kernelInitializer: tfl.initializers.glorotNormal({ seed: 1 }) }),
      tfl.layers.batchNormalization({}),
      tfl.layers.activation({ activation: 'relu' }),
      tfl.layers.maxPooling2d({ poolSize: 2, strides: 2 }),
      tfl.layers.conv2d({ filters: 3, kernelSize: 2, strides: 2, activation: 'relu', kernelInitializer: tfl.initializers.glorotNormal({ seed: 2 }) }),
      tfl.layers.flatten(),
      tfl.layers.dense({ units: 3, kernelInitializer: tfl.initializers.glorotNormal({ seed: 3 }) }),
    ],
  });
}

function step(model: tfl.Sequential, opt: tf.Optimizer, x: tf.Tensor, labels: tf.Tensor): number {
  const cost = opt.minimize(() => tf.losses.softmaxCrossEntropy(labels, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar, true)!;
  const loss = cost.dataSync()[0];
  cost.dispose();
  return loss;
}

async function trainOnce(backend: 'cpu' | 'native'): Promise<{ loss: number; weights: Float32Array[]; moving: Float32Array[] }> {
  await selectBackend(backend, { quiet: true });
  const model = tinyNet();
  const opt = tf.train.adam(0.01, 0.9, 0.999, 1e-7);
  const x = randn([6, 9, 9, 2], 1);
  const labels = tf.oneHot(tf.tensor1d([0, 1, 2, 0, 1, 2], 'int32'), 3);
  const loss = step(model, opt, x, labels);
  const weights = model.trainableWeights.map((w) => Float32Array.from(w.read().dataSync()));
  const moving = model.getWeights().map((w) => Float32Array.from(w.dataSync()));
  tf.dispose([x, labels]);
  opt.dispose();
  model.dispose();
  return { loss, weights, moving };
}

test('one tfjs-layers training step (conv, batchnorm, Adam) on native equals cpu', { skip: skipNative }, async () => {
  const cpu = await trainOnce('cpu');
  const native = await trainOnce('native');
  assert.ok(Math.abs(native.loss - cpu.loss) <= 1e-4 * Math.abs(cpu.loss), `loss ${native.loss} vs ${cpu.loss}`);
  cpu.weights.forEach((w, i) => assert.ok(relativeError(native.weights[i], w) <= 1e-4, `updated weight ${i} differs: ${relativeError(native.weights[i], w)}`));
  cpu.moving.forEach((w, i) => assert.ok(relativeError(native.moving[i], w) <= 1e-4, `weight/moving stat ${i} differs`));
  await selectBackend('cpu', { quiet: true });
});

test('numeric gradient check of a tiny conv net on native', { skip: skipNative }, async () => {
  await selectBackend('native', { quiet: true });
  const x = tf.cast(randn([2, 6, 6, 2], 5), 'float32');
  const w1 = randn([3, 3, 2, 3], 6), w2 = randn([2, 2, 3, 2], 7), gamma = tf.add(tf.abs(randn([3], 8)), 0.5), beta = randn([3], 9);
  const f = (ws: tf.Tensor[]) => {
    let h: tf.Tensor = tf.conv2d(x as tf.Tensor4D, ws[0] as tf.Tensor4D, 1, 'same');
    const { mean, variance } = tf.moments(h, [0, 1, 2]);
    h = tf.relu(tf.batchNorm(h, mean, variance, ws[3] as tf.Tensor1D, ws[2] as tf.Tensor1D, 1e-3));
    h = tf.maxPool(h as tf.Tensor4D, 2, 2, 'valid');
    h = tf.conv2d(h as tf.Tensor4D, ws[1] as tf.Tensor4D, 1, 'valid');
    return tf.div(tf.sum(tf.square(h)), 100); // ~O(10): float32 differences stay precise
  };
  const params = [w1, w2, gamma, beta];
  const analytic = tf.grads((...ws: tf.Tensor[]) => f(ws))(params).map((g) => g.dataSync());
  // central differences on copies of the parameters, a few coordinates each (eps small enough
  // not to cross relu / max-pool kinks, large enough for float32)
  const eps = 1e-3;
  for (let p = 0; p < params.length; p++) {
    const base = params[p].dataSync();
    for (const idx of [0, Math.floor(base.length / 2), base.length - 1]) {
      const at = (delta: number) => tf.tidy(() => {
        const v = Float32Array.from(base);
        v[idx] += delta;
        const ws = params.map((t, j) => (j === p ? tf.tensor(v, t.shape) : t));
        return f(ws).dataSync()[0];
      });
      const numeric = (at(eps) - at(-eps)) / (2 * eps);
      const a = analytic[p][idx];
      assert.ok(Math.abs(numeric - a) <= 2e-2 * (1 + Math.abs(a)), `param ${p}[${idx}]: analytic ${a} vs numeric ${numeric}`);
    }
  }
  await selectBackend('cpu', { quiet: true });
});

test('tensor count stays flat over many native training steps', { skip: skipNative }, async () => {
  await selectBackend('native', { quiet: true });
  const model = tinyNet();
  const opt = tf.train.adam(0.01);
  const x = randn([6, 9, 9, 2], 1);
  const labels = tf.oneHot(tf.tensor1d([0, 1, 2, 0, 1, 2], 'int32'), 3);
  step(model, opt, x, labels);
  const before = tf.memory().numTensors;
  let last = Infinity;
  for (let i = 0; i < 20; i++) last = step(model, opt, x, labels);
  assert.equal(tf.memory().numTensors, before);
  assert.ok(Number.isFinite(last));
  tf.dispose([x, labels]);
  opt.dispose();
  model.dispose();
  await selectBackend('cpu', { quiet: true });
});

// The bias gradient comes out of the filter gradient's kernel: the GEMM of few-input filters
// (3x3x2), oneDNN's diff_bias (3x3x16), a sum beside oneDNN's direct kernel for few input
// channels (6x6x1) and the FFT path's column sum (7x7x16 on 24x24).
for (const c of [{ shape: [7, 7, 2], k: 3, filters: 3, pad: 'same' }, { shape: [9, 9, 16], k: 3, filters: 5, pad: 'valid' }, { shape: [12, 12, 1], k: 6, filters: 4, pad: 'valid' }, { shape: [24, 24, 16], k: 7, filters: 16, pad: 'valid' }] as const)
test(`conv + bias with a linear activation (${c.k}x${c.k}x${c.shape[2]}): gradients equal cpu, and the image gradient is never computed`, { skip: skipNative }, async () => {
  const grads = async (backend: 'cpu' | 'native') => {
    await selectBackend(backend, { quiet: true });
    const conv = tfl.layers.conv2d({ inputShape: [...c.shape], filters: c.filters, kernelSize: c.k, padding: c.pad, kernelInitializer: tfl.initializers.glorotNormal({ seed: 4 }), biasInitializer: tfl.initializers.randomNormal({ seed: 5 }) });
    // no batch norm after it here: that would make the bias gradient pure rounding noise
    const model = tfl.sequential({ layers: [conv, tfl.layers.activation({ activation: 'relu' })] });
    const x = randn([4, ...c.shape], 11);
    const loss = () => tf.sum(tf.square(model.apply(x, { training: true }) as tf.Tensor)) as tf.Scalar;
    const profile = await tf.profile(() => { const { grads: g } = tf.variableGrads(loss); tf.dispose(g); });
    const { value, grads: g } = tf.variableGrads(loss);
    const out = { loss: value.dataSync()[0], grads: model.trainableWeights.map((w) => Float32Array.from(g[w.originalName]!.dataSync())), kernels: profile.kernelNames };
    tf.dispose([value, x, ...Object.values(g)]);
    model.dispose();
    return out;
  };
  const cpu = await grads('cpu');
  const native = await grads('native');
  assert.ok(Math.abs(native.loss - cpu.loss) <= 1e-4 * Math.abs(cpu.loss));
  cpu.grads.forEach((w, i) => assert.ok(relativeError(native.grads[i]!, w) <= 1e-4, `gradient ${i}: ${relativeError(native.grads[i]!, w)}`));
  assert.ok(native.kernels.includes('Conv2DBackpropFilter'), native.kernels.join(','));
  assert.ok(!native.kernels.includes('Conv2DBackpropInput'), `the input image's gradient was computed: ${native.kernels.join(',')}`);
  await selectBackend('cpu', { quiet: true });
});

/** Names of the kernels `f` runs (tf.profile cannot run a batch norm's moving-average update). */
function kernelsRun(f: () => void): string[] {
  const engine = tf.engine();
  const runKernel = engine.runKernel;
  const names: string[] = [];
  engine.runKernel = function (this: typeof engine, name: string, ...rest: unknown[]) {
    names.push(name);
    return (runKernel as (...a: unknown[]) => unknown).call(this, name, ...rest);
  } as typeof engine.runKernel;
  try {
    f();
  } finally {
    engine.runKernel = runKernel;
  }
  return names;
}

test('batch norm + ReLU fuse inside a model graph only: same values as cpu, and a batch norm called on its own is not rectified', { skip: skipNative }, async () => {
  const run = async (backend: 'cpu' | 'native') => {
    await selectBackend(backend, { quiet: true });
    const model = tinyNet();
    const x = randn([6, 9, 9, 2], 1);
    const kernels = kernelsRun(() => tf.dispose(model.apply(x, { training: true }) as tf.Tensor));
    const bn = model.layers[1]!;
    const alone = tf.tidy(() => Float32Array.from((bn.apply(randn([6, 9, 9, 4], 3), { training: true }) as tf.Tensor).dataSync()));
    const out = { kernels, alone };
    x.dispose();
    model.dispose();
    return out;
  };
  const cpu = await run('cpu');
  const native = await run('native');
  assert.ok(!native.kernels.includes('Relu'), `the ReLU after the batch norm ran on its own: ${native.kernels.join(',')}`);
  assert.ok(!native.kernels.includes('MaxPool'), `the max-pool after the batch norm + ReLU ran on its own: ${native.kernels.join(',')}`);
  assert.ok(native.alone.some((v) => v < 0), 'a batch norm applied outside its model was rectified');
  assert.ok(relativeError(native.alone, cpu.alone) <= 1e-4);
  await selectBackend('cpu', { quiet: true });
});

test('batch norm + ReLU + 2x2 max-pool fused: loss and every gradient equal cpu (odd map size, negative and positive gammas)', { skip: skipNative }, async () => {
  const grads = async (backend: 'cpu' | 'native') => {
    await selectBackend(backend, { quiet: true });
    const model = tinyNet(); // 9x9 maps: the pool drops the last row and column
    const bn = model.layers[1]!;
    bn.setWeights([randn([4], 21), randn([4], 22), ...bn.getWeights().slice(2)]); // gamma, beta (some gammas negative)
    const x = randn([6, 9, 9, 2], 23);
    const labels = tf.oneHot(tf.tensor1d([0, 1, 2, 0, 1, 2], 'int32'), 3);
    const { value, grads: g } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(labels, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar);
    const out = { loss: value.dataSync()[0]!, grads: model.trainableWeights.map((w) => Float32Array.from(g[w.originalName]!.dataSync())) };
    tf.dispose([value, x, labels, ...Object.values(g)]);
    model.dispose();
    return out;
  };
  const cpu = await grads('cpu');
  const native = await grads('native');
  assert.ok(Math.abs(native.loss - cpu.loss) <= 1e-4 * Math.abs(cpu.loss), `loss ${native.loss} vs ${cpu.loss}`);
  cpu.grads.forEach((w, i) => assert.ok(relativeError(native.grads[i]!, w) <= 1e-4, `gradient ${i}: ${relativeError(native.grads[i]!, w)}`));
  await selectBackend('cpu', { quiet: true });
});
