/**
 * Opt-in mixed precision for training on the native backend (`--precision bf16`).
 *
 * 'bf16': the convolutions of a training pass (forward, input and filter gradients) read bfloat16
 * copies of their inputs and write float32, accumulating in float32: oneDNN's AVX512-BF16 kernels
 * run about twice the float32 rate. Everything else stays float32: the weights and the
 * optimizer's state (master copies), batch norm, losses, softmax, the dense layers, and every
 * forward pass that is not training (validation, inference, export), so a model trained this
 * way is an ordinary float32 model. Convolutions whose input has few channels (a first layer on
 * grey images) stay float32 too: they are memory-bound, and converting cost more than it saved.
 * 'fp32' (the default) is float32 everywhere.
 */
import * as tf from '@tensorflow/tfjs-core';
import { loadNativeAddon } from './addon.js';
import { NATIVE_BACKEND } from './gradients.js';

export type TrainingPrecision = 'fp32' | 'bf16';
export const TRAINING_PRECISIONS: readonly TrainingPrecision[] = ['fp32', 'bf16'];

let current: TrainingPrecision = 'fp32';

/** Why `precision` cannot run here (wrong backend, CPU without AVX512-BF16), or null when it can. */
export function trainingPrecisionProblem(precision: TrainingPrecision): string | null {
  if (!TRAINING_PRECISIONS.includes(precision)) return `unknown precision '${String(precision)}' (use ${TRAINING_PRECISIONS.join(' or ')})`;
  if (precision === 'fp32') return null;
  if (tf.getBackend() !== NATIVE_BACKEND) return `--precision bf16 needs the native backend (active: ${tf.getBackend()})`;
  const { addon } = loadNativeAddon();
  if (!addon?.bf16Supported()) return '--precision bf16 needs a CPU with AVX512-BF16 or AMX, which oneDNN does not report on this machine';
  return null;
}

/** Sets the precision of training passes from now on; throws when it cannot run here. */
export function setTrainingPrecision(precision: TrainingPrecision): void {
  const problem = trainingPrecisionProblem(precision);
  if (problem) throw new Error(problem);
  current = precision;
}

export function trainingPrecision(): TrainingPrecision {
  return current;
}

/** Sets `precision` for training passes (throws when it cannot run here); returns the undo. */
export function useTrainingPrecision(precision: TrainingPrecision): () => void {
  const previous = current;
  setTrainingPrecision(precision);
  return () => {
    current = previous;
  };
}

/** Runs `fn` with `precision` for training passes, then restores the previous setting. */
export async function withTrainingPrecision<T>(precision: TrainingPrecision, fn: () => Promise<T>): Promise<T> {
  const restore = useTrainingPrecision(precision);
  try {
    return await fn();
  } finally {
    restore();
  }
}
