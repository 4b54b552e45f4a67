/**
 * The losses and miners are written with masks, matMul and element-wise ops so that they train on
 * every backend; the wasm backend in particular has no UnsortedSegmentSum (gather's gradient) and
 * no gradient-less comparison may sit on the path to the loss. This runs every loss's gradient on
 * wasm and checks it against the cpu backend.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { PairBinaryCrossEntropyLoss } from '../../src/losses/pair_binary_cross_entropy_loss.js';
import { ContrastiveLoss } from '../../src/losses/contrastive_loss.js';
import { TripletMarginLoss } from '../../src/losses/triplet_margin_loss.js';
import { PrototypicalLoss } from '../../src/losses/prototypical_loss.js';
import { BatchHardMiner } from '../../src/miners/batch_hard_miner.js';
import { SemiHardMiner } from '../../src/miners/semi_hard_miner.js';
import { createDistance } from '../../src/distances/create_distance.js';
import { assertClose } from './helpers.js';

const POINTS = [[0.1, 0.3], [0.2, -0.4], [1.1, 0.5], [0.9, 0.2], [-1, 0], [-1.2, 0.3]];
const LABELS = [0, 0, 1, 1, 2, 2];

const LOSSES: [string, (x: tf.Tensor2D) => tf.Scalar][] = [
  ['pair-bce', (x) => new PairBinaryCrossEntropyLoss().compute(tf.sum(x, 1), [1, 0, 1, 0, 1, 0])],
  ['contrastive euclidean', (x) => new ContrastiveLoss().compute(x, LABELS)],
  ['contrastive cosine', (x) => new ContrastiveLoss({ distance: createDistance('cosine'), margin: 0.5 }).compute(x, LABELS)],
  ['triplet batch-all', (x) => new TripletMarginLoss({ margin: 1 }).compute(x, LABELS)],
  ['triplet batch-hard', (x) => new TripletMarginLoss({ margin: 1, miner: new BatchHardMiner() }).compute(x, LABELS)],
  ['triplet semi-hard', (x) => new TripletMarginLoss({ margin: 1, miner: new SemiHardMiner(), normalizeEmbeddings: true }).compute(x, LABELS)],
  ['protonet', (x) => new PrototypicalLoss().compute(tf.slice(x, [0, 0], [3, 2]), [0, 1, 2], tf.slice(x, [3, 0], [3, 2]), [0, 1, 2])],
];

async function lossesAndGradients(backend: string): Promise<Map<string, number[]>> {
  assert.ok(await tf.setBackend(backend), `backend ${backend} failed to start`);
  await tf.ready();
  const out = new Map<string, number[]>();
  const x = tf.variable(tf.tensor2d(POINTS));
  for (const [name, f] of LOSSES) {
    const { value, grads } = tf.variableGrads(() => f(x), [x]);
    out.set(name, [value.dataSync()[0]!, ...Array.from(grads[x.name]!.dataSync())]);
    tf.dispose([value, ...Object.values(grads)]);
  }
  x.dispose();
  return out;
}

test('every loss differentiates on the wasm backend and agrees with cpu', async () => {
  const cpu = await lossesAndGradients('cpu');
  const wasm = await lossesAndGradients('wasm');
  for (const [name] of LOSSES) {
    assertClose(wasm.get(name)!, cpu.get(name)!, 1e-4, `${name} (loss, gradient...) wasm vs cpu`);
  }
});
