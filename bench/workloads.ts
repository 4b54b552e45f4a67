/**
 * The three benchmark workloads, built from plain tfjs-layers so that bench/torch_speed.py can
 * mirror them layer for layer: a Conv-4 prototypical episode step, a Koch et al. (2015) pair
 * step, and Conv-4 inference.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

export const EPISODE = { way: 60, shot: 5, query: 5 } as const; // 600 images of 28x28
export const PAIR_BATCH = 32; // pairs of 105x105
export const INFERENCE_BATCH = 256;

export function conv4(): tfl.Sequential {
  const layers: tfl.layers.Layer[] = [];
  for (let i = 0; i < 4; i++) {
    layers.push(
      tfl.layers.conv2d({ filters: 64, kernelSize: 3, padding: 'same', ...(i === 0 ? { inputShape: [28, 28, 1] } : {}), kernelInitializer: tfl.initializers.heNormal({ seed: i + 1 }) }),
      tfl.layers.batchNormalization({}),
      tfl.layers.activation({ activation: 'relu' }),
      tfl.layers.maxPooling2d({ poolSize: 2, strides: 2 }),
    );
  }
  layers.push(tfl.layers.flatten());
  return tfl.sequential({ layers });
}

export function koch(): tfl.Sequential {
  const conv = (filters: number, kernelSize: number, first = false) =>
    tfl.layers.conv2d({ filters, kernelSize, activation: 'relu', ...(first ? { inputShape: [105, 105, 1] } : {}), kernelInitializer: tfl.initializers.heNormal({ seed: filters + kernelSize }) });
  const pool = () => tfl.layers.maxPooling2d({ poolSize: 2, strides: 2 });
  return tfl.sequential({
    layers: [conv(64, 10, true), pool(), conv(128, 7), pool(), conv(128, 4), pool(), conv(256, 4), tfl.layers.flatten(),
      tfl.layers.dense({ units: 4096, activation: 'sigmoid', kernelInitializer: tfl.initializers.glorotUniform({ seed: 9 }) })],
  });
}

/** Seeded inputs (values in [0,1)) so every engine sees comparable data. */
export function uniform(shape: number[], seed: number): tf.Tensor {
  return tf.randomUniform(shape, 0, 1, 'float32', seed);
}

/** One prototypical-network training step on a 600-image episode; returns the loss. */
export function conv4EpisodeStep(model: tfl.Sequential, optimizer: tf.Optimizer, images: tf.Tensor4D, episode: { way: number; shot: number; query: number } = EPISODE): number {
  const { way, shot, query } = episode;
  const labels = tf.oneHot(tf.tensor1d(Array.from({ length: way * query }, (_, i) => Math.floor(i / query)), 'int32'), way);
  const cost = optimizer.minimize(() => {
    const emb = model.apply(images, { training: true }) as tf.Tensor2D; // [way*(shot+query), 64]
    const support = tf.slice(emb, [0, 0], [way * shot, -1]);
    const queries = tf.slice(emb, [way * shot, 0], [way * query, -1]);
    const prototypes = tf.mean(tf.reshape(support, [way, shot, -1]), 1) as tf.Tensor2D;
    // squared euclidean distance via |q|^2 - 2 q.p + |p|^2
    const d = tf.add(tf.sub(tf.sum(tf.square(queries), 1, true), tf.mul(2, tf.matMul(queries, prototypes, false, true))), tf.transpose(tf.sum(tf.square(prototypes), 1, true)));
    return tf.losses.softmaxCrossEntropy(labels, tf.neg(d)) as tf.Scalar;
  }, true)!;
  const loss = cost.dataSync()[0];
  tf.dispose([cost, labels]);
  return loss;
}

/** One Siamese pair step: shared encoder, |a-b|, dense-1 sigmoid, binary cross-entropy. */
export function kochPairStep(encoder: tfl.Sequential, head: tfl.layers.Layer, optimizer: tf.Optimizer, left: tf.Tensor4D, right: tf.Tensor4D, same: tf.Tensor2D): number {
  const cost = optimizer.minimize(() => {
    const both = encoder.apply(tf.concat([left, right], 0), { training: true }) as tf.Tensor2D;
    const [a, b] = tf.split(both, 2, 0);
    const logits = head.apply(tf.abs(tf.sub(a, b))) as tf.Tensor2D;
    return tf.losses.sigmoidCrossEntropy(same, logits) as tf.Scalar;
  }, true)!;
  const loss = cost.dataSync()[0];
  cost.dispose();
  return loss;
}

/**
 * A training workload ready to time: model, optimizer and seeded inputs built once; `step` runs
 * one training step. batchScale shrinks the batch (the slow backends' reduced runs).
 */
export function trainingStep(workload: 'conv4-episode' | 'koch-pair', batchScale = 1): { step: () => void; items: number } {
  if (workload === 'conv4-episode') {
    const way = Math.max(2, Math.round(EPISODE.way * batchScale));
    const items = way * (EPISODE.shot + EPISODE.query);
    const model = conv4();
    const opt = tf.train.adam(1e-3, 0.9, 0.999, 1e-7);
    const x = uniform([items, 28, 28, 1], 1) as tf.Tensor4D;
    return { items, step: () => { conv4EpisodeStep(model, opt, x, { ...EPISODE, way }); } };
  }
  const items = Math.max(1, Math.round(PAIR_BATCH * batchScale));
  const enc = koch();
  const head = tfl.layers.dense({ units: 1 });
  const opt = tf.train.adam(1e-4, 0.9, 0.999, 1e-7);
  const left = uniform([items, 105, 105, 1], 1) as tf.Tensor4D;
  const right = uniform([items, 105, 105, 1], 2) as tf.Tensor4D;
  const same = tf.tensor2d(Array.from({ length: items }, (_, i) => i % 2), [items, 1]);
  return { items, step: () => { kochPairStep(enc, head, opt, left, right, same); } };
}
