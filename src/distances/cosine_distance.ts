/** Cosine distance 1 - cos(x, y), in [0, 2]. */
import * as tf from '@tensorflow/tfjs-core';
import { checkEmbeddingShapes, type Distance } from './distance.js';

/** Keeps the norm of an all-zero embedding (e.g. a dead ReLU output) from dividing by zero. */
const NORM_EPSILON = 1e-12;

/** Rows scaled to unit length. */
export function l2Normalize(x: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => tf.div(x, tf.sqrt(tf.add(tf.sum(tf.square(x), 1, true), NORM_EPSILON))) as tf.Tensor2D);
}

/** 1 - cosine similarity of the embeddings. */
export class CosineDistance implements Distance {
  readonly name = 'cosine' as const;

  pairwise(x: tf.Tensor2D, y: tf.Tensor2D): tf.Tensor2D {
    checkEmbeddingShapes(x, y, false, 'cosine.pairwise');
    return tf.tidy(() => tf.sub(1, tf.matMul(l2Normalize(x), l2Normalize(y), false, true)) as tf.Tensor2D);
  }

  paired(x: tf.Tensor2D, y: tf.Tensor2D): tf.Tensor1D {
    checkEmbeddingShapes(x, y, true, 'cosine.paired');
    return tf.tidy(() => tf.sub(1, tf.sum(tf.mul(l2Normalize(x), l2Normalize(y)), 1)) as tf.Tensor1D);
  }
}
