/**
 * Semi-hard mining (Schroff et al. 2015, FaceNet): for each (anchor, positive) pair, the nearest
 * negative that is still farther than the positive but inside the margin,
 *   d(a,p) < d(a,n) < d(a,p) + margin,
 * falling back to the anchor's hardest (nearest) negative when there is no such negative.
 * Tensors are [n, n] (anchor, positive).
 *
 * The semi-hard test depends on the distances, hence on the weights; TF.js has no gradient for
 * comparison ops and refuses to backpropagate through them, so the test is written with tf.step
 * (gradient zero) and selection by arithmetic masks instead of tf.greater / tf.where.
 */
import * as tf from '@tensorflow/tfjs-core';
import { labelMasks } from './label_masks.js';
import { NOT_A_CANDIDATE, type MinedTriplets, type TripletMiner } from './triplet_miner.js';

/** Triplets whose negative is farther than the positive but within the margin (Schroff et al. 2015, FaceNet). */
export class SemiHardMiner implements TripletMiner {
  readonly name = 'semi-hard';

  mine(distances: tf.Tensor2D, labels: tf.Tensor1D, margin: number): MinedTriplets {
    return tf.tidy(() => {
      const n = labels.shape[0];
      const { positive, negative } = labelMasks(labels);
      const ap = tf.reshape(distances, [n, n, 1]); // d(a, p) along axis 1
      const an = tf.reshape(distances, [n, 1, n]); // d(a, n) along axis 2
      const semiHard = tf.mul(
        tf.reshape(negative, [n, 1, n]),
        tf.mul(tf.step(tf.sub(an, ap)), tf.step(tf.sub(tf.add(ap, margin), an))),
      ); // [n, n, n] 1 where n is a semi-hard negative for (a, p)
      const notCandidate = tf.mul(tf.sub(1, semiHard), NOT_A_CANDIDATE);
      const nearestSemiHard = tf.min(tf.add(tf.mul(an, semiHard), notCandidate), 2); // [n, n]
      const hasSemiHard = tf.max(semiHard, 2); // [n, n] 0/1
      const isNegative = tf.cast(negative, 'bool'); // from labels only: no gradient needed
      const hardest = tf.min(tf.where(isNegative, distances, tf.fill([n, n], NOT_A_CANDIDATE)), 1, true); // [n, 1]
      const hasNegative = tf.cast(tf.any(isNegative, 1, true), 'float32'); // [n, 1]
      const mask = tf.mul(positive, hasNegative); // [n, n]
      // Zero the unused branch before adding: 0 * 1e30 = 0, but 1e30 must not leak into the loss.
      const fallback = tf.mul(tf.sub(1, hasSemiHard), tf.mul(hardest, hasNegative));
      const chosen = tf.add(tf.mul(hasSemiHard, tf.mul(nearestSemiHard, hasSemiHard)), fallback);
      return { anchorPositive: tf.mul(distances, mask), anchorNegative: tf.mul(chosen, mask), mask };
    });
  }
}
