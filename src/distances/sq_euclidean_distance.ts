/** Squared euclidean distance ||x - y||^2 (FaceNet's triplet distance, Snell et al.'s protonet distance). */
import * as tf from '@tensorflow/tfjs-core';
import { checkEmbeddingShapes, type Distance } from './distance.js';

/** Squared Euclidean distance (the prototypical networks' choice). */
export class SqEuclideanDistance implements Distance {
  readonly name = 'sqeuclidean' as const;

  pairwise(x: tf.Tensor2D, y: tf.Tensor2D): tf.Tensor2D {
    checkEmbeddingShapes(x, y, false, 'sqeuclidean.pairwise');
    return tf.tidy(() => {
      // ||x||^2 + ||y||^2 - 2 x.y: one matmul instead of an [n, m, d] difference tensor.
      const xx = tf.sum(tf.square(x), 1, true); // [n, 1]
      const yy = tf.reshape(tf.sum(tf.square(y), 1), [1, -1]); // [1, m]
      const xy = tf.matMul(x, y, false, true); // [n, m]
      // Rounding can make the expansion slightly negative for identical rows; clamp it.
      return tf.relu(tf.sub(tf.add(xx, yy), tf.mul(2, xy))) as tf.Tensor2D;
    });
  }

  paired(x: tf.Tensor2D, y: tf.Tensor2D): tf.Tensor1D {
    checkEmbeddingShapes(x, y, true, 'sqeuclidean.paired');
    return tf.tidy(() => tf.sum(tf.square(tf.sub(x, y)), 1) as tf.Tensor1D);
  }
}
