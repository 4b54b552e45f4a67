/**
 * Binary cross-entropy for the Siamese pair model (Koch et al. 2015): target 1 for a same-class
 * pair, 0 otherwise. Computed from the logit (the pre-sigmoid output) with the stable form
 *   max(z, 0) - z * y + log(1 + exp(-|z|)),
 * which never evaluates log(0) however confident the model is.
 */
import * as tf from '@tensorflow/tfjs-core';
import './register_gradients.js';
import type { Reducer } from '../reducers/reducer.js';
import { MeanReducer } from '../reducers/mean_reducer.js';
import { toTargetTensor } from '../miners/label_masks.js';

export interface PairBinaryCrossEntropyLossOptions {
  reducer?: Reducer;
}

/** Binary cross-entropy of a pair head's same/different logits (Koch et al. 2015). */
export class PairBinaryCrossEntropyLoss {
  readonly name = 'pair-bce';
  readonly reducer: Reducer;

  constructor(opts: PairBinaryCrossEntropyLossOptions = {}) {
    this.reducer = opts.reducer ?? new MeanReducer();
  }

  /**
   * @param logits [n] or [n, 1] pre-sigmoid scores of the pair model
   * @param same [n] 1 for a same-class pair, 0 for a different-class pair
   */
  compute(logits: tf.Tensor, same: tf.Tensor | Float32Array | readonly number[]): tf.Scalar {
    return tf.tidy(() => {
      const z = tf.reshape(logits, [-1]);
      const y = toTargetTensor(same);
      if (z.shape[0] !== y.shape[0]) {
        throw new Error(`pair-bce: ${z.shape[0]} logits but ${y.shape[0]} targets`);
      }
      const terms = tf.add(tf.sub(tf.relu(z), tf.mul(z, y)), tf.log1p(tf.exp(tf.neg(tf.abs(z)))));
      return this.reducer.reduce(terms);
    });
  }
}
