/** Every native kernel against the tfjs cpu backend on random shapes (1e-4 relative). */
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import assert from 'node:assert/strict';
import { assertSame, randn, skipNative } from './compare.js';
import { loadNativeAddon } from '../../src/backend/native/addon.js';
import { convGeometry, middleBroadcast, NATIVE_KERNELS } from '../../src/backend/native/kernels.js';
import { selectBackend } from '../../src/backend/select.js';
import { batchNormTraining } from '../../src/backend/native/batch_norm_layer.js';

type Pad = 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]];
const convCases: Array<{ n: number; h: number; w: number; ci: number; co: number; k: [number, number]; s: number; pad: Pad; d: number }> = [
  { n: 1, h: 7, w: 9, ci: 3, co: 5, k: [3, 3], s: 1, pad: 'same', d: 1 },
  { n: 4, h: 9, w: 7, ci: 2, co: 6, k: [3, 3], s: 2, pad: 'same', d: 1 },
  { n: 3, h: 10, w: 11, ci: 4, co: 3, k: [3, 2], s: 2, pad: 'valid', d: 1 },
  { n: 2, h: 12, w: 9, ci: 3, co: 4, k: [3, 3], s: 1, pad: 'valid', d: 2 },
  { n: 2, h: 11, w: 11, ci: 1, co: 8, k: [5, 5], s: 1, pad: 'same', d: 2 },
  { n: 5, h: 8, w: 8, ci: 16, co: 16, k: [1, 1], s: 1, pad: 'valid', d: 1 },
  { n: 2, h: 9, w: 8, ci: 3, co: 4, k: [3, 3], s: 2, pad: [[0, 0], [1, 2], [2, 0], [0, 0]], d: 1 },
  { n: 6, h: 20, w: 20, ci: 1, co: 7, k: [10, 10], s: 1, pad: 'valid', d: 1 },
  // Winograd kernels (conv.cc's winogradPays: 3x3, stride 1, >= 32 channels, large maps): same and valid padding
  { n: 2, h: 14, w: 14, ci: 64, co: 64, k: [3, 3], s: 1, pad: 'same', d: 1 },
  { n: 2, h: 24, w: 22, ci: 32, co: 40, k: [3, 3], s: 1, pad: 'valid', d: 1 },
  // One output channel (single_output_conv.cc): the tracker's filter shapes, strides with same
  // padding, dilation with asymmetric explicit padding, a channel count that is not a multiple of its 16 lanes
  { n: 9, h: 16, w: 16, ci: 64, co: 1, k: [6, 6], s: 1, pad: 'valid', d: 1 },
  { n: 3, h: 13, w: 10, ci: 24, co: 1, k: [3, 5], s: 2, pad: 'same', d: 1 },
  { n: 2, h: 12, w: 11, ci: 19, co: 1, k: [3, 3], s: 1, pad: [[0, 0], [2, 1], [0, 3], [0, 0]], d: 2 },
  // FFT convolutions (fft_conv.cc's fftPays: >= 5x5-sized filters, stride 1, >= 16 channels, large maps):
  // valid, same and asymmetric explicit padding, non-square filters, channel counts over one 64-channel block
  { n: 4, h: 24, w: 24, ci: 70, co: 24, k: [7, 7], s: 1, pad: 'valid', d: 1 },
  { n: 5, h: 22, w: 20, ci: 20, co: 16, k: [7, 7], s: 1, pad: 'same', d: 1 },
  { n: 4, h: 26, w: 21, ci: 16, co: 17, k: [5, 7], s: 1, pad: [[0, 0], [1, 3], [2, 0], [0, 0]], d: 1 },
];
const fftCases = convCases.slice(-3);
const singleOutputCases = convCases.filter((c) => c.co === 1);

