/**
 * Batch-all mining: every valid (a, p, n) triplet of the batch, a != p, label(a) == label(p) !=
 * label(n). Tensors are [n, n, n] (anchor, positive, negative); pair it with AvgNonZeroReducer so
 * that easy triplets do not dilute the gradient (Hermans et al. 2017).
 */
import * as tf from '@tensorflow/tfjs-core';
import { labelMasks } from './label_masks.js';
import type { MinedTriplets, TripletMiner } from './triplet_miner.js';

/** Every valid (anchor, positive, negative) triplet of a batch. */
export class BatchAllMiner implements TripletMiner {
  readonly name = 'batch-all';

  mine(distances: tf.Tensor2D, labels: tf.Tensor1D): MinedTriplets {
    return tf.tidy(() => {
      const n = labels.shape[0];
      const { positive, negative } = labelMasks(labels);
      const anchorPositive = tf.reshape(distances, [n, n, 1]);
      const anchorNegative = tf.reshape(distances, [n, 1, n]);
      const mask = tf.mul(tf.reshape(positive, [n, n, 1]), tf.reshape(negative, [n, 1, n]));
      return { anchorPositive, anchorNegative, mask };
    });
  }
}
