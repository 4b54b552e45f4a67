/**
 * Triplet margin loss (Schroff et al. 2015, FaceNet):
 *   max(0, d(a, p) - d(a, n) + margin)
 * by default on squared L2 distances, as the developers' guide asks. With a miner it works on a
 * labelled batch (batch-all by default; batch-hard, semi-hard); `computeTriplets` takes explicit
 * triplets (TripletSampler).
 *
 * `normalizeEmbeddings` puts embeddings on the unit sphere first, as FaceNet does; then the margin
 * has a fixed scale and squared L2 = 2 * cosine distance, so a model trained this way should be
 * scored with the cosine distance.
 */
import * as tf from '@tensorflow/tfjs-core';
import './register_gradients.js';
import type { Distance } from '../distances/distance.js';
import { SqEuclideanDistance } from '../distances/sq_euclidean_distance.js';
import { l2Normalize } from '../distances/cosine_distance.js';
import type { Reducer } from '../reducers/reducer.js';
import { AvgNonZeroReducer } from '../reducers/avg_non_zero_reducer.js';
import type { TripletMiner } from '../miners/triplet_miner.js';
import { BatchAllMiner } from '../miners/batch_all_miner.js';
import { checkBatch, toLabelTensor, type LabelsLike } from '../miners/label_masks.js';

export interface TripletMarginLossOptions {
  distance?: Distance;
  margin?: number;
  miner?: TripletMiner;
  reducer?: Reducer;
  normalizeEmbeddings?: boolean;
}

/** Triplet margin loss: the anchor closer to its positive than to its negative by the margin, on mined or sampled triplets. */
export class TripletMarginLoss {
  readonly name = 'triplet';
  readonly distance: Distance;
  readonly margin: number;
  readonly miner: TripletMiner;
  readonly reducer: Reducer;
  readonly normalizeEmbeddings: boolean;

  constructor(opts: TripletMarginLossOptions = {}) {
    this.distance = opts.distance ?? new SqEuclideanDistance();
    this.margin = opts.margin ?? 0.2;
    this.miner = opts.miner ?? new BatchAllMiner();
    this.reducer = opts.reducer ?? new AvgNonZeroReducer();
    this.normalizeEmbeddings = opts.normalizeEmbeddings ?? false;
    if (!(this.margin >= 0)) throw new Error(`triplet loss: margin must be >= 0, got ${this.margin}`);
  }

  /** Loss on a labelled batch, triplets chosen by the miner. */
  compute(embeddings: tf.Tensor2D, labels: LabelsLike): tf.Scalar {
    return tf.tidy(() => {
      const y = toLabelTensor(labels, 'triplet loss');
      checkBatch(embeddings, y, 'triplet loss');
      const e = this.prepare(embeddings);
      const mined = this.miner.mine(this.distance.pairwise(e, e), y, this.margin);
      const terms = tf.relu(tf.add(tf.sub(mined.anchorPositive, mined.anchorNegative), this.margin));
      const mask = tf.mul(mined.mask, tf.onesLike(terms)); // broadcast the mask to the terms' shape
      return this.reducer.reduce(tf.mul(terms, mask), mask);
    });
  }

  /** Loss on explicit triplets: row i of anchor / positive / negative form one triplet. */
  computeTriplets(anchor: tf.Tensor2D, positive: tf.Tensor2D, negative: tf.Tensor2D): tf.Scalar {
    return tf.tidy(() => {
      const a = this.prepare(anchor);
      const ap = this.distance.paired(a, this.prepare(positive));
      const an = this.distance.paired(a, this.prepare(negative));
      return this.reducer.reduce(tf.relu(tf.add(tf.sub(ap, an), this.margin)));
    });
  }

  private prepare(embeddings: tf.Tensor2D): tf.Tensor2D {
    return this.normalizeEmbeddings ? l2Normalize(embeddings) : embeddings;
  }
}