test('the FFT cases run as FFT convolutions, and so does Koch\'s 7x7 layer; 3x3 and strided ones do not', { skip: skipNative }, () => {
  const algorithm = (x: number[], f: number[], s: number, pad: Pad) =>
    loadNativeAddon().addon!.convAlgorithm(convGeometry(tf.backend_util.computeConv2DInfo(x as [number, number, number, number], f as [number, number, number, number], s, 1, pad)));
  for (const c of fftCases) assert.equal(algorithm([c.n, c.h, c.w, c.ci], [...c.k, c.ci, c.co], c.s, c.pad), 'fft');
  assert.equal(algorithm([64, 48, 48, 64], [7, 7, 64, 128], 1, 'valid'), 'fft');
  assert.equal(algorithm([64, 21, 21, 128], [4, 4, 128, 128], 1, 'valid'), 'direct');
  assert.equal(algorithm([64, 48, 48, 64], [7, 7, 64, 128], 2, 'valid'), 'direct');
  assert.equal(algorithm([1, 48, 48, 64], [7, 7, 64, 128], 1, 'valid'), 'direct'); // one image: the filter's transform would not pay
  assert.equal(algorithm([600, 14, 14, 64], [3, 3, 64, 64], 1, 'same'), 'winograd');
  assert.equal(singleOutputCases.length, 3);
  for (const c of singleOutputCases) assert.equal(algorithm([c.n, c.h, c.w, c.ci], [...c.k, c.ci, c.co], c.s, c.pad), 'single-output');
  assert.equal(algorithm([9, 32, 32, 64], [8, 8, 64, 1], 1, 'valid'), 'single-output'); // the tracker's stride-4 filter
  assert.equal(algorithm([9, 32, 32, 4], [8, 8, 4, 1], 1, 'valid'), 'direct'); // few channels: oneDNN
});

test('FFT convolutions in one-image chunks (the accumulation over chunks of large batches) match cpu', { skip: skipNative }, async () => {
  const addon = loadNativeAddon().addon!;
  addon.setFftChunkImages(1);
  try {
    for (const [i, c] of fftCases.entries()) {
      await assertSame(`chunked fft case ${i}`, () => {
        const x = randn([c.n, c.h, c.w, c.ci], i) as tf.Tensor4D;
        const w = randn([...c.k, c.ci, c.co], 100 + i) as tf.Tensor4D;
        const dy = randn(tf.conv2d(x, w, c.s, c.pad).shape, 300 + i);
        const g = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.s, c.pad), dy)));
        return [tf.conv2d(x, w, c.s, c.pad), ...g([x, w])];
      });
    }
  } finally {
    addon.setFftChunkImages(0);
  }
});

test('Conv2D forward matches cpu (strides, same/valid/explicit padding, dilation, batch 1..6)', { skip: skipNative }, async () => {
  for (const [i, c] of convCases.entries()) {
    await assertSame(`conv2d case ${i}`, () => tf.conv2d(randn([c.n, c.h, c.w, c.ci], i) as tf.Tensor4D, randn([...c.k, c.ci, c.co], 100 + i) as tf.Tensor4D, c.s, c.pad, 'NHWC', c.d));
  }
});

test('FusedConv2D (bias + activation) matches cpu', { skip: skipNative }, async () => {
  const acts = ['relu', 'linear', 'sigmoid', 'elu', 'relu6', 'leakyrelu'] as const;
  for (const [i, c] of convCases.entries()) {
    const activation = acts[i % acts.length];
    await assertSame(`fused conv case ${i} ${activation}`, () =>
      tf.fused.conv2d({ x: randn([c.n, c.h, c.w, c.ci], i) as tf.Tensor4D, filter: randn([...c.k, c.ci, c.co], 100 + i) as tf.Tensor4D, strides: c.s, pad: c.pad, dilations: c.d, bias: randn([c.co], 200 + i), activation, leakyreluAlpha: 0.1 }));
  }
});

