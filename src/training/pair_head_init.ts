/**
 * Starting a pair model from a metric-learning encoder (`--init-from` an embedding model): a
 * randomly initialised head (|e1 - e2| -> dense -> sigmoid) sends random gradients into the
 * pre-trained encoder and wrecks its features before the head has learned anything. Instead the
 * head starts as the L1 distance the encoder already separates classes with: every weight
 * -a, bias b, with (a, b) the logistic regression of "same class" on the L1 distance of sampled
 * training pairs. Pair training then refines the per-dimension weights and the encoder together.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { toBatchTensor } from '../data/batch.js';
import type { ImageDataset } from '../data/dataset.js';
import { LOGIT_LAYER } from '../models/siamese.js';
import { PairSampler } from '../samplers/pair_sampler.js';
import { Rng } from '../util/random.js';

export interface L1HeadFit {
  /** logit = bias - scale * L1 distance */
  scale: number;
  bias: number;
  pairs: number;
}

/** Logistic regression of y on x with two parameters (logit = b - a x), by Newton's method. */
export function fitLogisticOnDistance(x: readonly number[], y: readonly number[]): { scale: number; bias: number } {
  if (x.length !== y.length || x.length < 2) throw new Error('fitLogisticOnDistance: needs two equally long arrays of at least 2 values');
  // Standardise x so the Newton steps are well conditioned, then map back.
  const mean = x.reduce((s, v) => s + v, 0) / x.length;
  const sd = Math.sqrt(x.reduce((s, v) => s + (v - mean) ** 2, 0) / x.length) || 1;
  let w0 = 0;
  let w1 = 0;
  for (let iter = 0; iter < 50; iter++) {
    let g0 = 0, g1 = 0, h00 = 1e-6, h01 = 0, h11 = 1e-6;
    for (let i = 0; i < x.length; i++) {
      const z = (x[i]! - mean) / sd;
      const p = 1 / (1 + Math.exp(-(w0 + w1 * z)));
      const r = p - y[i]!;
      const s = p * (1 - p);
      g0 += r;
      g1 += r * z;
      h00 += s;
      h01 += s * z;
      h11 += s * z * z;
    }
    const det = h00 * h11 - h01 * h01;
    const d0 = (h11 * g0 - h01 * g1) / det;
    const d1 = (h00 * g1 - h01 * g0) / det;
    w0 -= d0;
    w1 -= d1;
    if (Math.abs(d0) + Math.abs(d1) < 1e-9) break;
  }
  // logit = w0 + w1 (x - mean) / sd = (w0 - w1 mean / sd) - (-w1 / sd) x
  return { scale: -w1 / sd, bias: w0 - (w1 * mean) / sd };
}

/** Sets the pair model's logit layer to -scale * |e1 - e2| + bias fitted on `pairs` training pairs. */
export function initPairHeadFromL1(pairModel: tfl.LayersModel, encoder: tfl.LayersModel, train: ImageDataset, seed: number, pairs = 2000): L1HeadFit {
  const batch = new PairSampler(train.indicesByClass(), {}, new Rng(seed ^ 0x5eed)).sample(pairs);
  const distances: number[] = [];
  const chunk = 256;
  for (let s = 0; s < pairs; s += chunk) {
    const n = Math.min(chunk, pairs - s);
    const d = tf.tidy(() => {
      const left = encoder.predict(toBatchTensor(train, batch.left.subarray(s, s + n))) as tf.Tensor;
      const right = encoder.predict(toBatchTensor(train, batch.right.subarray(s, s + n))) as tf.Tensor;
      return tf.sum(tf.abs(tf.sub(tf.reshape(left, [n, -1]), tf.reshape(right, [n, -1]))), 1);
    });
    distances.push(...(d.dataSync() as Float32Array));
    d.dispose();
  }
  const { scale, bias } = fitLogisticOnDistance(distances, Array.from(batch.same));
  if (!(scale > 0) || !Number.isFinite(bias)) throw new Error(`the encoder's L1 distance does not separate same from different pairs (scale ${scale})`);
  const logit = pairModel.getLayer(LOGIT_LAYER);
  const [kernel] = logit.getWeights();
  const values = [tf.fill(kernel!.shape, -scale), tf.tensor1d([bias])];
  logit.setWeights(values);
  tf.dispose(values);
  return { scale, bias, pairs };
}
