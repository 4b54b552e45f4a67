/**
 * Siamese pair training (Koch et al. 2015): balanced same / different pairs, the pair model's
 * logit |f(x1) - f(x2)| -> dense, binary cross-entropy. Both images of every pair go through
 * the shared encoder in one call (one batch-norm batch), then the head scores the differences.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { PairBinaryCrossEntropyLoss } from '../../losses/pair_binary_cross_entropy_loss.js';
import { buildPairModel, splitPairModel } from '../../models/siamese.js';
import { PairSampler, type PairBatch } from '../../samplers/pair_sampler.js';
import type { Rng } from '../../util/random.js';
import { classesForBatch } from './within_group.js';
import { concatIndices, embedTraining, type ImageBatchFn, type MethodOptions, type TrainingMethod } from './method.js';

export class PairMethod implements TrainingMethod<PairBatch> {
  readonly name = 'pair' as const;
  readonly score = 'pair-probability' as const;
  readonly model: tfl.LayersModel;
  readonly settings: Record<string, unknown>;
  private readonly encoder: tfl.LayersModel;
  private readonly logitHead: tfl.LayersModel;
  private readonly lossFn = new PairBinaryCrossEntropyLoss();

  constructor(
    encoder: tfl.LayersModel,
    private readonly opts: MethodOptions,
  ) {
    this.model = buildPairModel(encoder);
    const split = splitPairModel(this.model);
    this.encoder = split.encoder;
    this.logitHead = split.logitHead;
    this.settings = { batchSize: opts.batchSize, withinGroupEpisodes: opts.withinGroupEpisodes ?? 0 };
  }

  sample(classIndices: number[][], rng: Rng, classGroups?: readonly string[]): PairBatch {
    // Within-group batches: both the same and the different pairs come from one alphabet.
    const classes = classesForBatch(classIndices, rng, this.opts.withinGroupEpisodes ?? 0, 1, classGroups);
    return new PairSampler(classes, {}, rng).sample(this.opts.batchSize);
  }

  loss(batch: PairBatch, images: ImageBatchFn): tf.Scalar {
    const n = batch.left.length;
    const emb = embedTraining(this.encoder, images(concatIndices(batch.left, batch.right)), !this.opts.frozenEncoder);
    const diff = tf.abs(tf.sub(tf.slice(emb, [0, 0], [n, -1]), tf.slice(emb, [n, 0], [n, -1])));
    const logits = this.logitHead.apply(diff, { training: true }) as tf.Tensor;
    return this.lossFn.compute(logits, batch.same);
  }
}
