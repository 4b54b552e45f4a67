/**
 * Every training method lowers its loss on a tiny synthetic problem: 4 classes of 12x12 images,
 * each a fixed random pattern plus noise, the 'tiny' encoder, Adam, a few dozen steps. The loss is
 * measured on fixed held-back batches before and after training.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { selectBackend } from '../../src/backend/select.js';
import { Rng } from '../../src/util/random.js';
import { createEncoder } from '../../src/models/encoders/registry.js';
import { buildPairModel, pairLogitModel } from '../../src/models/siamese.js';
import { PairSampler } from '../../src/samplers/pair_sampler.js';
import { MPerClassSampler } from '../../src/samplers/m_per_class_sampler.js';
import { EpisodeSampler } from '../../src/samplers/episode_sampler.js';
import { PairBinaryCrossEntropyLoss } from '../../src/losses/pair_binary_cross_entropy_loss.js';
import { ContrastiveLoss } from '../../src/losses/contrastive_loss.js';
import { TripletMarginLoss } from '../../src/losses/triplet_margin_loss.js';
import { PrototypicalLoss } from '../../src/losses/prototypical_loss.js';
import { BatchAllMiner } from '../../src/miners/batch_all_miner.js';
import { BatchHardMiner } from '../../src/miners/batch_hard_miner.js';
import { SemiHardMiner } from '../../src/miners/semi_hard_miner.js';
import type { TripletMiner } from '../../src/miners/triplet_miner.js';

const SIZE = 12;
const CLASSES = 4;
const PER_CLASS = 8;
const STEPS = 30;

/** Synthetic dataset: pixels [N, 12, 12, 1] in [0, 1] and classIndices. */
function makeData(seed: number): { images: Float32Array; classIndices: number[][] } {
  const rng = new Rng(seed);
  const templates = Array.from({ length: CLASSES }, () => Float32Array.from({ length: SIZE * SIZE }, () => (rng.next() < 0.4 ? 1 : 0)));
  const images = new Float32Array(CLASSES * PER_CLASS * SIZE * SIZE);
  const classIndices: number[][] = [];
  for (let c = 0; c < CLASSES; c++) {
    classIndices.push([]);
    for (let k = 0; k < PER_CLASS; k++) {
      const i = c * PER_CLASS + k;
      classIndices[c]!.push(i);
      for (let p = 0; p < SIZE * SIZE; p++) {
        images[i * SIZE * SIZE + p] = Math.min(1, Math.max(0, templates[c]![p]! + 0.35 * rng.normal()));
      }
    }
  }
  return { images, classIndices };
}

const data = makeData(11);

function batch(indices: ArrayLike<number>): tf.Tensor4D {
  const n = indices.length;
  const out = new Float32Array(n * SIZE * SIZE);
  for (let j = 0; j < n; j++) out.set(data.images.subarray(indices[j]! * SIZE * SIZE, (indices[j]! + 1) * SIZE * SIZE), j * SIZE * SIZE);
  return tf.tensor4d(out, [n, SIZE, SIZE, 1]);
}

function tinyEncoder(): tfl.LayersModel {
  return createEncoder('tiny', { inputShape: [SIZE, SIZE, 1], embeddingDim: 8, seed: 3 });
}

const trainable = (m: tfl.LayersModel) => m.trainableWeights.map((w) => w.read() as tf.Variable);

/** Trains with `step(i)` as the loss; returns the evaluation loss before and after. */
function trainAndMeasure(model: tfl.LayersModel, evaluate: () => tf.Scalar, step: (i: number) => tf.Scalar, lr = 0.01) {
  const optimizer = tf.train.adam(lr);
  const vars = trainable(model);
  const read = () => {
    const t = evaluate();
    const v = t.dataSync()[0]!;
    t.dispose();
    return v;
  };
  const before = read();
  const tensorsBefore = tf.memory().numTensors;
  let warm = 0;
  for (let i = 0; i < STEPS; i++) {
    optimizer.minimize(() => step(i), false, vars);
    if (i === 0) warm = tf.memory().numTensors; // Adam creates its slots on the first step
  }
  const after = read();
  assert.equal(tf.memory().numTensors, warm, 'tensors leaked during training steps');
  assert.ok(warm >= tensorsBefore);
  optimizer.dispose();
  return { before, after };
}

before(async () => {
  await selectBackend('cpu', { quiet: true });
});

test('pair model + binary cross-entropy: loss decreases', () => {
  const pair = buildPairModel(tinyEncoder(), { seed: 3 });
  const logits = pairLogitModel(pair);
  const loss = new PairBinaryCrossEntropyLoss();
  const evalPairs = new PairSampler(data.classIndices, {}, 99).sample(32);
  const sampler = new PairSampler(data.classIndices, {}, 1);
  const pairLoss = (p: { left: Int32Array; right: Int32Array; same: Float32Array }, training: boolean) =>
    tf.tidy(() => loss.compute(logits.apply([batch(p.left), batch(p.right)], { training }) as tf.Tensor, p.same));
  const { before, after } = trainAndMeasure(pair, () => pairLoss(evalPairs, false), () => pairLoss(sampler.sample(16), true));
  assert.ok(after < 0.8 * before, `pair BCE did not decrease enough: ${before} -> ${after}`);
});