test('Conv2DBackpropInput and Conv2DBackpropFilter match cpu', { skip: skipNative }, async () => {
  for (const [i, c] of convCases.entries()) {
    if (c.d !== 1) continue; // tfjs has no gradient for dilated conv2d
    await assertSame(`conv2d gradients case ${i}`, () => {
      const x = randn([c.n, c.h, c.w, c.ci], i) as tf.Tensor4D;
      const w = randn([...c.k, c.ci, c.co], 100 + i) as tf.Tensor4D;
      const y = tf.conv2d(x, w, c.s, c.pad);
      const dy = randn(y.shape, 300 + i);
      const g = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.s, c.pad), dy)));
      return g([x, w]);
    });
  }
});

test('MaxPool, AvgPool and MaxPoolGrad match cpu (ties after relu included)', { skip: skipNative }, async () => {
  const cases: Array<[number[], number, number, 'same' | 'valid']> = [
    [[1, 8, 8, 3], 2, 2, 'valid'], [[4, 9, 7, 5], 3, 2, 'same'], [[3, 7, 7, 2], 2, 1, 'same'], [[2, 11, 10, 64], 2, 2, 'valid'],
    [[2, 10, 9, 4], 3, 3, 'valid'], [[3, 6, 6, 8], 3, 3, 'same'],
  ];
  for (const [i, [shape, k, s, pad]] of cases.entries()) {
    await assertSame(`maxPool ${i}`, () => tf.maxPool(randn(shape, i) as tf.Tensor4D, k, s, pad));
    await assertSame(`avgPool ${i}`, () => tf.avgPool(randn(shape, i) as tf.Tensor4D, k, s, pad));
    await assertSame(`maxPoolGrad ${i}`, () => tf.grad((x: tf.Tensor) => tf.sum(tf.mul(tf.maxPool(tf.relu(x) as tf.Tensor4D, k, s, pad), randn(tf.maxPool(x as tf.Tensor4D, k, s, pad).shape, 50 + i))))(randn(shape, i)));
    // integer inputs: many ties inside a window, which must all route to the first maximum
    await assertSame(`maxPoolGrad ties ${i}`, () => tf.grad((x: tf.Tensor) => tf.sum(tf.mul(tf.maxPool(x as tf.Tensor4D, k, s, pad), randn(tf.maxPool(x as tf.Tensor4D, k, s, pad).shape, 50 + i))))(tf.round(randn(shape, i))));
  }
});

test('BatchMatMul and _FusedMatMul match cpu (transposes, batches, broadcast, bias, activation)', { skip: skipNative }, async () => {
  await assertSame('matmul', () => tf.matMul(randn([7, 13], 1), randn([13, 5], 2)));
  await assertSame('matmul tA tB', () => tf.matMul(randn([13, 7], 1), randn([5, 13], 2), true, true));
  await assertSame('batched', () => tf.matMul(randn([3, 4, 6], 1), randn([3, 6, 5], 2)));
  await assertSame('broadcast batch', () => tf.matMul(randn([3, 4, 6], 1), randn([6, 5], 2)));
  await assertSame('big', () => tf.matMul(randn([64, 300], 1), randn([300, 129], 2), false, false));
  // few rows times a transposed wide matrix (a dense layer's input gradient): run with the operands swapped
  await assertSame('few rows x wide B^T', () => tf.matMul(randn([6, 40], 1), randn([130, 40], 2), false, true));
  await assertSame('few rows x wide B^T, batched', () => tf.matMul(randn([2, 3, 17], 1), randn([2, 50, 17], 2), false, true));
  for (const activation of ['linear', 'relu', 'sigmoid', 'elu', 'relu6', 'leakyrelu'] as const) {
    await assertSame(`fused ${activation}`, () => tf.fused.matMul({ a: randn([9, 11], 3), b: randn([10, 11], 4), transposeB: true, bias: randn([10], 5), activation }));
  }
  await assertSame('matmul gradients', () => tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.square(tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D))))([randn([5, 8], 1), randn([8, 3], 2)]));
});

