/**
 * Triplet training (Schroff et al. 2015): with a miner, m-per-class batches whose triplets are
 * mined online (batch-all, batch-hard, semi-hard); with miner 'none', random triplets from the
 * TripletSampler. Embeddings are L2-normalised inside the loss, so the model is scored by
 * cosine distance.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { createDistance } from '../../distances/create_distance.js';
import { TripletMarginLoss } from '../../losses/triplet_margin_loss.js';
import { BatchAllMiner } from '../../miners/batch_all_miner.js';
import { BatchHardMiner } from '../../miners/batch_hard_miner.js';
import { SemiHardMiner } from '../../miners/semi_hard_miner.js';
import type { TripletMiner } from '../../miners/triplet_miner.js';
import type { LabelledBatch } from '../../samplers/m_per_class_sampler.js';
import { TripletSampler, type TripletBatch } from '../../samplers/triplet_sampler.js';
import type { Rng } from '../../util/random.js';
import { mPerClassBatch } from './within_group.js';
import { concatIndices, embedTraining, type ImageBatchFn, type MethodOptions, type MinerName, type TrainingMethod } from './method.js';

type Batch = { kind: 'mined'; batch: LabelledBatch } | { kind: 'triplets'; batch: TripletBatch };

export function createMiner(name: MinerName): TripletMiner | null {
  switch (name) {
    case 'batch-all':
      return new BatchAllMiner();
    case 'batch-hard':
      return new BatchHardMiner();
    case 'semi-hard':
      return new SemiHardMiner();
    case 'none':
      return null;
    default:
      throw new Error(`unknown miner '${String(name)}' (use batch-all, batch-hard, semi-hard, none)`);
  }
}

export class TripletMethod implements TrainingMethod<Batch> {
  readonly name = 'triplet' as const;
  readonly score = 'negative-distance' as const;
  /** Training normalises embeddings, so cosine is the matching inference distance. */
  readonly distance = 'cosine' as const;
  readonly settings: Record<string, unknown>;
  private readonly lossFn: TripletMarginLoss;
  private readonly mined: boolean;

  constructor(
    readonly model: tfl.LayersModel,
    private readonly opts: MethodOptions,
  ) {
    const miner = createMiner(opts.miner);
    this.mined = miner !== null;
    const margin = opts.margin ?? 0.2;
    this.lossFn = new TripletMarginLoss({
      distance: createDistance(opts.distance ?? 'sqeuclidean'),
      margin,
      ...(miner ? { miner } : {}),
      normalizeEmbeddings: true,
    });
    if (!this.mined && (opts.withinGroupEpisodes ?? 0) > 0) {
      throw new Error('triplet: --within-group-episodes needs a miner (it shapes m-per-class batches; --miner none draws random triplets)');
    }
    this.settings = this.mined
      ? { miner: opts.miner, classesPerBatch: opts.classesPerBatch, m: opts.m, margin, trainDistance: this.lossFn.distance.name, withinGroupEpisodes: opts.withinGroupEpisodes ?? 0 }
      : { miner: 'none', batchSize: opts.batchSize, margin, trainDistance: this.lossFn.distance.name };
  }

  sample(classIndices: number[][], rng: Rng, classGroups?: readonly string[]): Batch {
    if (this.mined) {
      const { classesPerBatch, m, withinGroupEpisodes } = this.opts;
      return { kind: 'mined', batch: mPerClassBatch(classIndices, rng, { classesPerBatch, m, fraction: withinGroupEpisodes ?? 0 }, classGroups) };
    }
    return { kind: 'triplets', batch: new TripletSampler(classIndices, {}, rng).sample(this.opts.batchSize) };
  }

  loss(b: Batch, images: ImageBatchFn): tf.Scalar {
    if (b.kind === 'mined') {
      return this.lossFn.compute(embedTraining(this.model, images(b.batch.indices)), b.batch.labels);
    }
    const n = b.batch.anchor.length;
    const emb = embedTraining(this.model, images(concatIndices(b.batch.anchor, b.batch.positive, b.batch.negative)));
    const part = (k: number): tf.Tensor2D => tf.slice(emb, [k * n, 0], [n, -1]) as tf.Tensor2D;
    return this.lossFn.computeTriplets(part(0), part(1), part(2));
  }
}
