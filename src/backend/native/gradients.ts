/**
 * Cheaper gradients for the native backend. tfjs-core composes the batch-norm, relu and mean
 * gradients from many full-size elementwise ops (the batch-norm one alone reads the activation
 * tensor ~10 times); these run one fused native kernel instead. Gradients are registered per
 * kernel name for all backends, so each override hands other backends the original gradient.
 */
import * as tf from '@tensorflow/tfjs-core';
// tfjs-layers registers every tfjs-core gradient when it loads; it must load before the
// overrides below or it would overwrite them.
import '@tensorflow/tfjs-layers';
import { BATCH_NORM_GRAD, RELU_GRAD } from './kernels.js';

export const NATIVE_BACKEND = 'native';
const onNative = () => tf.getBackend() === NATIVE_BACKEND;

function override(kernelName: string, fast: (original: tf.GradConfig) => tf.GradConfig['gradFunc']): void {
  const original = tf.getGradient(kernelName);
  if (!original || (original as { fewshotNative?: boolean }).fewshotNative) return;
  const nativeGrad = fast(original);
  const config: tf.GradConfig & { fewshotNative: boolean } = {
    ...original,
    fewshotNative: true,
    gradFunc: (dy, saved, attrs) => (onNative() ? nativeGrad(dy, saved, attrs) : original.gradFunc(dy, saved, attrs)),
  };
  tf.registerGradient(config);
}

export function registerNativeGradients(): void {
  override('FusedBatchNorm', (original) => (dy, saved, attrs) => {
    const [x, mean, variance, scale] = saved;
    const c = x.shape[x.rank - 1];
    const perChannel = (t: tf.Tensor | undefined) => t == null || (t.rank === 1 && t.shape[0] === c);
    if (mean.rank !== 1 || !perChannel(mean) || !perChannel(variance) || !perChannel(scale) || x.dtype !== 'float32' || (dy as tf.Tensor).dtype !== 'float32') {
      return original.gradFunc(dy, saved, attrs);
    }
    // One kernel computes all five, eagerly: the tape evaluates each closure in its own tidy,
    // which would dispose siblings created lazily inside the first one. Unused outputs are
    // disposed by the backward pass's outer tidy.
    const [dx, dmean, dvariance, dscale, doffset] = tf.engine().runKernel(
      BATCH_NORM_GRAD,
      { x, dy: dy as tf.Tensor, mean, variance, ...(scale ? { scale } : {}) },
      { varianceEpsilon: (attrs as { varianceEpsilon: number }).varianceEpsilon },
    ) as tf.Tensor[];
    return { x: () => dx, mean: () => dmean, variance: () => dvariance, scale: () => dscale, offset: () => doffset };
  });

  override('Relu', (original) => (dy, saved, attrs) => {
    const [x] = saved;
    if (x.dtype !== 'float32' || (dy as tf.Tensor).dtype !== 'float32') return original.gradFunc(dy, saved, attrs);
    return { x: () => tf.engine().runKernel(RELU_GRAD, { dy: dy as tf.Tensor, x }) as tf.Tensor };
  });

  // Mean's gradient: tfjs multiplies by a full-size ones() tensor and divides; broadcasting
  // the (small) scaled dy once writes the result in one pass.
  override('Mean', (original) => (dy, saved, attrs) => {
    const [x] = saved;
    const axes = tf.util.parseAxisParam((attrs as { axis: number | number[] }).axis, x.shape);
    const reduceSize = tf.util.sizeFromShape(axes.map((a) => x.shape[a]));
    const expanded = x.shape.slice();
    for (const a of axes) expanded[a] = 1;
    if ((dy as tf.Tensor).dtype !== 'float32') return original.gradFunc(dy, saved, attrs);
    return { x: () => tf.broadcastTo(tf.mul(tf.reshape(dy as tf.Tensor, expanded), 1 / reduceSize), x.shape) };
  });
}
