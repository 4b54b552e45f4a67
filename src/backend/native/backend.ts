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

/** A MathBackendCPU that also carries the addon (for tools that want to reach it). */
export class NativeBackend extends MathBackendCPU {
  constructor(readonly addon: NativeAddon) {
    super();
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
  registered = true;
  return null;
}