test('batch norm (inference, fused gradient, tfjs-layers training op) matches cpu', { skip: skipNative }, async () => {
  const x = () => randn([4, 5, 3, 6], 1);
  const p = (seed: number, lo = 0) => tf.add(tf.abs(randn([6], seed)), lo) as tf.Tensor1D;
  await assertSame('batchNorm', () => tf.batchNorm(x(), p(2), p(3, 0.5), p(4), p(5), 1e-3));
  await assertSame('batchNorm grads', () => tf.grads((a: tf.Tensor, m: tf.Tensor, v: tf.Tensor, o: tf.Tensor, s: tf.Tensor) => tf.sum(tf.mul(tf.batchNorm(a, m, v, o, s, 1e-3), randn([4, 5, 3, 6], 9))))([x(), p(2), p(3, 0.5), p(4), p(5)]));
  // moments + batchNorm, exactly as tfjs-layers composes training-mode batch norm
  await assertSame('moments + batchNorm grads', () => tf.grads((a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
    const { mean, variance } = tf.moments(a, [0, 1, 2]);
    return tf.sum(tf.mul(tf.batchNorm(a, mean, variance, b, g, 1e-3), randn([4, 5, 3, 6], 9)));
  })([x(), p(5), p(4)]));
  // fewshot's one-op training batch norm, alone and with the following ReLU fused in (native),
  // against that composition (+ tf.relu) on cpu: outputs, statistics and gradients
  for (const relu of [false, true]) {
    const composed = (a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
      if (tf.getBackend() === 'native') return batchNormTraining(a, g, b, 1e-3, relu);
      const { mean, variance } = tf.moments(a, [0, 1, 2]);
      const y = tf.batchNorm(a, mean, variance, b, g, 1e-3);
      return { y: relu ? tf.relu(y) : y, mean, variance };
    };
    await assertSame(`training batch norm${relu ? ' + relu' : ''}`, () => {
      const { y, mean, variance } = composed(x(), p(5), p(4));
      return [y, mean, variance];
    });
    await assertSame(`training batch norm${relu ? ' + relu' : ''} grads`, () => tf.grads((a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) =>
      tf.sum(tf.mul(composed(a, g, b).y, randn([4, 5, 3, 6], 9))))([x(), p(5), tf.sub(p(4), 0.7)]));
  }
});

test('elementwise, broadcasting, reductions and tile match cpu', { skip: skipNative }, async () => {
  const a = () => randn([3, 4, 5, 6], 1), same = () => randn([3, 4, 5, 6], 2);
  const shapes = [[3, 4, 5, 6], [6], [1, 1, 5, 6], [3, 1, 1, 1], [3, 4, 1, 1], [1], []];
  for (const op of [tf.add, tf.sub, tf.mul, tf.div, tf.maximum, tf.minimum, tf.squaredDifference]) {
    for (const [i, s] of shapes.entries()) {
      await assertSame(`${op.name} [${s}]`, () => op(a(), tf.add(randn(s, 3 + i), 2)));
      await assertSame(`${op.name} swapped [${s}]`, () => op(tf.add(randn(s, 3 + i), 2), same()));
    }
  }
  for (const op of [tf.relu, tf.square, tf.exp, tf.neg, tf.abs, tf.tanh, tf.sigmoid, tf.relu6, tf.elu, tf.step, (t: tf.Tensor) => tf.leakyRelu(t, 0.3)]) {
    await assertSame(`unary ${op.name}`, () => op(tf.mul(a(), 3)));
  }
  for (const op of [tf.sqrt, tf.rsqrt, tf.log, tf.reciprocal]) await assertSame(`unary ${op.name}`, () => op(tf.add(tf.abs(a()), 0.1)));
  for (const op of [tf.sum, tf.mean, tf.max, tf.min]) {
    for (const axes of [[0], [0, 1, 2], [3], [2, 3], [1, 2, 3]]) {
      await assertSame(`${op.name} ${axes}`, () => op(a(), axes));
      await assertSame(`${op.name} ${axes} keepDims`, () => op(a(), axes, true));
    }
    for (const axes of [[1], [1, 2], [2]]) {
      await assertSame(`${op.name} middle axes ${axes}`, () => op(a(), axes));
      await assertSame(`${op.name} middle axes ${axes} keepDims`, () => op(a(), axes, true));
    }
    await assertSame(`${op.name} non-contiguous axes (cpu fallback)`, () => op(a(), [0, 2]));
  }
  await assertSame('broadcastTo middle', () => tf.broadcastTo(randn([3, 1, 1, 6], 1), [3, 4, 5, 6]));
  await assertSame('tile middle', () => tf.tile(randn([3, 1, 6], 1), [1, 5, 1]));
  await assertSame('mean grad, middle axis (prototypes)', () => tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.mean(t, 1), randn([3, 5, 6], 8))))(a()));
  await assertSame('broadcastTo suffix', () => tf.broadcastTo(randn([5, 6], 1), [3, 4, 5, 6]));
  await assertSame('broadcastTo prefix', () => tf.broadcastTo(randn([3, 4, 1, 1], 1), [3, 4, 5, 6]));
  await assertSame('tile (real)', () => tf.tile(randn([2, 3], 1), [2, 2]));
  await assertSame('relu grad', () => tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.relu(t), same())))(a()));
  await assertSame('mean grad', () => tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.mean(t, [0, 1]), randn([5, 6], 7))))(a()));
});

