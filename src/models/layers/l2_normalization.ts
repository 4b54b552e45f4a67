/**
 * Scales each embedding (the last axis) to unit length. A registered layer rather than a Lambda
 * layer, so models ending in it save and load in the standard TF.js format: an ensemble
 * (ensemble.ts) normalises each member's embedding with it before concatenating them.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { LayerArgs } from '@tensorflow/tfjs-layers/dist/engine/topology.js';

/** Added to the squared norm, as l2Normalize (cosine_distance.ts) does, so an all-zero row stays zero instead of NaN. */
export const L2_NORM_EPSILON = 1e-12;

/** x / sqrt(sum(x^2) + 1e-12) along the last axis. */
export class L2Normalization extends tfl.layers.Layer {
  static readonly className = 'L2Normalization';

  constructor(args: LayerArgs = {}) {
    super(args);
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape {
    return (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tfl.Shape;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0]! : inputs;
      return tf.div(x, tf.sqrt(tf.add(tf.sum(tf.square(x), -1, true), L2_NORM_EPSILON)));
    });
  }
}

tf.serialization.registerClass(L2Normalization);
