/**
 * Fused Adam for the native backend. tf.train.adam's update runs ~12 full-size elementwise ops
 * per variable (Koch's 9216x4096 dense kernel makes that ~1.8 GB of memory traffic a step); on
 * the native backend the same arithmetic runs as one pass per variable. The optimizer object,
 * its state variables (names, order, serialisation) and every other backend are untouched:
 * AdamOptimizer.applyGradients is wrapped and falls through to the original off 'native'.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ADAM_UPDATE } from './kernels.js';
import { NATIVE_BACKEND } from './gradients.js';
import type { NativeBackend } from './backend.js';

interface AdamState {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
  accumulatedFirstMoment: Array<{ originalName: string; variable: tf.Variable } | undefined>;
  accumulatedSecondMoment: Array<{ originalName: string; variable: tf.Variable } | undefined>;
  incrementIterations(): void;
}

let installed = false;

export function installFusedAdam(): void {
  if (installed) return;
  installed = true;
  const proto = tf.AdamOptimizer.prototype as unknown as { applyGradients(g: tf.NamedTensorMap | Array<{ name: string; tensor: tf.Tensor }>): void };
  const original = proto.applyGradients;
  proto.applyGradients = function (this: AdamState, variableGradients: tf.NamedTensorMap | Array<{ name: string; tensor: tf.Tensor }>) {
    if (tf.getBackend() !== NATIVE_BACKEND) return original.call(this, variableGradients);
    const names = Array.isArray(variableGradients) ? variableGradients.map((v) => v.name) : Object.keys(variableGradients);
    // accBeta holds beta^t for the current step t, exactly as in the original.
    const beta1Power = this.accBeta1.dataSync()[0];
    const beta2Power = this.accBeta2.dataSync()[0];
    tf.tidy(() => {
      names.forEach((name, i) => {
        const value = tf.engine().registeredVariables[name];
        this.accumulatedFirstMoment[i] ??= { originalName: `${name}/m`, variable: tf.tidy(() => tf.zerosLike(value).variable(false)) };
        this.accumulatedSecondMoment[i] ??= { originalName: `${name}/v`, variable: tf.tidy(() => tf.zerosLike(value).variable(false)) };
        const gradient = Array.isArray(variableGradients) ? variableGradients[i].tensor : variableGradients[name];
        if (gradient == null) return;
        const m = this.accumulatedFirstMoment[i]!.variable;
        const v = this.accumulatedSecondMoment[i]!.variable;
        if (value.dtype !== 'float32' || gradient.dtype !== 'float32') {
          throw new Error(`fused Adam: variable ${name} is ${value.dtype}, gradient ${gradient.dtype}; expected float32`);
        }
        // Variables nobody else shares are updated in place (as PyTorch does): no second copy of
        // weights and moments at the peak. Otherwise new tensors are assigned, as tfjs does.
        const backend = tf.backend() as NativeBackend;
        const target = [value, m, v].map((t) => backend.exclusiveValues(t.dataId));
        const grad = backend.data.get(gradient.dataId).values;
        if (target.every((t) => t !== null) && grad instanceof Float32Array && new Set(target.map((t) => t!.buffer)).size === 3) {
          const [pv, pm, ps] = target as Float32Array[];
          backend.addon.adam(pv, grad, pm, ps, this.learningRate, this.beta1, this.beta2, this.epsilon, beta1Power, beta2Power, pv, pm, ps);
          return;
        }
        const [newValue, newM, newV] = tf.engine().runKernel(
          ADAM_UPDATE,
          { variable: value, gradient, m, v },
          { learningRate: this.learningRate, beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon, beta1Power, beta2Power },
        ) as tf.Tensor[];
        m.assign(newM);
        v.assign(newV);
        value.assign(newValue);
      });
      this.accBeta1.assign(tf.mul(this.accBeta1, this.beta1));
      this.accBeta2.assign(tf.mul(this.accBeta2, this.beta2));
    });
    this.incrementIterations();
  };
}
