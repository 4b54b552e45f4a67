import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { selectBackend } from '../../src/backend/select.js';
import { createEncoder, registerEncoder, encoderNames, defaultInputShape, embeddingDimOf } from '../../src/models/encoders/registry.js';
import { buildPairModel, splitPairModel, pairLogitModel } from '../../src/models/siamese.js';
import { AbsDifference } from '../../src/models/layers/abs_difference.js';

before(async () => {
  await selectBackend('cpu', { quiet: true });
});

function convSpec(model: tfl.LayersModel): string[] {
  return model.layers
    .filter((l) => l.getClassName() === 'Conv2D')
    .map((l) => {
      const c = l.getConfig();
      return `${c.filters}@${(c.kernelSize as number[]).join('x')}/${c.padding}/${c.activation}`;
    });
}

test('koch encoder follows Koch et al. 2015 (smaller embedding allowed)', () => {
  assert.deepEqual(defaultInputShape('koch'), [105, 105, 1]);
  const enc = createEncoder('koch', { embeddingDim: 32 });
  assert.equal(enc.name, 'encoder');
  assert.deepEqual(enc.inputs[0]!.shape, [null, 105, 105, 1]);
  assert.deepEqual(convSpec(enc), ['64@10x10/valid/relu', '128@7x7/valid/relu', '128@4x4/valid/relu', '256@4x4/valid/relu']);
  assert.equal(enc.layers.filter((l) => l.getClassName() === 'MaxPooling2D').length, 3);
  const dense = enc.layers.at(-1)!;
  assert.equal(dense.getClassName(), 'Dense');
  assert.equal(dense.getConfig().activation, 'sigmoid');
  // 105 -conv10-> 96 -pool-> 48 -conv7-> 42 -pool-> 21 -conv4-> 18 -pool-> 9 -conv4-> 6: 6*6*256 = 9216 flattened
  assert.deepEqual(enc.layers.find((l) => l.getClassName() === 'Flatten')!.outputShape, [null, 9216]);
  assert.equal(embeddingDimOf(enc), 32);
  enc.dispose();
});

test('wider conv4 encoders: 96, 128 or 160 filters per layer; at 56x56 a 3x3xfilters embedding', () => {
  const wide = createEncoder('conv4-128', { inputShape: [56, 56, 1] });
  assert.deepEqual(wide.outputs[0]!.shape, [null, 3 * 3 * 128]);
  assert.equal(wide.getLayer('conv4_conv2').getWeights()[0]!.shape.join('x'), '3x3x128x128');
  assert.deepEqual(createEncoder('conv4-96').outputs[0]!.shape, [null, 96]);
  assert.deepEqual(createEncoder('conv4-160').outputs[0]!.shape, [null, 160]);
  assert.deepEqual(defaultInputShape('conv4-128'), [28, 28, 1]);
});

test('resnet7: stem and three residual blocks (64, 128, 256) with pooling between, global average pooling -> 256-d; resnet7-96 1.5x as wide', () => {
  assert.deepEqual(defaultInputShape('resnet7'), [28, 28, 1]);
  const enc = createEncoder('resnet7');
  const adds = enc.layers.filter((l) => l.getClassName() === 'Add');
  assert.equal(adds.length, 3);
  // block 1 keeps 64 channels (identity shortcut); blocks 2 and 3 widen (1x1 projection + batch norm)
  assert.deepEqual(enc.layers.filter((l) => l.name.endsWith('_shortcut_conv')).map((l) => l.getWeights()[0]!.shape.join('x')), ['1x1x64x128', '1x1x128x256']);
  assert.deepEqual(enc.getLayer('resnet_block3_add').outputShape, [null, 3, 3, 256]);
  assert.equal(embeddingDimOf(enc), 256);
  assert.equal(embeddingDimOf(createEncoder('resnet7', { embeddingDim: 64 })), 64);
  // the same multiply-adds as Conv-4-128 to within 15% (34.6M against 38.3M per 28x28 image)
  const macs = (model: tfl.LayersModel) => model.layers.filter((l) => l.getClassName() === 'Conv2D').reduce((sum, l) => {
    const [, h, w] = l.outputShape as number[];
    return sum + h! * w! * l.getWeights()[0]!.size;
  }, 0);
  const ratio = macs(enc) / macs(createEncoder('conv4-128'));
  assert.ok(ratio > 0.85 && ratio < 1, `multiply-adds ratio ${ratio}`);
  const y = tf.tidy(() => enc.predict(tf.zeros([2, 28, 28, 1])) as tf.Tensor);
  assert.deepEqual(y.shape, [2, 256]);
  y.dispose();
  // the wider variant: 1.5x the filters everywhere, so 2.25x the multiply-adds (a little less: the
  // stem's single input channel does not widen) and a 384-d embedding
  const wide = createEncoder('resnet7-96');
  assert.deepEqual(wide.layers.filter((l) => l.name.endsWith('_shortcut_conv')).map((l) => l.getWeights()[0]!.shape.join('x')), ['1x1x96x192', '1x1x192x384']);
  assert.equal(embeddingDimOf(wide), 384);
  const wideRatio = macs(wide) / macs(enc);
  assert.ok(wideRatio > 2.2 && wideRatio < 2.25, `multiply-adds ratio ${wideRatio}`);
  wide.dispose();
  enc.dispose();
});