test('squeeze-excite shapes: binary ops broadcast over middle axes and large middle-axis reductions run natively and match cpu', { skip: skipNative }, async () => {
  assert.deepEqual(middleBroadcast([3, 1, 1, 6], [3, 4, 5, 6]), { outer: 3, mid: 20, inner: 6 });
  assert.deepEqual(middleBroadcast([3, 4, 1, 6], [3, 4, 5, 6]), { outer: 12, mid: 5, inner: 6 });
  assert.equal(middleBroadcast([1, 1, 5, 6], [3, 4, 5, 6]), null, 'a suffix, not a middle block');
  assert.equal(middleBroadcast([3, 4, 1, 1], [3, 4, 5, 6]), null, 'a prefix');
  assert.equal(middleBroadcast([3, 1, 5, 1], [3, 4, 5, 6]), null, 'two separate blocks');
  const x = () => randn([3, 4, 5, 6], 1);
  for (const op of [tf.add, tf.sub, tf.mul, tf.div, tf.maximum, tf.minimum, tf.squaredDifference]) {
    for (const [i, s] of [[3, 1, 1, 6], [3, 4, 1, 6]].entries()) {
      await assertSame(`${op.name} middle [${s}]`, () => op(x(), tf.add(randn(s, 3 + i), 2)));
      await assertSame(`${op.name} middle swapped [${s}]`, () => op(tf.add(randn(s, 3 + i), 2), x()));
    }
  }
  // The stride-8 tracker's squeeze-excite: [3 scales, 16, 16, c] maps; more than 65536 values.
  const map = () => randn([3, 16, 16, 300], 4);
  for (const op of [tf.sum, tf.mean, tf.max, tf.min]) {
    await assertSame(`${op.name} large middle axes`, () => op(map(), [1, 2]));
    await assertSame(`${op.name} large middle axes keepDims`, () => op(map(), [1, 2], true));
  }
  await assertSame('squeeze-excite', () => tf.mul(map(), tf.sigmoid(tf.mean(map(), [1, 2], true))));
  // The native kernels take these shapes themselves (null would mean the cpu fallback).
  await selectBackend('native', { quiet: true });
  const backend = tf.backend() as unknown as Parameters<(typeof NATIVE_KERNELS)['Multiply']>[0]['backend'];
  const addon = loadNativeAddon().addon!;
  tf.tidy(() => {
    const [a, b] = [randn([3, 16, 16, 300], 5), randn([3, 1, 1, 300], 6)];
    const product = NATIVE_KERNELS['Multiply']!({ inputs: { a, b }, backend, attrs: {} } as never, addon);
    assert.ok(product, 'Multiply [3,16,16,300] x [3,1,1,300] ran natively');
    const mean = NATIVE_KERNELS['Mean']!({ inputs: { x: a }, backend, attrs: { axis: [1, 2], keepDims: true } } as never, addon);
    assert.ok(mean, 'Mean over [1, 2] of [3,16,16,300] ran natively');
    for (const info of [product, mean]) backend.disposeData((info as tf.TensorInfo).dataId);
  });
  await selectBackend('cpu', { quiet: true });
});

