/** Mean over all (unmasked) terms; 0 when there is none. */
import * as tf from '@tensorflow/tfjs-core';
import type { Reducer } from './reducer.js';

/** Reduces per-element losses to their mean. */
export class MeanReducer implements Reducer {
  readonly name = 'mean';

  reduce(values: tf.Tensor, mask?: tf.Tensor): tf.Scalar {
    return tf.tidy(() => {
      if (!mask) return values.size === 0 ? tf.scalar(0) : tf.mean(values);
      const m = tf.cast(mask, 'float32');
      // max(count, 1): an empty selection gives 0 instead of NaN.
      return tf.div(tf.sum(tf.mul(values, m)), tf.maximum(tf.sum(m), 1)) as tf.Scalar;
    });
  }
}
