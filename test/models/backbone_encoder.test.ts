import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../../src/backend/select.js';
import { BACKBONE_ENCODER, backboneEncoder, poolFeatureMap, validateBackboneConfig, type BackboneEncoderConfig } from '../../src/models/backbone_encoder.js';
import { BACKBONES, PretrainedBackbone } from '../../src/models/pretrained_backbone.js';
import { createMetadata, validateMetadata, type ModelMetadata } from '../../src/models/metadata.js';
import { isBackboneModelDir, isPretrainedOnlyModelDir } from '../../src/models/io.js';
import { loadScorer } from '../../src/inference/load.js';
import { resolveModelDir } from '../../src/cli/options.js';
import { modelFiles, modelFingerprint } from '../../src/service/model.js';
import { Rng } from '../../src/util/random.js';

const H = 64;
const W = 128;
const CONFIG: BackboneEncoderConfig = { spec: 'centernet-s16', grid: [2, 4], darkOnWhite: true };
let tmp = '';

before(async () => {
  await selectBackend('cpu', { quiet: true });
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'fewshot-backbone-'));
});
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** A stroke of bright "ink" on 0 (the ink canvas's convention), drawn in the left or right half. */
function strokeImage(side: 'left' | 'right', seed: number): Float32Array {
  const rng = new Rng(seed);
  const px = new Float32Array(H * W);
  const x0 = side === 'left' ? 10 : W / 2 + 10;
  for (let t = 0; t < 200; t++) {
    const x = Math.round(x0 + (t / 200) * 40);
    const y = Math.round(H / 2 + 12 * Math.sin(t / 15) + rng.uniform(-1, 1));
    for (let dy = -1; dy <= 1; dy++) px[(y + dy) * W + x] = 1;
  }
  return px;
}

function embed(config: BackboneEncoderConfig, images: Float32Array[]): Float32Array[] {
  const encoder = backboneEncoder(config);
  const flat = new Float32Array(images.length * H * W);
  images.forEach((im, i) => flat.set(im, i * H * W));
  const out = tf.tidy(() => encoder.predict(tf.tensor4d(flat, [images.length, H, W, 1])) as tf.Tensor2D);
  const rows = (out.arraySync() as number[][]).map((r) => Float32Array.from(r));
  out.dispose();
  return rows;
}

const dist2 = (a: Float32Array, b: Float32Array) => a.reduce((s, x, i) => s + (x - b[i]!) ** 2, 0);

test('backbone encoder: grid x channels values per image, unit length, deterministic, no tensor left behind', () => {
  embed(CONFIG, [strokeImage('left', 0)]); // the first call loads the graph's weights (once per process)
  const before = tf.memory().numTensors;
  const [a, b, again] = embed(CONFIG, [strokeImage('left', 1), strokeImage('right', 1), strokeImage('left', 1)]);
  assert.equal(tf.memory().numTensors, before);
  // expanded_conv_9/add has 64 channels at stride 16: a 4x8 map pooled to 2x4 cells.
  assert.equal(a!.length, 2 * 4 * 64);
  for (const e of [a!, b!]) {
    assert.ok(e.every(Number.isFinite));
    assert.ok(Math.abs(Math.hypot(...e) - 1) < 1e-4);
  }
  assert.deepEqual(again, a);
  // The grid keeps where the ink is: the same stroke in the other half is far away.
  assert.ok(dist2(a!, b!) > 0.2, `left vs right stroke: ${dist2(a!, b!)}`);
});

test('backbone encoder: darkOnWhite shows the network 1 - x', () => {
  const im = strokeImage('left', 2);
  const [dark] = embed(CONFIG, [im]);
  const [brightOfInverted] = embed({ ...CONFIG, darkOnWhite: false }, [im.map((v) => 1 - v)]);
  assert.ok(dist2(dark!, brightOfInverted!) < 1e-8);
});

test('backbone encoder: an input too small for the grid is a clear error', () => {
  const encoder = backboneEncoder(CONFIG);
  assert.throws(() => encoder.predict(tf.zeros([1, 16, 16, 1])), /16x16 input gives a 1x1 feature map, fewer cells than the 2x4 grid/);
});

test('backbone config: each bad field is named', () => {
  assert.deepEqual(validateBackboneConfig(CONFIG, 'x'), CONFIG);
  assert.throws(() => validateBackboneConfig({ ...CONFIG, spec: 'resnet' }, 'f.json'), /f\.json: 'backbone' spec must be one of .*centernet-s16.*got "resnet"/);
  assert.throws(() => validateBackboneConfig({ ...CONFIG, grid: [2, 0] }, 'f.json'), /grid must be \[rows, columns\]/);
  assert.throws(() => validateBackboneConfig({ spec: 'centernet-s16', grid: [2, 4] }, 'f.json'), /darkOnWhite must be true or false/);
  assert.throws(() => validateBackboneConfig(null, 'f.json'), /must be an object/);
});

function backboneMeta(over: Partial<ModelMetadata> = {}): ModelMetadata {
  return createMetadata({
    method: 'pretrained',
    encoder: BACKBONE_ENCODER,
    inputShape: [H, W, 1],
    embeddingDim: 512,
    preprocess: { height: H, width: W, channels: 1, invert: true, ink: { threshold: 'otsu', centre: 'mass' } },
    score: 'negative-distance',
    distance: 'sqeuclidean',
    backbone: CONFIG,
    ...over,
  });
}

test('metadata: encoder "backbone" and the backbone field come together', () => {
  const { backbone: _, ...without } = backboneMeta();
  assert.throws(() => validateMetadata(without, 'f.json'), /'backbone' is required with encoder 'backbone', and only with it/);
  assert.throws(() => validateMetadata({ ...backboneMeta(), encoder: 'conv4' }, 'f.json'), /'backbone' is required with encoder 'backbone'/);
});

test('a backbone model folder is fewshot.json alone: loads, embeds like the encoder, is accepted by the CLI and the service', async () => {
  const dir = path.join(tmp, 'model');
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, 'fewshot.json'), JSON.stringify(backboneMeta()));
  assert.ok(isBackboneModelDir(dir) && isPretrainedOnlyModelDir(dir));
  assert.equal(resolveModelDir(dir), dir);
  assert.deepEqual(modelFiles(dir), ['fewshot.json']);
  // The fingerprint (gallery identity) changes with the backbone settings.
  const id = modelFingerprint(dir);
  const other = path.join(tmp, 'model-grid');
  fs.mkdirSync(other);
  fs.writeFileSync(path.join(other, 'fewshot.json'), JSON.stringify(backboneMeta({ backbone: { ...CONFIG, grid: [1, 1] } })));
  assert.notEqual(modelFingerprint(other), id);

  const scorer = await loadScorer(dir);
  const im = strokeImage('right', 3);
  const pixels = Uint8Array.from(im, (v) => Math.round(v * 255));
  const before = tf.memory().numTensors;
  const [viaScorer] = scorer.embed([pixels]);
  assert.equal(tf.memory().numTensors, before);
  const [direct] = embed(CONFIG, [im]);
  assert.ok(dist2(viaScorer!, direct!) < 1e-8);
  const sims = scorer.similarity(viaScorer!, [viaScorer!, embed(CONFIG, [strokeImage('left', 3)])[0]!]);
  assert.ok(Math.abs(sims[0]!) < 1e-6 && sims[1]! < sims[0]!);

  // fewshot.json whose embeddingDim disagrees with its backbone settings is refused at load.
  await assert.rejects(loadScorer(other), /model-grid\/fewshot\.json: its backbone and 64x128x1 inputs give 64-d embeddings, but embeddingDim says 512/);
});