test('contrastive loss on sampled pairs: loss decreases', () => {
  const encoder = tinyEncoder();
  const loss = new ContrastiveLoss({ margin: 1 });
  const evalPairs = new PairSampler(data.classIndices, {}, 99).sample(32);
  const sampler = new PairSampler(data.classIndices, {}, 2);
  const pairLoss = (p: { left: Int32Array; right: Int32Array; same: Float32Array }) =>
    tf.tidy(() => {
      const e = encoder.apply(tf.concat([batch(p.left), batch(p.right)]), { training: true }) as tf.Tensor2D;
      const n = p.left.length;
      return loss.computePairs(tf.slice(e, [0, 0], [n, -1]), tf.slice(e, [n, 0], [n, -1]), p.same);
    });
  const { before, after } = trainAndMeasure(encoder, () => pairLoss(evalPairs), () => pairLoss(sampler.sample(16)));
  assert.ok(after < 0.8 * before, `contrastive loss did not decrease enough: ${before} -> ${after}`);
});

test('contrastive loss on labelled batches: loss decreases', () => {
  const encoder = tinyEncoder();
  const loss = new ContrastiveLoss({ margin: 1 });
  const all = Int32Array.from({ length: CLASSES * PER_CLASS }, (_, i) => i);
  const allLabels = Int32Array.from(all, (i) => Math.floor(i / PER_CLASS));
  const sampler = new MPerClassSampler(data.classIndices, { classesPerBatch: 4, m: 4 }, 3);
  const batchLoss = (idx: Int32Array, labels: Int32Array) =>
    tf.tidy(() => loss.compute(encoder.apply(batch(idx), { training: true }) as tf.Tensor2D, labels));
  const { before, after } = trainAndMeasure(encoder, () => batchLoss(all, allLabels), () => {
    const b = sampler.sample();
    return batchLoss(b.indices, b.labels);
  });
  assert.ok(after < 0.8 * before, `batch contrastive loss did not decrease enough: ${before} -> ${after}`);
});

const miners: [string, () => TripletMiner][] = [
  ['batch-all', () => new BatchAllMiner()],
  ['batch-hard', () => new BatchHardMiner()],
  ['semi-hard', () => new SemiHardMiner()],
];

for (const [name, miner] of miners) {
  test(`triplet loss with ${name} mining: loss decreases`, () => {
    const encoder = tinyEncoder();
    const loss = new TripletMarginLoss({ margin: 1, miner: miner() });
    const all = Int32Array.from({ length: CLASSES * PER_CLASS }, (_, i) => i);
    const allLabels = Int32Array.from(all, (i) => Math.floor(i / PER_CLASS));
    const sampler = new MPerClassSampler(data.classIndices, { classesPerBatch: 4, m: 4 }, 4);
    const batchLoss = (idx: Int32Array, labels: Int32Array) =>
      tf.tidy(() => loss.compute(encoder.apply(batch(idx), { training: true }) as tf.Tensor2D, labels));
    const { before, after } = trainAndMeasure(encoder, () => batchLoss(all, allLabels), () => {
      const b = sampler.sample();
      return batchLoss(b.indices, b.labels);
    });
    assert.ok(after < 0.8 * before, `triplet (${name}) loss did not decrease enough: ${before} -> ${after}`);
  });
}

test('triplet loss on sampled triplets (no mining): loss decreases', async () => {
  const { TripletSampler } = await import('../../src/samplers/triplet_sampler.js');
  const encoder = tinyEncoder();
  const loss = new TripletMarginLoss({ margin: 1 });
  const evalTriplets = new TripletSampler(data.classIndices, {}, 99).sample(32);
  const sampler = new TripletSampler(data.classIndices, {}, 5);
  const tripletLoss = (t: { anchor: Int32Array; positive: Int32Array; negative: Int32Array }) =>
    tf.tidy(() => {
      const n = t.anchor.length;
      const e = encoder.apply(tf.concat([batch(t.anchor), batch(t.positive), batch(t.negative)]), { training: true }) as tf.Tensor2D;
      return loss.computeTriplets(tf.slice(e, [0, 0], [n, -1]), tf.slice(e, [n, 0], [n, -1]), tf.slice(e, [2 * n, 0], [n, -1]));
    });
  const { before, after } = trainAndMeasure(encoder, () => tripletLoss(evalTriplets), () => tripletLoss(sampler.sample(16)));
  assert.ok(after < 0.8 * before, `triplet loss on sampled triplets did not decrease enough: ${before} -> ${after}`);
});

test('prototypical loss on episodes: loss decreases', () => {
  const encoder = tinyEncoder();
  const loss = new PrototypicalLoss();
  const evalSampler = new EpisodeSampler(data.classIndices, { way: 4, shot: 2, query: 3 }, 99);
  const evalEpisodes = [evalSampler.sample(), evalSampler.sample(), evalSampler.sample()];
  const sampler = new EpisodeSampler(data.classIndices, { way: 4, shot: 2, query: 3 }, 6);
  const episodeLoss = (ep: ReturnType<EpisodeSampler['sample']>) =>
    tf.tidy(() => {
      const ns = ep.support.length;
      const e = encoder.apply(tf.concat([batch(ep.support), batch(ep.query)]), { training: true }) as tf.Tensor2D;
      return loss.compute(tf.slice(e, [0, 0], [ns, -1]), ep.supportLabels, tf.slice(e, [ns, 0], [-1, -1]), ep.queryLabels, 4);
    });
  const evaluate = () => tf.tidy(() => tf.div(tf.addN(evalEpisodes.map(episodeLoss)), evalEpisodes.length) as tf.Scalar);
  const { before, after } = trainAndMeasure(encoder, evaluate, () => episodeLoss(sampler.sample()));
  assert.ok(after < 0.8 * before, `prototypical loss did not decrease enough: ${before} -> ${after}`);
});
