/**
 * A distance between embeddings. Every implementation is a true "smaller = more similar"
 * distance so that losses, miners and classifiers can treat them interchangeably
 * (pytorch-metric-learning style: a loss takes a distance).
 */
import type * as tf from '@tensorflow/tfjs-core';

export type DistanceName = 'euclidean' | 'sqeuclidean' | 'cosine';

export interface Distance {
  readonly name: DistanceName;
  /** [n, d] x [m, d] -> [n, m]: distance between every row of x and every row of y. */
  pairwise(x: tf.Tensor2D, y: tf.Tensor2D): tf.Tensor2D;
  /** [n, d] x [n, d] -> [n]: distance between row i of x and row i of y. */
  paired(x: tf.Tensor2D, y: tf.Tensor2D): tf.Tensor1D;
}

/** Throws a clear error when two embedding batches cannot be compared. */
export function checkEmbeddingShapes(x: tf.Tensor, y: tf.Tensor, paired: boolean, who: string): void {
  if (x.rank !== 2 || y.rank !== 2) {
    throw new Error(`${who}: embeddings must be rank-2 [n, dim], got shapes [${x.shape}] and [${y.shape}]`);
  }
  if (x.shape[1] !== y.shape[1]) {
    throw new Error(`${who}: embedding sizes differ: [${x.shape}] vs [${y.shape}]`);
  }
  if (paired && x.shape[0] !== y.shape[0]) {
    throw new Error(`${who}: paired distance needs the same number of rows, got [${x.shape}] and [${y.shape}]`);
  }
}