test('a cached intermediate node fed back gives the same features; fine-tuned weights move them; poolFeatureMap with epsilon has finite gradients at 0', () => {
  const backbone = new PretrainedBackbone(BACKBONES['centernet-s16']!);
  const crops = tf.tidy(() => tf.tile(tf.sub(1, tf.tensor4d(strokeImage('left', 3), [1, H, W, 1])), [1, 1, 1, 3])) as tf.Tensor4D;
  const node = 'tower_0/MobilenetV3/expanded_conv_7/add';
  const direct = backbone.features(crops);
  const prefix = backbone.intermediate(crops, node);
  const fed = backbone.featuresFrom({ [node]: prefix });
  assert.deepEqual(fed.shape, direct.shape);
  assert.deepEqual(Array.from(fed.dataSync()), Array.from(direct.dataSync()));
  const [w] = backbone.fineTune(['tower_0/MobilenetV3/expanded_conv_9/project/']);
  assert.ok(w);
  const before = tf.memory().numTensors;
  const grads = tf.variableGrads(() => tf.sum(poolFeatureMap(backbone.featuresFrom({ [node]: prefix }), [2, 4], 1e-8)) as tf.Scalar, Object.values(backbone.tunedWeights));
  assert.ok(Object.values(grads.grads).every((g) => g.dataSync().every(Number.isFinite)), 'gradients are finite');
  tf.dispose([grads.value, ...Object.values(grads.grads)]);
  assert.equal(tf.memory().numTensors, before);
  w.assign(tf.mul(w, 1.5));
  const moved = backbone.featuresFrom({ [node]: prefix });
  assert.notDeepEqual(Array.from(moved.dataSync()), Array.from(direct.dataSync()));
  // epsilon 0 is the shipped encoder's pooling, bit for bit
  const encoder = backboneEncoder(CONFIG);
  const shipped = encoder.predict(tf.tensor4d(strokeImage('left', 3), [1, H, W, 1])) as tf.Tensor;
  assert.deepEqual(Array.from(shipped.dataSync()), Array.from(poolFeatureMap(direct, [2, 4]).dataSync()));
  assert.throws(() => poolFeatureMap(tf.zeros([1, 1, 3, 2]), [2, 4]), /1x3 feature map has fewer cells than the 2x4 grid/);
  backbone.dispose();
  tf.dispose([crops, direct, prefix, fed, moved, shipped]);
});
