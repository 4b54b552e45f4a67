/** Euclidean (L2) distance ||x - y||. */
import * as tf from '@tensorflow/tfjs-core';
import type { Distance } from './distance.js';
import { SqEuclideanDistance } from './sq_euclidean_distance.js';

/**
 * Added inside the square root: d/ds sqrt(s) is infinite at s = 0 (identical embeddings, e.g. an
 * anchor compared with itself), which would turn the whole gradient into NaN.
 */
export const EUCLIDEAN_EPSILON = 1e-12;

/** Euclidean (L2) distance between embeddings, with a gradient that stays finite at zero distance. */
export class EuclideanDistance implements Distance {
  readonly name = 'euclidean' as const;
  private readonly squared = new SqEuclideanDistance();

  constructor(private readonly epsilon = EUCLIDEAN_EPSILON) {}

  pairwise(x: tf.Tensor2D, y: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => tf.sqrt(tf.add(this.squared.pairwise(x, y), this.epsilon)) as tf.Tensor2D);
  }

  paired(x: tf.Tensor2D, y: tf.Tensor2D): tf.Tensor1D {
    return tf.tidy(() => tf.sqrt(tf.add(this.squared.paired(x, y), this.epsilon)) as tf.Tensor1D);
  }
}
