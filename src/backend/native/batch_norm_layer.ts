/**
 * Training-mode batch norm as one native op. tfjs-layers' BatchNormalization computes it as
 * tf.moments + tf.batchNorm, ~12 full passes over the activations forward and backward (60% of
 * a Conv-4 step on wasm); the same maths fused is 2 passes forward and 2 backward. On the
 * native backend the layer's training call is routed here; inference, other backends and any
 * unusual configuration (axis not last, no gamma/beta) keep the original code path. Weights,
 * moving statistics and serialisation are the layer's own, unchanged.
 *
 * A ReLU that follows the batch norm in the model graph (Conv-4's BatchNormalization ->
 * Activation('relu')) is fused in as well: the batch norm writes max(0, y) in its second pass
 * and its gradient applies dy * (y > 0) on the fly, which saves the ReLU's forward pass, its
 * gradient pass and one full-size tensor kept for the backward pass. The Activation layer then
 * passes that tensor through (ReLU is idempotent). This happens only while a model runs its
 * own graph (LayersModel / Sequential call) in which the batch norm's sole consumer is that
 * Activation layer, so a batch norm called on its own always returns the plain batch norm.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { BATCH_NORM_TRAIN, BATCH_NORM_TRAIN_GRAD } from './kernels.js';
import { NATIVE_BACKEND } from './gradients.js';

/**
 * The fused kernel's gradient. A registered gradient rather than tf.customGrad: customGrad runs
 * its forward function in a tidy that, outside gradient recording, disposes the batch
 * statistics before the moving averages read them.
 */
function registerBatchNormTrainGradient(): void {
  tf.registerGradient({
    kernelName: BATCH_NORM_TRAIN,
    inputsToSave: ['x', 'gamma'],
    outputsToSave: [true, true, true],
    gradFunc: (dys, saved, attrs) => {
      // Only y's gradient flows: the statistics feed the moving averages, which are not differentiated.
      const dy = Array.isArray(dys) ? dys[0]! : dys;
      const [x, gamma, y, mean, variance] = saved;
      const { varianceEpsilon, relu } = attrs as unknown as { varianceEpsilon: number; relu: boolean };
      // One kernel computes all three (the tape runs each closure in its own tidy, which would
      // dispose siblings created lazily inside the first); unused ones go with the backward tidy.
      const [dx, dgamma, dbeta] = tf.engine().runKernel(BATCH_NORM_TRAIN_GRAD, { x, dy, mean, variance, gamma, ...(relu ? { reluOut: y } : {}) }, { varianceEpsilon }) as tf.Tensor[];
      return { x: () => dx!, gamma: () => dgamma!, beta: () => dbeta! };
    },
  });
}

/** y = batchnorm(x) (then max(0, y) when `relu`) with batch statistics; also returns them for the moving averages. */
export function batchNormTraining(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, epsilon: number, relu = false): { y: tf.Tensor; mean: tf.Tensor; variance: tf.Tensor } {
  const [y, mean, variance] = tf.engine().runKernel(BATCH_NORM_TRAIN, { x, gamma, beta }, { varianceEpsilon: epsilon, relu }) as tf.Tensor[];
  return { y: y!, mean: mean!, variance: variance! };
}

interface GraphLayer {
  outboundNodes: Array<{ outboundLayer: GraphLayer }>;
  inboundNodes: unknown[];
  getClassName(): string;
  activation?: { getClassName(): string };
  call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor | tf.Tensor[];
}

interface BatchNormLayer extends GraphLayer {
  axis: number;
  epsilon: number;
  momentum: number;
  gamma: tfl.LayerVariable | null;
  beta: tfl.LayerVariable | null;
  movingMean: tfl.LayerVariable;
  movingVariance: tfl.LayerVariable;
}

/** Models whose own graph is running now (innermost last). */
const running: Array<{ layers: unknown[] }> = [];
/** Outputs that already went through a fused ReLU, and the Activation layer they are meant for. */
const reluApplied = new WeakMap<tf.Tensor, GraphLayer>();

const isRelu = (layer: GraphLayer) => layer.getClassName() === 'Activation' && layer.activation?.getClassName() === 'relu';

/** The ReLU Activation layer that is `bn`'s only consumer in the graph running now, else null. */
function fusableRelu(bn: GraphLayer): GraphLayer | null {
  const model = running[running.length - 1];
  if (!model || bn.outboundNodes.length !== 1) return null;
  const next = bn.outboundNodes[0]!.outboundLayer;
  if (!isRelu(next) || next.inboundNodes.length !== 1) return null;
  return model.layers.includes(bn) && model.layers.includes(next) ? next : null;
}

let installed = false;

function patch<T extends GraphLayer>(className: string, wrap: (original: T['call']) => T['call']): void {
  const entry = tf.serialization.SerializationMap.getMap().classNameMap[className];
  if (!entry) return;
  const proto = (entry[0] as unknown as { prototype: T }).prototype;
  proto.call = wrap(proto.call);
}

export function installFusedBatchNormLayer(): void {
  if (installed) return;
  installed = true;
  registerBatchNormTrainGradient();
  patch<BatchNormLayer>('BatchNormalization', (original) => function (this: BatchNormLayer, inputs, kwargs) {
    const input = Array.isArray(inputs) ? inputs[0] : inputs;
    const training = kwargs?.['training'] === true;
    const lastAxis = this.axis === -1 || this.axis === input.rank - 1;
    if (!training || tf.getBackend() !== NATIVE_BACKEND || !lastAxis || !this.gamma || !this.beta || input.dtype !== 'float32' || (Array.isArray(inputs) && inputs.length !== 1)) {
      return original.call(this, inputs, kwargs);
    }
    const relu = fusableRelu(this);
    const y = tf.tidy(() => {
      const { y, mean, variance } = batchNormTraining(input, this.gamma!.read(), this.beta!.read(), this.epsilon, relu != null);
      // Same moving-average update as the original layer.
      for (const [variable, value] of [[this.movingMean, mean], [this.movingVariance, variance]] as const) {
        tf.tidy(() => {
          const orig = variable.read();
          variable.write(tf.sub(orig, tf.mul(tf.sub(orig, value), 1 - this.momentum)));
        });
      }
      return y;
    });
    if (relu) reluApplied.set(y, relu);
    return y;
  });
  // The Activation layer the fused ReLU was meant for passes its input through.
  patch<GraphLayer>('Activation', (original) => function (this: GraphLayer, inputs, kwargs) {
    const input = Array.isArray(inputs) && inputs.length === 1 ? inputs[0]! : inputs;
    if (!Array.isArray(input) && reluApplied.get(input) === this) return input;
    return original.call(this, inputs, kwargs);
  });
  // Models (Sequential delegates to its inner LayersModel) note that their own graph is running.
  const containerProto = Object.getPrototypeOf(tfl.LayersModel.prototype) as { call(this: { layers: unknown[] }, ...args: unknown[]): unknown };
  const containerCall = containerProto.call;
  containerProto.call = function (this: { layers: unknown[] }, ...args: unknown[]) {
    running.push(this);
    try {
      return containerCall.apply(this, args);
    } finally {
      running.pop();
    }
  };
}