test('fused Adam matches tf.train.adam on cpu', { skip: skipNative }, async () => {
  await assertSame('adam', () => {
    const v = tf.variable(randn([50, 7], 1));
    const opt = tf.train.adam(0.01, 0.9, 0.999, 1e-7);
    for (let i = 0; i < 3; i++) opt.minimize(() => tf.sum(tf.square(tf.sub(v, 1))));
    const out = v.clone();
    opt.dispose();
    v.dispose();
    return out;
  });
});

test('fused Adam updates in place only what nobody else holds', { skip: skipNative }, async () => {
  const { selectBackend } = await import('../../src/backend/select.js');
  await selectBackend('native', { quiet: true });
  const v = tf.variable(randn([20], 1));
  const before = v.clone(); // shares v's storage: the update must not write into it
  const expected = Array.from(before.dataSync());
  const opt = tf.train.adam(0.1);
  opt.minimize(() => tf.sum(tf.square(v)));
  if (Array.from(before.dataSync()).some((x, i) => x !== expected[i])) throw new Error('a clone of the variable changed');
  if (Array.from(v.dataSync()).every((x, i) => x === expected[i])) throw new Error('the variable did not change');
  tf.dispose([v, before]);
  opt.dispose();
  await selectBackend('cpu', { quiet: true });
});

test('recycled output buffers never leak into live tensors or values read by the user', { skip: skipNative }, async () => {
  const { selectBackend } = await import('../../src/backend/select.js');
  await selectBackend('native', { quiet: true });
  const source = tf.relu(randn([4, 1000], 1)); // native output: pooled buffer
  const expected = Array.from(source.dataSync());
  const [a, b] = tf.split(source, 2, 0); // cpu Slice returns views into the pooled buffer
  const read = source.dataSync();
  source.dispose();
  // same-size outputs would reuse the freed buffer if the views were not counted
  const churn = [0, 1, 2].map((i) => tf.relu(randn([4, 1000], 10 + i)));
  const got = [...a.dataSync(), ...b.dataSync()];
  for (let i = 0; i < expected.length; i++) {
    if (got[i] !== expected[i] || read[i] !== expected[i]) throw new Error(`value ${i} changed after its buffer was recycled`);
  }
  tf.dispose([a, b, ...churn]);
  await selectBackend('cpu', { quiet: true });
});

