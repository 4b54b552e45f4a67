/**
 * Training-mode batch norm as one native op. tfjs-layers' BatchNormalization computes it as
 * tf.moments + tf.batchNorm, ~12 full passes over the activations forward and backward (60% of
 * a Conv-4 step on wasm); the same maths fused is 2 passes forward and 2 backward. On the
 * native backend the layer's training call is routed here; inference, other backends and any
 * unusual configuration (axis not last, no gamma/beta) keep the original code path. Weights,
 * moving statistics and serialisation are the layer's own, unchanged.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { BATCH_NORM_TRAIN, BATCH_NORM_TRAIN_GRAD } from './kernels.js';
import { NATIVE_BACKEND } from './gradients.js';

/** y = batchnorm(x) with batch statistics; also returns them for the moving averages. */
export function batchNormTraining(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, epsilon: number): { y: tf.Tensor; mean: tf.Tensor; variance: tf.Tensor } {
  let mean: tf.Tensor | undefined, variance: tf.Tensor | undefined;
  const op = tf.customGrad((...args: unknown[]) => {
    const [xx, g, b] = args as tf.Tensor[];
    const save = args[3] as (tensors: tf.Tensor[]) => void;
    const [y, m, v] = tf.engine().runKernel(BATCH_NORM_TRAIN, { x: xx, gamma: g, beta: b }, { varianceEpsilon: epsilon }) as tf.Tensor[];
    mean = m;
    variance = v;
    save([xx, m, v, g]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sx, sm, sv, sg] = saved;
        return tf.engine().runKernel(BATCH_NORM_TRAIN_GRAD, { x: sx, dy, mean: sm, variance: sv, gamma: sg }, { varianceEpsilon: epsilon }) as tf.Tensor[];
      },
    };
  });
  const y = op(x, gamma, beta);
  return { y, mean: mean!, variance: variance! };
}

interface BatchNormLayer {
  axis: number;
  epsilon: number;
  momentum: number;
  gamma: tfl.LayerVariable | null;
  beta: tfl.LayerVariable | null;
  movingMean: tfl.LayerVariable;
  movingVariance: tfl.LayerVariable;
  call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor | tf.Tensor[];
}

let installed = false;

export function installFusedBatchNormLayer(): void {
  if (installed) return;
  installed = true;
  const entry = tf.serialization.SerializationMap.getMap().classNameMap['BatchNormalization'];
  if (!entry) return;
  const proto = (entry[0] as unknown as { prototype: BatchNormLayer }).prototype;
  const original = proto.call;
  proto.call = function (this: BatchNormLayer, inputs, kwargs) {
    const input = Array.isArray(inputs) ? inputs[0] : inputs;
    const training = kwargs?.['training'] === true;
    const lastAxis = this.axis === -1 || this.axis === input.rank - 1;
    if (!training || tf.getBackend() !== NATIVE_BACKEND || !lastAxis || !this.gamma || !this.beta || input.dtype !== 'float32' || (Array.isArray(inputs) && inputs.length !== 1)) {
      return original.call(this, inputs, kwargs);
    }
    return tf.tidy(() => {
      const { y, mean, variance } = batchNormTraining(input, this.gamma!.read(), this.beta!.read(), this.epsilon);
      // Same moving-average update as the original layer.
      for (const [variable, value] of [[this.movingMean, mean], [this.movingVariance, variance]] as const) {
        tf.tidy(() => {
          const orig = variable.read();
          variable.write(tf.sub(orig, tf.mul(tf.sub(orig, value), 1 - this.momentum)));
        });
      }
      return y;
    });
  };
}
