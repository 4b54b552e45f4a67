/**
 * Optimizers: TF.js's own Adam and SGD-with-momentum, plus the two things the trainer needs
 * that TF.js does not expose uniformly: changing the learning rate per step (for schedules) and
 * saving / restoring the optimizer's slots (for `--resume`).
 */
import * as tf from '@tensorflow/tfjs-core';

export type OptimizerName = 'adam' | 'sgd';
export const OPTIMIZER_NAMES: readonly OptimizerName[] = ['adam', 'sgd'];

export interface OptimizerConfig {
  name: OptimizerName;
  lr: number;
  /** SGD momentum (0 = plain SGD). */
  momentum?: number;
}

export function createOptimizer(cfg: OptimizerConfig): tf.Optimizer {
  switch (cfg.name) {
    case 'adam':
      return tf.train.adam(cfg.lr);
    case 'sgd':
      // Momentum 0 still uses the momentum optimizer so that the state layout never changes.
      return tf.train.momentum(cfg.lr, cfg.momentum ?? 0.9);
    default:
      throw new Error(`unknown optimizer '${String(cfg.name)}' (use ${OPTIMIZER_NAMES.join(', ')})`);
  }
}

/** Sets the rate used by the next applyGradients call. */
export function setLearningRate(opt: tf.Optimizer, lr: number): void {
  // TF.js optimizers answer `instanceof` by duck typing (any optimizer is "an SGDOptimizer"),
  // so the class name decides.
  const kind = opt.getClassName();
  if (kind === 'SGD' || kind === 'Momentum') {
    // MomentumOptimizer extends SGDOptimizer; setLearningRate refreshes its cached scalar.
    (opt as tf.SGDOptimizer).setLearningRate(lr);
  } else if (kind === 'Adam') {
    // Adam reads `learningRate` on every update; TF.js declares it protected but has no setter.
    (opt as unknown as { learningRate: number }).learningRate = lr;
  } else {
    throw new Error(`cannot set the learning rate of ${opt.getClassName()}`);
  }
}

/** A serialisable copy of the optimizer's slots (iteration counter, moments / velocities). */
export interface OptimizerState {
  names: string[];
  shapes: number[][];
  dtypes: string[];
  values: Float32Array[];
}

export async function getOptimizerState(opt: tf.Optimizer): Promise<OptimizerState> {
  const weights = await opt.getWeights();
  const state: OptimizerState = { names: [], shapes: [], dtypes: [], values: [] };
  for (const w of weights) {
    state.names.push(w.name);
    state.shapes.push(w.tensor.shape.slice());
    state.dtypes.push(w.tensor.dtype);
    state.values.push(Float32Array.from(await w.tensor.data()));
  }
  // saveIterations() creates a fresh scalar each call; the slot variables belong to the optimizer.
  weights[0]?.tensor.dispose();
  return state;
}

export async function setOptimizerState(opt: tf.Optimizer, state: OptimizerState): Promise<void> {
  const named = state.names.map((name, i) => ({
    name,
    tensor: tf.tensor(state.values[i]!, state.shapes[i]!, state.dtypes[i] === 'int32' ? 'int32' : 'float32'),
  }));
  await opt.setWeights(named);
  // setWeights copies each tensor into a new variable, so the inputs can go.
  for (const n of named) n.tensor.dispose();
}
