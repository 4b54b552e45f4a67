/**
 * Node's fast engines for frozen models, installed into the browser-safe encoder_runner.ts when
 * this module is loaded (by `fewshot/node`, the CLI and the service):
 *  - 'native-plan': the model compiled into one oneDNN plan (backend 'native', the default when
 *    the addon is built; src/backend/native/inference_plan.ts);
 *  - 'onnx': exported to ONNX in memory and run by ONNX Runtime (`--backend onnx`).
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { loadNativeAddon } from '../backend/native/addon.js';
import { compileInferencePlan } from '../backend/native/inference_plan.js';
import { OrtSession } from '../backend/onnx/runtime.js';
import { exportOnnx } from '../export/onnx/export.js';
import { ensembleMembers, ensembleRunner } from '../models/ensemble.js';
import { setEncoderRunnerFactory, type EncoderRunner } from './encoder_runner.js';

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

function fastRunner(model: tfl.LayersModel): EncoderRunner | null {
  // An ensemble (models/ensemble.ts) is not one chain: each member is compiled on its own.
  const members = ensembleMembers(model);
  if (members) {
    const runners = members.map(fastRunner);
    return runners.every((r): r is EncoderRunner => r !== null) ? ensembleRunner(runners) : null;
  }
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
  return null;
}

setEncoderRunnerFactory(fastRunner);
