/**
 * Who computes embeddings for a loaded (frozen) model: the encoder's forward pass on raw floats.
 * This module is browser-safe: it knows only TF.js ('tfjs', model.predict on the active backend,
 * always possible, and what a model that is still training uses). Node registers faster engines
 * through `setEncoderRunnerFactory` (src/inference/native_runners.ts, loaded by `fewshot/node`):
 *  - 'native-plan': the model compiled into one oneDNN plan (backend 'native');
 *  - 'onnx': exported to ONNX in memory and run by ONNX Runtime (`--backend onnx`).
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';

export interface EncoderRunner {
  readonly engine: 'native-plan' | 'onnx' | 'tfjs';
  /** x: n images, NHWC float32 -> n rows of the flattened output. */
  run(x: Float32Array, n: number, shape: readonly number[]): Float32Array;
}

/** What turns a batch of preprocessed images into embeddings: a layers model, or a face encoder. */
export interface Encoder {
  predict(x: tf.Tensor): tf.Tensor | tf.Tensor[];
}

/** A faster engine for a frozen model, or null to fall back to TF.js. */
export type EncoderRunnerFactory = (model: tfl.LayersModel) => EncoderRunner | null;

let factory: EncoderRunnerFactory | null = null;

/** Installs the engine used for frozen models created afterwards (null: TF.js only). */
export function setEncoderRunnerFactory(f: EncoderRunnerFactory | null): void {
  factory = f;
}

export class TfjsRunner implements EncoderRunner {
  readonly engine = 'tfjs' as const;
  constructor(private readonly model: Encoder) {}
  run(x: Float32Array, n: number, shape: readonly number[]): Float32Array {
    const y = tf.tidy(() => tf.reshape(this.model.predict(tf.tensor(x, [n, ...shape])) as tf.Tensor, [n, -1]));
    const values = y.dataSync() as Float32Array;
    y.dispose();
    return values;
  }
}

/**
 * The runner for `model`. `frozen`: its weights will not change any more (a loaded model), so
 * engines that copy them are allowed.
 */
export function createEncoderRunner(model: tfl.LayersModel, frozen: boolean): EncoderRunner {
  return (frozen && factory?.(model)) || new TfjsRunner(model);
}
