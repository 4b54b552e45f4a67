/**
 * Mean over the terms that are > 0 (pytorch-metric-learning's AvgNonZeroReducer, its default for
 * triplet losses): once most triplets satisfy the margin, averaging over all of them would shrink
 * the gradient towards zero although hard triplets remain.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Reducer } from './reducer.js';

/** Mean over the positive losses only (pytorch-metric-learning's AvgNonZeroReducer), so easy triplets do not dilute the hard ones. */
export class AvgNonZeroReducer implements Reducer {
  readonly name = 'avg-non-zero';

  reduce(values: tf.Tensor, mask?: tf.Tensor): tf.Scalar {
    return tf.tidy(() => {
      const kept = mask ? tf.mul(values, tf.cast(mask, 'float32')) : values;
      // step(x) = 1 for x > 0, else 0. Not tf.greater: comparisons have no gradient in TF.js and
      // the backward pass fails on any gradient-less op between a variable and the loss.
      const count = tf.sum(tf.step(kept));
      return tf.div(tf.sum(kept), tf.maximum(count, 1)) as tf.Scalar;
    });
  }
}