test('conv4 encoder: 4 x {conv3x3-64 same, batchnorm, relu, maxpool2} -> 64-d at 28x28', () => {
  assert.deepEqual(defaultInputShape('conv4'), [28, 28, 1]);
  const enc = createEncoder('conv4');
  assert.deepEqual(convSpec(enc), Array(4).fill('64@3x3/same/linear'));
  assert.deepEqual(
    enc.layers.map((l) => l.getClassName()).filter((n) => n !== 'InputLayer'),
    [...Array(4).fill(['Conv2D', 'BatchNormalization', 'Activation', 'MaxPooling2D']).flat(), 'Flatten'],
  );
  assert.equal(embeddingDimOf(enc), 64);
  const y = tf.tidy(() => enc.predict(tf.zeros([2, 28, 28, 1])) as tf.Tensor);
  assert.deepEqual(y.shape, [2, 64]);
  y.dispose();
  enc.dispose();
  // another size / embedding: a projection layer
  const big = createEncoder('conv4', { inputShape: [105, 105, 1], embeddingDim: 128 });
  assert.equal(embeddingDimOf(big), 128);
  big.dispose();
});

test('encoders are deterministic by seed', () => {
  const weights = (seed: number) => {
    const enc = createEncoder('tiny', { seed });
    const w = enc.getWeights().map((t) => Array.from(t.dataSync()));
    enc.dispose();
    return w;
  };
  assert.deepEqual(weights(7), weights(7));
  assert.notDeepEqual(weights(7), weights(8));
});

test('registry: custom encoders and clear errors', () => {
  registerEncoder(
    'mlp-test',
    ({ inputShape, embeddingDim }) =>
      tfl.sequential({ name: 'encoder', layers: [tfl.layers.flatten({ inputShape }), tfl.layers.dense({ units: embeddingDim ?? 4 })] }),
    { inputShape: [4, 4, 1] },
  );
  assert.ok(encoderNames().includes('mlp-test'));
  assert.equal(embeddingDimOf(createEncoder('mlp-test', { embeddingDim: 3 })), 3);
  assert.throws(() => createEncoder('resnet99'), /unknown encoder 'resnet99' \(available: koch, conv4, conv4-96, conv4-128, conv4-160, resnet7, resnet7-96, tiny/);
  assert.throws(() => createEncoder('koch', { inputShape: [28, 28, 1] }), /encoder 'koch': input 28x28x1 is too small/);
  assert.throws(() => createEncoder('conv4', { embeddingDim: 0 }), /embeddingDim must be a positive integer/);
  assert.throws(() => createEncoder('conv4', { inputShape: [28, 28] as unknown as [number, number, number] }), /inputShape must be/);
  registerEncoder('unnamed-test', () => tfl.sequential({ layers: [tfl.layers.flatten({ inputShape: [2, 2, 1] })] }), { inputShape: [2, 2, 1] });
  assert.throws(() => createEncoder('unnamed-test'), /must name its model 'encoder'/);
});

test('pair model: shared encoder, |e1 - e2|, dense, sigmoid; split parts agree with it', () => {
  const enc = createEncoder('tiny', { embeddingDim: 6 });
  const pair = buildPairModel(enc, { hidden: [5] });
  assert.equal(pair.inputs.length, 2);
  assert.ok(pair.layers.some((l) => l instanceof AbsDifference));
  assert.equal(pair.layers.filter((l) => l.name === 'encoder').length, 1, 'the encoder must be shared, not duplicated');
  const x1 = tf.randomUniform([3, 28, 28, 1], 0, 1, 'float32', 1);
  const x2 = tf.randomUniform([3, 28, 28, 1], 0, 1, 'float32', 2);
  const p = (pair.predict([x1, x2]) as tf.Tensor).dataSync();
  // swapping the inputs gives the same probability: |a - b| = |b - a|
  const swapped = (pair.predict([x2, x1]) as tf.Tensor).dataSync();
  assert.deepEqual(Array.from(p), Array.from(swapped));
  const logits = (pairLogitModel(pair).predict([x1, x2]) as tf.Tensor).dataSync();
  logits.forEach((z, i) => assert.ok(Math.abs(1 / (1 + Math.exp(-z)) - p[i]!) < 1e-6));
  const { encoder, head, logitHead } = splitPairModel(pair);
  assert.equal(encoder, enc);
  const diff = tf.abs(tf.sub(encoder.predict(x1) as tf.Tensor, encoder.predict(x2) as tf.Tensor));
  const viaHead = (head.predict(diff) as tf.Tensor).dataSync();
  const viaLogit = (logitHead.predict(diff) as tf.Tensor).dataSync();
  p.forEach((v, i) => {
    assert.ok(Math.abs(v - viaHead[i]!) < 1e-6, `head ${viaHead[i]} vs pair model ${v}`);
    assert.ok(Math.abs(logits[i]! - viaLogit[i]!) < 1e-5);
  });
  // the split shares weights: changing the pair model's head changes the split head
  const logitLayer = pair.getLayer('logit');
  logitLayer.setWeights(logitLayer.getWeights().map((w) => tf.zerosLike(w)));
  assert.ok(Math.abs((head.predict(diff) as tf.Tensor).dataSync()[0]! - 0.5) < 1e-6);
  assert.throws(() => splitPairModel(enc), /no nested 'encoder' model/);
  assert.throws(() => buildPairModel(enc, { hidden: [0] }), /positive integers/);
});