test('DepthwiseConv2dNative and FusedDepthwiseConv2D match cpu (multipliers 1-2, strides, same/valid, dilation, bias + activation)', { skip: skipNative }, async () => {
  const cases: Array<{ n: number; h: number; w: number; c: number; m: number; k: number; s: number; pad: 'same' | 'valid'; d: number }> = [
    { n: 1, h: 19, w: 19, c: 32, m: 1, k: 3, s: 1, pad: 'same', d: 1 },
    { n: 2, h: 10, w: 9, c: 8, m: 1, k: 3, s: 2, pad: 'same', d: 1 },
    { n: 3, h: 9, w: 11, c: 3, m: 2, k: 3, s: 1, pad: 'valid', d: 1 },
    { n: 1, h: 12, w: 12, c: 4, m: 2, k: 3, s: 1, pad: 'same', d: 2 },
    { n: 2, h: 8, w: 8, c: 16, m: 1, k: 5, s: 2, pad: 'valid', d: 1 },
  ];
  for (const [i, c] of cases.entries()) {
    const x = () => randn([c.n, c.h, c.w, c.c], i) as tf.Tensor4D;
    const f = () => randn([c.k, c.k, c.c, c.m], 100 + i) as tf.Tensor4D;
    await assertSame(`depthwise case ${i}`, () => tf.depthwiseConv2d(x(), f(), c.s, c.pad, 'NHWC', c.d));
    await assertSame(`fused depthwise case ${i}`, () =>
      tf.fused.depthwiseConv2d({ x: x(), filter: f(), strides: c.s, pad: c.pad, dilations: c.d, bias: randn([c.c * c.m], 200 + i), activation: 'relu6' }));
  }
  // The shared convolution cases, with the activations a MobileNet uses.
  const acts = ['relu6', 'linear', 'relu'] as const;
  for (const [i, c] of convCases.entries()) {
    if ((c.d !== 1 && c.s !== 1) || typeof c.pad !== 'string') continue; // tfjs: dilation needs stride 1; no explicit pads
    const mult = i % 2 ? 2 : 1;
    const x = () => randn([c.n, c.h, c.w, c.ci], i) as tf.Tensor4D;
    const filter = () => randn([...c.k, c.ci, mult], 100 + i) as tf.Tensor4D;
    await assertSame(`depthwise conv case ${i}`, () => tf.depthwiseConv2d(x(), filter(), c.s, c.pad as 'same' | 'valid', 'NHWC', c.d));
    await assertSame(`fused depthwise conv case ${i}`, () =>
      tf.fused.depthwiseConv2d({ x: x(), filter: filter(), strides: c.s, pad: c.pad as 'same' | 'valid', dilations: c.d, bias: randn([c.ci * mult], 200 + i), activation: acts[i % acts.length] }));
  }
});

test('DepthwiseConv2dNativeBackpropInput and -Filter match cpu (multipliers 1-2, strides, same/valid, plain and fused)', { skip: skipNative }, async () => {
  const cases: Array<{ n: number; h: number; w: number; c: number; m: number; k: number; s: number; pad: 'same' | 'valid' }> = [
    { n: 2, h: 10, w: 20, c: 144, m: 1, k: 3, s: 1, pad: 'same' }, // a MobileNetV3 block at stride 16
    { n: 3, h: 11, w: 9, c: 8, m: 1, k: 5, s: 2, pad: 'same' },
    { n: 2, h: 9, w: 11, c: 3, m: 2, k: 3, s: 1, pad: 'valid' },
    { n: 1, h: 12, w: 13, c: 5, m: 2, k: 3, s: 2, pad: 'valid' },
  ];
  for (const [i, c] of cases.entries()) {
    const x = () => randn([c.n, c.h, c.w, c.c], i) as tf.Tensor4D;
    const f = () => randn([c.k, c.k, c.c, c.m], 100 + i) as tf.Tensor4D;
    const dy = () => randn(tf.depthwiseConv2d(x(), f(), c.s, c.pad).shape, 300 + i);
    await assertSame(`depthwise gradients case ${i}`, () =>
      tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.depthwiseConv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.s, c.pad), dy())))([x(), f()]));
    await assertSame(`fused depthwise gradients case ${i}`, () =>
      tf.grads((a: tf.Tensor, b: tf.Tensor, bias: tf.Tensor) => tf.sum(tf.mul(tf.fused.depthwiseConv2d({ x: a as tf.Tensor4D, filter: b as tf.Tensor4D, strides: c.s, pad: c.pad, bias, activation: 'relu' }), dy())))([x(), f(), randn([c.c * c.m], 200 + i)]));
  }
});

