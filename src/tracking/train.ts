/**
 * Training loop for the SiamFC model: each step draws a batch of pairs from the configured sources
 * (a fraction from video, the rest from stills), builds SiamFC labels around each pair's target
 * and minimises the balanced logistic loss with Adam, decaying the learning rate geometrically.
 * A network with fine-tuned backbone weights (`fineTuned`) trains them with a second Adam at
 * `rateFactor` x the head's rate, on the same gradients.
 */
import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '../util/random.js';
import { balancedLogisticLoss } from './loss.js';
import { scorePairs, type SiamNetwork } from './siam_network.js';
import { scoreLabels, type PairGeometry, type StillPairSource, type TrainingPair, type VideoPairSource } from './training_pairs.js';

export interface TrainOptions {
  steps: number;
  batchSize: number;
  learningRate: number;
  finalLearningRate: number;
  /** Fraction of each batch from video pairs (needs a video source), the rest from stills. */
  videoFraction: number;
  /** Positive label radius in search-crop pixels (SiamFC: 16 at 255 px, i.e. 2 cells). */
  labelRadius: number;
  seed: number;
  logEvery?: number;
  onLog?(step: number, loss: number): void;
}

export interface TrainResult {
  losses: number[];
  seconds: number;
  pairs: { video: number; stills: number };
}

export function trainSiamFC(
  network: SiamNetwork,
  sources: { video?: VideoPairSource; stills?: StillPairSource },
  geom: PairGeometry,
  opts: TrainOptions,
): TrainResult {
  if (opts.videoFraction > 0 && !sources.video) throw new Error('trainSiamFC: videoFraction > 0 but no video source');
  if (opts.videoFraction < 1 && !sources.stills) throw new Error('trainSiamFC: videoFraction < 1 but no stills source');
  const rng = new Rng(opts.seed);
  const optimizer = tf.train.adam(opts.learningRate);
  const slow = network.fineTuned;
  const slowOptimizer = slow ? tf.train.adam(opts.learningRate * slow.rateFactor) : undefined;
  const slowNames = new Set(Object.values(slow?.variables ?? {}).map((v) => v.name));
  const decay = Math.pow(opts.finalLearningRate / opts.learningRate, 1 / Math.max(1, opts.steps - 1));
  const { exemplarSize: ez, searchSize: sz, scoreSize: s } = geom;
  const losses: number[] = [];
  const counts = { video: 0, stills: 0 };
  const t0 = performance.now();
  let window = 0;
  for (let step = 0; step < opts.steps; step++) {
    const pairs: TrainingPair[] = [];
    for (let b = 0; b < opts.batchSize; b++) {
      const fromVideo = rng.next() < opts.videoFraction;
      pairs.push(fromVideo ? sources.video!.sample(rng) : sources.stills!.sample(rng));
      counts[fromVideo ? 'video' : 'stills']++;
    }
    const B = pairs.length;
    const zData = new Float32Array(B * ez * ez * 3);
    const xData = new Float32Array(B * sz * sz * 3);
    const yData = new Float32Array(B * s * s);
    const wData = new Float32Array(B * s * s);
    pairs.forEach((p, i) => {
      zData.set(p.exemplar, i * ez * ez * 3);
      xData.set(p.search, i * sz * sz * 3);
      const { labels, weights } = scoreLabels(geom, p.targetX, p.targetY, opts.labelRadius);
      yData.set(labels, i * s * s);
      wData.set(weights, i * s * s);
    });
    // Adam keeps its learning rate in a plain field; setting it is how schedules are done in TF.js.
    const rate = opts.learningRate * decay ** step;
    (optimizer as unknown as { learningRate: number }).learningRate = rate;
    if (slowOptimizer) (slowOptimizer as unknown as { learningRate: number }).learningRate = rate * slow!.rateFactor;
    const loss = tf.tidy(() => {
      const z = tf.tensor4d(zData, [B, ez, ez, 3]);
      const x = tf.tensor4d(xData, [B, sz, sz, 3]);
      const y = tf.tensor4d(yData, [B, s, s, 1]);
      const w = tf.tensor4d(wData, [B, s, s, 1]);
      const f = () => balancedLogisticLoss(scorePairs(network, z, x), y, w);
      if (!slowOptimizer) return optimizer.minimize(f, true)!;
      // Gradients for every trainable variable f depends on, split between the two optimizers.
      const { value, grads } = tf.variableGrads(f);
      const part = (tuned: boolean) => Object.entries(grads).filter(([name]) => slowNames.has(name) === tuned).map(([name, tensor]) => ({ name, tensor }));
      optimizer.applyGradients(part(false));
      slowOptimizer.applyGradients(part(true));
      return value;
    });
    const v = loss.dataSync()[0]!;
    loss.dispose();
    if (!Number.isFinite(v)) throw new Error(`trainSiamFC: loss became ${v} at step ${step}`);
    losses.push(v);
    window += v;
    const every = opts.logEvery ?? 25;
    if ((step + 1) % every === 0) {
      opts.onLog?.(step + 1, window / every);
      window = 0;
    }
  }
  optimizer.dispose();
  slowOptimizer?.dispose();
  return { losses, seconds: (performance.now() - t0) / 1000, pairs: counts };
}
