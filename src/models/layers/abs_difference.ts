/**
 * |a - b| of two embeddings: the component-wise L1 distance of the Siamese pair model (Koch et
 * al. 2015). A real registered layer class (tf.serialization.registerClass) rather than a Lambda layer, so the pair model saves
 * to and loads from the standard TF.js format (in Node and in the browser alike, as long as this
 * module is imported before loading).
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { LayerArgs } from '@tensorflow/tfjs-layers/dist/engine/topology.js';

type Shape = tfl.Shape;

/** |a - b| of two embeddings as a registered Keras layer, so pair models save and load without Lambda layers. */
export class AbsDifference extends tfl.layers.Layer {
  static readonly className = 'AbsDifference';

  constructor(args: LayerArgs = {}) {
    super(args);
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const shapes = inputShape as Shape[];
    if (!Array.isArray(shapes[0]) || shapes.length !== 2) {
      throw new Error(`AbsDifference expects exactly 2 inputs, got ${JSON.stringify(inputShape)}`);
    }
    const [a, b] = shapes as [Shape, Shape];
    if (a.length !== b.length || a.some((d, i) => i > 0 && d !== null && b[i] !== null && d !== b[i])) {
      throw new Error(`AbsDifference: input shapes differ: [${a}] vs [${b}]`);
    }
    return a;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      if (!Array.isArray(inputs) || inputs.length !== 2) throw new Error('AbsDifference expects exactly 2 inputs');
      return tf.abs(tf.sub(inputs[0]!, inputs[1]!));
    });
  }
}

tf.serialization.registerClass(AbsDifference);
