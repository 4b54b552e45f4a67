/**
 * SiamFC's loss: the logistic loss log(1 + exp(-y v)) of every score-map cell v with label
 * y = +1 (within the positive radius of the target) or -1, weighted so that positives and negatives
 * each carry half of the loss (there are ~20x more negatives).
 */
import * as tf from '@tensorflow/tfjs-core';

/** scores [B, s, s, 1] logits; labels, weights [B, s, s, 1] (labels 0/1). Mean over the batch. */
export function balancedLogisticLoss(scores: tf.Tensor4D, labels: tf.Tensor4D, weights: tf.Tensor4D): tf.Scalar {
  return tf.tidy(() => {
    // softplus(v) - y01 * v == log(1 + exp(-y v)) for y = 2*y01 - 1, computed stably.
    const perCell = tf.sub(tf.softplus(scores), tf.mul(labels, scores));
    return tf.div(tf.sum(tf.mul(perCell, weights)), scores.shape[0]) as tf.Scalar;
  });
}
