/**
 * The 'native' TF.js backend: the cpu backend (same storage, same ~170 kernels) with its hot
 * kernels replaced by oneDNN / OpenMP code that works in place on the cpu backend's
 * Float32Arrays. Layers, optimizers, autograd and saved models stay plain TF.js.
 */
import * as tf from '@tensorflow/tfjs-core';
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { loadNativeAddon, type NativeAddon } from './addon.js';
import { NATIVE_KERNELS } from './kernels.js';
import { NATIVE_BACKEND, registerNativeGradients } from './gradients.js';
import { installFusedAdam } from './adam.js';
import { installFusedBatchNormLayer } from './batch_norm_layer.js';
import { BufferPool } from './buffer_pool.js';
import { installFusedConvLayer } from './conv_layer.js';

/** Free buffers kept for reuse at most (MB); FEWSHOT_POOL_MB overrides. */
const POOL_MB = Number(process.env.FEWSHOT_POOL_MB ?? 1024);

/** A MathBackendCPU whose native kernel outputs come from a recycling buffer pool. */
export class NativeBackend extends MathBackendCPU {
  readonly pool = new BufferPool(POOL_MB * 2 ** 20);

  constructor(readonly addon: NativeAddon) {
    super();
    this.pool.attach(this);
    // The cpu backend's first write() tells Node users to install tfjs-node: not for this one.
    (this as unknown as { firstUse: boolean }).firstUse = false;
  }

  /** Storage for a kernel output of `size` float32 elements (contents arbitrary). */
  allocate(size: number): Float32Array {
    return this.pool.take(size);
  }

  /**
   * The float32 storage of `dataId` when exactly one tensor uses it and no other tensor views
   * its memory, i.e. when writing to it in place is unobservable; else null.
   */
  exclusiveValues(dataId: object): Float32Array | null {
    if (!this.data.has(dataId)) return null;
    const entry = this.data.get(dataId);
    const values = entry.values;
    if (!(values instanceof Float32Array) || entry.refCount !== 1 || this.pool.users(values) !== 1) return null;
    if (values.byteOffset !== 0 || values.length * 4 !== values.buffer.byteLength) return null;
    return values;
  }

  /** Values handed to user code are copies: pooled memory is reused once its tensor is gone. */
  override readSync(dataId: object): ReturnType<MathBackendCPU['readSync']> {
    const values = super.readSync(dataId);
    return this.pool.owns(values) ? (values as Float32Array).slice() : values;
  }
}

let registered = false;

/**
 * Registers the 'native' backend when the addon loads. Returns null on success, else why not.
 * Safe to call more than once.
 */
export function registerNativeBackend(): string | null {
  if (registered) return null;
  const { addon, error } = loadNativeAddon();
  if (!addon) return error;
  // Priority just above wasm (2) and cpu (1): the fastest one wins when nothing is chosen.
  tf.registerBackend(NATIVE_BACKEND, () => new NativeBackend(addon), 3);
  const cpuKernels = new Map(tf.getKernelsForBackend('cpu').map((k) => [k.kernelName, k]));
  for (const k of cpuKernels.values()) {
    if (!(k.kernelName in NATIVE_KERNELS)) tf.registerKernel({ ...k, backendName: NATIVE_BACKEND });
  }
  for (const [kernelName, nativeKernel] of Object.entries(NATIVE_KERNELS)) {
    const fallback = cpuKernels.get(kernelName)?.kernelFunc;
    tf.registerKernel({
      kernelName,
      backendName: NATIVE_BACKEND,
      kernelFunc: (args) => {
        const result = nativeKernel(args as Parameters<typeof nativeKernel>[0], addon);
        if (result) return result;
        if (!fallback) throw new Error(`native backend: kernel ${kernelName} got inputs it does not support`);
        return fallback(args);
      },
    });
  }
  registerNativeGradients();
  installFusedAdam();
  installFusedBatchNormLayer();
  installFusedConvLayer();
  registered = true;
  return null;
}
