/**
 * A reducer turns per-element loss terms into the scalar a loss returns (pytorch-metric-learning
 * style). `mask` (same shape as `values`, 1 = a real term, 0 = padding) lets losses mine with
 * label-equality masks instead of gathers: masked-out terms neither add to the sum nor count.
 */
import type * as tf from '@tensorflow/tfjs-core';

export interface Reducer {
  readonly name: string;
  reduce(values: tf.Tensor, mask?: tf.Tensor): tf.Scalar;
}
