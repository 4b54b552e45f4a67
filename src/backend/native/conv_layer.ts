/**
 * Conv2D + bias (+ ReLU) as one native op with its own, lazy gradient.
 *  - ReLU: in training, tfjs-core only fuses convolutions with a linear activation, so a
 *    tfjs-layers `conv2d({activation: 'relu'})` runs as Conv2D, Add(bias) and Relu: three
 *    full-size tensors kept alive for the backward pass (Koch's first layer: 3 x 151 MB) and two
 *    extra passes each way. Here it is one oneDNN convolution with a ReLU post-op; the gradient
 *    is computed from the ReLU output (y > 0 exactly where the pre-activation is).
 *  - linear (Conv-4's conv before batch norm): tfjs-core's fused conv2d has a customGrad that
 *    computes the gradients of all inputs, including the image's on the first layer, which no
 *    one needs (600x28x28x64 backward-data: 11% of a Conv-4 episode step). Here every input's
 *    gradient is computed only when the tape asks for it.
 *  - precision: in a training pass (`training: true`) under `--precision bf16` the forward
 *    convolution and both gradients run in bf16 (precision.ts); other passes stay float32.
 */
import * as tf from '@tensorflow/tfjs-core';
import { NATIVE_BACKEND } from './gradients.js';
import { RELU_GRAD, type BiasGradient } from './kernels.js';
import { trainingPrecision } from './precision.js';

export const CONV_BIAS_ACTIVATION = 'FewshotConv2DBiasActivation';

interface ConvAttrs { strides: [number, number]; pad: 'same' | 'valid'; activation: 'relu' | 'linear'; precision: 'fp32' | 'bf16' }

export function registerConvBiasActivationGradient(): void {
  tf.registerGradient({
    kernelName: CONV_BIAS_ACTIVATION,
    inputsToSave: ['x', 'filter'],
    outputsToSave: [true],
    gradFunc: (dy, saved, attrs) => {
      const [x, filter, y] = saved;
      const { strides, pad, activation, precision } = attrs as unknown as ConvAttrs;
      const g = activation === 'relu' ? tf.engine().runKernel(RELU_GRAD, { dy: dy as tf.Tensor, x: y }) as tf.Tensor : dy as tf.Tensor;
      // The filter gradient's kernel also writes the bias gradient (the tape asks for filter
      // before bias), saving a pass over dy: a plain array, so nothing leaks if bias is not asked for.
      const biasGradient: BiasGradient = { values: new Float32Array(filter.shape[3]!), done: false };
      return {
        x: () => tf.engine().runKernel('Conv2DBackpropInput', { dy: g, filter }, { inputShape: x.shape, strides, pad, dataFormat: 'NHWC', precision }) as tf.Tensor,
        filter: () => tf.engine().runKernel('Conv2DBackpropFilter', { x, dy: g }, { strides, pad, dataFormat: 'NHWC', filterShape: filter.shape, precision, biasGradient } as unknown as tf.NamedAttrMap) as tf.Tensor,
        bias: () => (biasGradient.done ? tf.tensor1d(biasGradient.values) : tf.sum(g, [0, 1, 2])),
      };
    },
  });
}

interface ConvLayer {
  rank: number;
  dataFormat: string;
  padding: string;
  strides: number[];
  dilationRate: number[] | number;
  activation: { getClassName(): string } | null;
  kernel: { read(): tf.Tensor };
  bias: { read(): tf.Tensor } | null;
  call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor | tf.Tensor[];
}

/** Activations run fused (tfjs-layers class names); others keep the layer's own code path. */
const FUSED = new Set(['relu', 'linear']);

let installed = false;

export function installFusedConvLayer(): void {
  if (installed) return;
  installed = true;
  registerConvBiasActivationGradient();
  const entry = tf.serialization.SerializationMap.getMap().classNameMap['Conv2D'];
  if (!entry) return;
  const proto = (entry[0] as unknown as { prototype: ConvLayer }).prototype;
  const original = proto.call;
  proto.call = function (this: ConvLayer, inputs, kwargs) {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    const dilations = Array.isArray(this.dilationRate) ? this.dilationRate : [this.dilationRate];
    const eligible = tf.getBackend() === NATIVE_BACKEND && this.rank === 2 && this.dataFormat === 'channelsLast' &&
      (this.padding === 'same' || this.padding === 'valid') && dilations.every((d) => d === 1) &&
      FUSED.has(this.activation?.getClassName() ?? 'linear') && x.rank === 4 && x.dtype === 'float32' && (!Array.isArray(inputs) || inputs.length === 1);
    if (!eligible) return original.call(this, inputs, kwargs);
    return tf.tidy(() => {
      const filter = this.kernel.read();
      const bias = this.bias?.read();
      const precision = kwargs?.['training'] === true ? trainingPrecision() : 'fp32';
      const attrs = { strides: this.strides, pad: this.padding, activation: this.activation?.getClassName() ?? 'linear', precision };
      return tf.engine().runKernel(CONV_BIAS_ACTIVATION, bias ? { x, filter, bias } : { x, filter }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor;
    });
  };
}
