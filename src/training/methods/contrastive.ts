/**
 * Contrastive training (Hadsell et al. 2006) on m-per-class batches: every same-class pair of
 * the batch is pulled together, every different-class pair pushed beyond the margin.
 */
import type * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { createDistance } from '../../distances/create_distance.js';
import type { DistanceName } from '../../distances/distance.js';
import { ContrastiveLoss } from '../../losses/contrastive_loss.js';
import type { LabelledBatch } from '../../samplers/m_per_class_sampler.js';
import type { Rng } from '../../util/random.js';
import { mPerClassBatch } from './within_group.js';
import { embedTraining, type ImageBatchFn, type MethodOptions, type TrainingMethod } from './method.js';

export class ContrastiveMethod implements TrainingMethod<LabelledBatch> {
  readonly name = 'contrastive' as const;
  readonly score = 'negative-distance' as const;
  readonly distance: DistanceName;
  readonly settings: Record<string, unknown>;
  private readonly lossFn: ContrastiveLoss;

  constructor(
    readonly model: tfl.LayersModel,
    private readonly opts: MethodOptions,
  ) {
    this.distance = opts.distance ?? 'euclidean';
    const margin = opts.margin ?? 1.0;
    this.lossFn = new ContrastiveLoss({ distance: createDistance(this.distance), margin });
    this.settings = { classesPerBatch: opts.classesPerBatch, m: opts.m, margin, distance: this.distance, withinGroupEpisodes: opts.withinGroupEpisodes ?? 0 };
  }

  sample(classIndices: number[][], rng: Rng, classGroups?: readonly string[]): LabelledBatch {
    const { classesPerBatch, m, withinGroupEpisodes } = this.opts;
    return mPerClassBatch(classIndices, rng, { classesPerBatch, m, fraction: withinGroupEpisodes ?? 0 }, classGroups);
  }

  loss(batch: LabelledBatch, images: ImageBatchFn): tf.Scalar {
    return this.lossFn.compute(embedTraining(this.model, images(batch.indices)), batch.labels);
  }
}
