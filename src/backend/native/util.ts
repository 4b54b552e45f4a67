/** Shared plumbing for the native kernels: zero-copy access to the cpu backend's storage. */
import * as tf from '@tensorflow/tfjs-core';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';

/** The backend's own Float32Array for `t` (no copy), or null when it is not float32. */
export function f32(backend: MathBackendCPU, t: tf.TensorInfo | undefined | null): Float32Array | null {
  if (t == null || t.dtype !== 'float32') return null;
  const values = backend.data.get(t.dataId).values;
  return values instanceof Float32Array ? values : null;
}

/** A fresh output tensor of `shape` whose storage the native kernel fills. */
export function output(backend: MathBackendCPU, shape: number[]): { info: tf.TensorInfo; values: Float32Array } {
  const size = tf.util.sizeFromShape(shape);
  const pooled = (backend as MathBackendCPU & { allocate?: (n: number) => Float32Array }).allocate;
  const values = pooled ? pooled.call(backend, size) : new Float32Array(size);
  return { info: backend.makeTensorInfo(shape, 'float32', values), values };
}

export const ACTIVATIONS: Record<string, number> = { linear: 0, relu: 1, relu6: 2, elu: 3, leakyrelu: 4, sigmoid: 5 };
