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
 *
 * When that ReLU's sole consumer is a 2x2 stride-2 'valid' MaxPooling2D (the rest of a Conv-4
 * block), the pooling is fused too: the op writes only the pooled output, and its gradient takes
 * the pooled gradient and recomputes the activations from x (max-pool of ReLU commutes). The
 * full-size activations, the max-pool's read of them, its gradient pass and its full-size
 * gradient tensor all go: Conv-4's 28x28 block moved ~1.1 GB less per step. The Activation
 * and MaxPooling2D layers pass that output through.
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
    inputsToSave: ['x', 'gamma', 'beta'],
    outputsToSave: [true, true, true],
    gradFunc: (dys, saved, attrs) => {
      // Only y's gradient flows: the statistics feed the moving averages, which are not differentiated.
      const dy = Array.isArray(dys) ? dys[0]! : dys;
      const [x, gamma, beta, y, mean, variance] = saved;
      const { varianceEpsilon, relu, pool } = attrs as unknown as { varianceEpsilon: number; relu: boolean; pool?: boolean };
      // One kernel computes all three (the tape runs each closure in its own tidy, which would
      // dispose siblings created lazily inside the first); unused ones go with the backward tidy.
      const inputs: tf.NamedTensorMap = pool ? { x, dy, mean, variance, gamma, beta } : { x, dy, mean, variance, gamma, ...(relu ? { reluOut: y } : {}) };
      const [dx, dgamma, dbeta] = tf.engine().runKernel(BATCH_NORM_TRAIN_GRAD, inputs, { varianceEpsilon, pool: pool === true }) as tf.Tensor[];
      return { x: () => dx!, gamma: () => dgamma!, beta: () => dbeta! };
    },
  });
}

/**
 * y = batchnorm(x) (then max(0, y) when `relu`, then a 2x2 stride-2 'valid' max-pool when `pool`)
 * with batch statistics; also returns them for the moving averages.
 */
export function batchNormTraining(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, epsilon: number, relu = false, pool = false): { y: tf.Tensor; mean: tf.Tensor; variance: tf.Tensor } {
  if (pool && (!relu || x.rank !== 4)) throw new Error('batchNormTraining: pool needs relu and a 4-D NHWC input');
  const [y, mean, variance] = tf.engine().runKernel(BATCH_NORM_TRAIN, { x, gamma, beta }, { varianceEpsilon: epsilon, relu, pool }) as tf.Tensor[];
  return { y: y!, mean: mean!, variance: variance! };
}

interface GraphLayer {
  outboundNodes: Array<{ outboundLayer: GraphLayer }>;
  inboundNodes: unknown[];
  getClassName(): string;
  activation?: { getClassName(): string };
  poolSize?: number[];
  strides?: number[];
  padding?: string;
  dataFormat?: string;
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
/**
 * Outputs that already went through fused layers (ReLU, max-pool), and those layers; by data
 * id, since a layer that passes its input through hands the next one a clone (Layer.apply).
 */
const fusedInto = new WeakMap<object, GraphLayer[]>();

const isRelu = (layer: GraphLayer) => layer.getClassName() === 'Activation' && layer.activation?.getClassName() === 'relu';
const isPool2x2 = (layer: GraphLayer) => layer.getClassName() === 'MaxPooling2D' && layer.padding === 'valid' &&
  layer.dataFormat === 'channelsLast' && [...(layer.poolSize ?? []), ...(layer.strides ?? [])].every((d) => d === 2);

/** The layer that is `layer`'s only consumer in the graph running now, if `accept`s it, else null. */
function soleConsumer(layer: GraphLayer, accept: (next: GraphLayer) => boolean): GraphLayer | null {
  const model = running[running.length - 1];
  if (!model || layer.outboundNodes.length !== 1) return null;
  const next = layer.outboundNodes[0]!.outboundLayer;
  if (!accept(next) || next.inboundNodes.length !== 1) return null;
  return model.layers.includes(layer) && model.layers.includes(next) ? next : null;
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
    const relu = soleConsumer(this, isRelu);
    const pool = relu && input.rank === 4 ? soleConsumer(relu, isPool2x2) : null;
    const y = tf.tidy(() => {
      const { y, mean, variance } = batchNormTraining(input, this.gamma!.read(), this.beta!.read(), this.epsilon, relu != null, pool != null);
      // Same moving-average update as the original layer.
      for (const [variable, value] of [[this.movingMean, mean], [this.movingVariance, variance]] as const) {
        tf.tidy(() => {
          const orig = variable.read();
          variable.write(tf.sub(orig, tf.mul(tf.sub(orig, value), 1 - this.momentum)));
        });
      }
      return y;
    });
    if (relu) fusedInto.set(y.dataId, pool ? [relu, pool] : [relu]);
    return y;
  });
  // The Activation (and MaxPooling2D) layers fused into the batch norm pass its output through.
  for (const className of ['Activation', 'MaxPooling2D']) {
    patch<GraphLayer>(className, (original) => function (this: GraphLayer, inputs, kwargs) {
      const input = Array.isArray(inputs) && inputs.length === 1 ? inputs[0]! : inputs;
      if (!Array.isArray(input) && fusedInto.get(input.dataId)?.includes(this)) return input;
      return original.call(this, inputs, kwargs);
    });
  }
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
