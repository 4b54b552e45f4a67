/**
 * Who computes embeddings for a loaded (frozen) model: the encoder's forward pass on raw floats.
 *  - 'native-plan': the model compiled into one oneDNN plan (backend 'native', the default when
 *    the addon is built; src/backend/native/inference_plan.ts);
 *  - 'onnx': exported to ONNX in memory and run by ONNX Runtime (`--backend onnx`);
 *  - 'tfjs': model.predict on the active TF.js backend (always possible, and what a model that is
 *    still training uses, since the other two copy the weights once).
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { loadNativeAddon } from '../backend/native/addon.js';
import { compileInferencePlan } from '../backend/native/inference_plan.js';
import { OrtSession } from '../backend/onnx/runtime.js';
import { exportOnnx } from '../export/onnx/export.js';

export interface EncoderRunner {
  readonly engine: 'native-plan' | 'onnx' | 'tfjs';
  /** x: n images, NHWC float32 -> n rows of the flattened output. */
  run(x: Float32Array, n: number, shape: readonly number[]): Float32Array;
}

/** 'auto': the native plan when the backend is native and the model compiles, else TF.js. */
export type InferenceEngine = 'auto' | 'onnx' | 'tfjs';

let engine: InferenceEngine = 'auto';

/** Set by `--backend onnx` (CLI) or a library user; affects runners created afterwards. */
export function setInferenceEngine(e: InferenceEngine): void {
  engine = e;
}

export function inferenceEngine(): InferenceEngine {
  return engine;
}

class TfjsRunner implements EncoderRunner {
  readonly engine = 'tfjs' as const;
  constructor(private readonly model: tfl.LayersModel) {}
  run(x: Float32Array, n: number, shape: readonly number[]): Float32Array {
    const y = tf.tidy(() => tf.reshape(this.model.predict(tf.tensor(x, [n, ...shape])) as tf.Tensor, [n, -1]));
    const values = y.dataSync() as Float32Array;
    y.dispose();
    return values;
  }
}

class OnnxRunner implements EncoderRunner {
  readonly engine = 'onnx' as const;
  private readonly session: OrtSession;
  constructor(model: tfl.LayersModel) {
    this.session = OrtSession.create(exportOnnx(model));
  }
  run(x: Float32Array, n: number, shape: readonly number[]): Float32Array {
    const out = this.session.run({ [this.session.inputNames[0]!]: { data: x, dims: [n, ...shape] } });
    return out[this.session.outputNames[0]!]!.data;
  }
}

/**
 * The runner for `model`. `frozen`: its weights will not change any more (a loaded model), so
 * engines that copy them are allowed.
 */
export function createEncoderRunner(model: tfl.LayersModel, frozen: boolean): EncoderRunner {
  if (!frozen) return new TfjsRunner(model);
  if (engine === 'onnx') return new OnnxRunner(model);
  if (engine === 'auto' && tf.getBackend() === 'native' && process.env.FEWSHOT_INFERENCE_PLAN !== '0') {
    const addon = loadNativeAddon().addon;
    const compiled = addon ? compileInferencePlan(model, addon) : null;
    if (compiled && 'plan' in compiled) {
      const plan = compiled.plan;
      return {
        engine: 'native-plan',
        run: (x, n) => {
          const y = new Float32Array(n * plan.outputSize);
          plan.run(x, n, y);
          return y;
        },
      };
    }
  }
  return new TfjsRunner(model);
}
