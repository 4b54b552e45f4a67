/**
 * TF.js's cpu backend greets every Node user, on its first tensor, with "Hi, looks like you are
 * running TensorFlow.js in Node.js... install our node backend". fewshot never needs tfjs-node
 * (its native backend is its own), so the `fewshot` entry re-registers the cpu backend with the
 * greeting already spent. Browsers are left alone; a cpu backend already in use is not touched.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';

const CPU_PRIORITY = 1; // the priority tfjs-backend-cpu registers itself with

export function silenceCpuBackendGreeting(): void {
  if (!tf.env().get('IS_NODE')) return;
  const factory = tf.findBackendFactory('cpu');
  const engine = tf.engine() as unknown as { registry: Record<string, unknown> };
  if (!factory || engine.registry['cpu']) return;
  tf.removeBackend('cpu');
  tf.registerBackend(
    'cpu',
    () => {
      // Synchronous like the original factory, so the backend is usable without tf.ready().
      const backend = factory() as tf.KernelBackend;
      (backend as unknown as { firstUse: boolean }).firstUse = false;
      return backend;
    },
    CPU_PRIORITY,
  );
}