test('ClipByValue(0, 6) and Slice match cpu (float and int32, 1-4 dims, whole and partial rows)', { skip: skipNative }, async () => {
  await assertSame('clip relu6', () => tf.clipByValue(tf.mul(randn([3, 7, 5], 1), 5), 0, 6));
  await assertSame('clip other range', () => tf.clipByValue(randn([3, 7, 5], 2), -0.5, 0.5));
  const x = randn([4, 9, 7, 3], 3);
  await assertSame('slice 4d', () => tf.slice(x, [1, 2, 3, 0], [2, 5, 3, 3]));
  await assertSame('slice 4d partial channels', () => tf.slice(x, [0, 0, 1, 1], [4, 9, 5, 2]));
  await assertSame('slice 3d rows', () => tf.slice(tf.reshape(x, [36, 7, 3]), [5, 0, 0], [10, 7, 3]));
  await assertSame('slice 1d', () => tf.slice(tf.reshape(x, [-1]), [17], [40]));
  await assertSame('slice int32 image crop', () => tf.cast(tf.slice(tf.cast(tf.mul(x, 50), 'int32'), [1, 1, 1, 0], [2, 4, 4, 3]), 'float32'));
});

test('PadV2, Concat, Transpose and ResizeBilinear match cpu exactly (float, int32 and bool; face-api\'s shapes and odd ones)', { skip: skipNative }, async () => {
  const x = randn([2, 5, 7, 3], 4);
  const xi = () => tf.cast(tf.mul(x, 40), 'int32');
  await assertSame('pad spatial (tiny detector)', () => tf.pad(x, [[0, 0], [1, 1], [1, 1], [0, 0]]), 0);
  await assertSame('pad every axis, constant', () => tf.pad(x, [[1, 0], [0, 2], [3, 1], [1, 2]], -2.5), 0);
  await assertSame('pad last axis only', () => tf.pad(tf.reshape(x, [10, 21]), [[0, 0], [2, 5]]), 0);
  await assertSame('pad 1d', () => tf.pad(tf.reshape(x, [-1]), [[3, 4]], 1), 0);
  await assertSame('pad int32', () => tf.pad(xi(), [[0, 0], [2, 1], [0, 3], [0, 0]], 7), 0);
  await assertSame('concat spatial (pad to square)', () => tf.concat([x, tf.fill([2, 5, 2, 3], 0.5), x], 2), 0);
  await assertSame('concat axis 0 and last', () => [tf.concat([x, x], 0), tf.concat([x, tf.ones([2, 5, 7, 1])], 3)], 0);
  await assertSame('concat with an empty input', () => tf.concat([tf.zeros([2, 0, 7, 3]), x, x], 1), 0);
  await assertSame('concat int32 and bool', () => [tf.concat([xi(), xi()], 1), tf.cast(tf.concat([tf.greater(x, 0), tf.less(x, 0)], 3), 'int32')], 0);
  await assertSame('transpose 2d (SSD output layer)', () => tf.transpose(tf.reshape(x, [70, 3])), 0);
  await assertSame('transpose 4d', () => [tf.transpose(x, [0, 3, 1, 2]), tf.transpose(x, [3, 2, 1, 0]), tf.transpose(x, [0, 2, 1, 3])], 0);
  await assertSame('transpose int32', () => tf.transpose(xi(), [2, 0, 3, 1]), 0);
  const img = tf.mul(tf.abs(randn([2, 13, 17, 3], 5)), 60);
  for (const [alignCorners, halfPixelCenters] of [[false, false], [true, false], [false, true]] as const) {
    await assertSame(`resize down ${alignCorners} ${halfPixelCenters}`, () => tf.image.resizeBilinear(img as tf.Tensor4D, [7, 5], alignCorners, halfPixelCenters), 1e-6);
    await assertSame(`resize up ${alignCorners} ${halfPixelCenters}`, () => tf.image.resizeBilinear(img as tf.Tensor4D, [40, 33], alignCorners, halfPixelCenters), 1e-6);
  }
  await assertSame('resize int32 image to 1x1 and to a square', () => [
    tf.image.resizeBilinear(tf.cast(img, 'int32') as tf.Tensor4D, [1, 1]), tf.image.resizeBilinear(tf.cast(img, 'int32') as tf.Tensor4D, [32, 32])], 1e-6);
});
