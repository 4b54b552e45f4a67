/**
 * Batch-hard mining (Hermans et al. 2017): for each anchor, its farthest positive and its nearest
 * negative. Tensors are [n]; anchors without a positive or a negative are masked out.
 */
import * as tf from '@tensorflow/tfjs-core';
import { labelMasks } from './label_masks.js';
import { NOT_A_CANDIDATE, type MinedTriplets, type TripletMiner } from './triplet_miner.js';

/** Per anchor, its farthest positive and nearest negative (Hermans et al. 2017). */
export class BatchHardMiner implements TripletMiner {
  readonly name = 'batch-hard';

  mine(distances: tf.Tensor2D, labels: tf.Tensor1D): MinedTriplets {
    return tf.tidy(() => {
      const { positive, negative } = labelMasks(labels);
      const isPositive = tf.cast(positive, 'bool');
      const isNegative = tf.cast(negative, 'bool');
      // Selection by masked max / min: the gradient flows only into the chosen distance.
      const anchorPositive = tf.max(tf.where(isPositive, distances, tf.fill(distances.shape, -NOT_A_CANDIDATE)), 1);
      const anchorNegative = tf.min(tf.where(isNegative, distances, tf.fill(distances.shape, NOT_A_CANDIDATE)), 1);
      const mask = tf.mul(tf.cast(tf.any(isPositive, 1), 'float32'), tf.cast(tf.any(isNegative, 1), 'float32'));
      // Zero the placeholder distances of invalid anchors so that no +-1e30 reaches the loss.
      return {
        anchorPositive: tf.mul(anchorPositive, mask),
        anchorNegative: tf.mul(anchorNegative, mask),
        mask,
      };
    });
  }
}
