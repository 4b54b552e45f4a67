/**
 * Contrastive loss (Hadsell, Chopra & LeCun 2006): pull same-class pairs together, push
 * different-class pairs at least `margin` apart:
 *   y * d^2 + (1 - y) * max(0, margin - d)^2
 * with d the given distance (euclidean by default).
 *
 * Two entry points: `computePairs` for sampled pairs (PairSampler; mean over pairs by default)
 * and `compute` for a labelled batch, using every pair of the batch through label masks; there
 * positives are far fewer than negatives, so as in pytorch-metric-learning the positive and the
 * negative terms are reduced separately and added.
 */
import * as tf from '@tensorflow/tfjs-core';
import './register_gradients.js';
import type { Distance } from '../distances/distance.js';
import { EuclideanDistance } from '../distances/euclidean_distance.js';
import type { Reducer } from '../reducers/reducer.js';
import { MeanReducer } from '../reducers/mean_reducer.js';
import { checkBatch, labelMasks, toLabelTensor, toTargetTensor, type LabelsLike } from '../miners/label_masks.js';

export interface ContrastiveLossOptions {
  distance?: Distance;
  margin?: number;
  reducer?: Reducer;
}

/** Contrastive loss (Hadsell et al. 2006): pulls same-class pairs together, pushes different-class pairs past the margin. */
export class ContrastiveLoss {
  readonly name = 'contrastive';
  readonly distance: Distance;
  readonly margin: number;
  readonly reducer: Reducer;

  constructor(opts: ContrastiveLossOptions = {}) {
    this.distance = opts.distance ?? new EuclideanDistance();
    this.margin = opts.margin ?? 1.0;
    this.reducer = opts.reducer ?? new MeanReducer();
    if (!(this.margin > 0)) throw new Error(`contrastive loss: margin must be > 0, got ${this.margin}`);
  }

  /** Loss on explicit pairs: row i of `left` against row i of `right`, `same[i]` 1 or 0. */
  computePairs(left: tf.Tensor2D, right: tf.Tensor2D, same: tf.Tensor | Float32Array | readonly number[]): tf.Scalar {
    return tf.tidy(() => {
      const y = toTargetTensor(same);
      if (y.shape[0] !== left.shape[0]) throw new Error(`contrastive loss: ${left.shape[0]} pairs but ${y.shape[0]} targets`);
      const { pull, push } = this.terms(this.distance.paired(left, right));
      return this.reducer.reduce(tf.add(tf.mul(y, pull), tf.mul(tf.sub(1, y), push)));
    });
  }

  /** Loss over every pair of a labelled batch (e.g. from MPerClassSampler). */
  compute(embeddings: tf.Tensor2D, labels: LabelsLike): tf.Scalar {
    return tf.tidy(() => {
      const y = toLabelTensor(labels, 'contrastive loss');
      checkBatch(embeddings, y, 'contrastive loss');
      const { positive, negative } = labelMasks(y);
      const { pull, push } = this.terms(this.distance.pairwise(embeddings, embeddings));
      return tf.add(this.reducer.reduce(pull, positive), this.reducer.reduce(push, negative)) as tf.Scalar;
    });
  }

  /** The same-class term d^2 and the different-class term max(0, margin - d)^2 of distances d. */
  private terms(d: tf.Tensor): { pull: tf.Tensor; push: tf.Tensor } {
    return { pull: tf.square(d), push: tf.square(tf.relu(tf.sub(this.margin, d))) };
  }
}
