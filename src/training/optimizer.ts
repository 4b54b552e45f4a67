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

/** An Adam or SGD (with momentum) optimizer; the learning rate is then set per step by the schedule. */
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

/** Copies the optimizer's slots (step counter, moments) for a checkpoint; `setOptimizerState` restores them. */
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

/**
 * Restores slots captured by getOptimizerState (the checkpoint's format, the only one). With
 * `variables`, checks that the slots fit them (one group of slots per slot kind, each shaped like
 * its variable) before touching the optimizer, so a checkpoint of another model is refused.
 */
export async function setOptimizerState(opt: tf.Optimizer, state: OptimizerState, variables?: readonly tf.Variable[]): Promise<void> {
  const n = state.names.length;
  if (state.shapes.length !== n || state.dtypes.length !== n || state.values.length !== n) {
    throw new Error(`optimizer state is inconsistent: ${n} names, ${state.shapes.length} shapes, ${state.values.length} values`);
  }
  state.values.forEach((v, i) => {
    const size = state.shapes[i]!.reduce((a, b) => a * b, 1);
    if (v.length !== size) throw new Error(`optimizer slot ${state.names[i]} has ${v.length} values for shape [${state.shapes[i]}]`);
  });
  if (variables) {
    // Slots other than the 'iter' count come in groups (one per variable per slot kind).
    const slots = state.names.map((name, i) => ({ name, shape: state.shapes[i]! })).filter((s) => s.name !== 'iter');
    if (variables.length === 0 ? slots.length > 0 : slots.length % variables.length !== 0) {
      throw new Error(`optimizer state has ${slots.length} slots, which does not fit ${variables.length} variables`);
    }
    slots.forEach((slot, j) => {
      const v = variables[j % variables.length]!;
      if (slot.shape.join(',') !== v.shape.join(',')) {
        throw new Error(`optimizer slot ${slot.name} has shape [${slot.shape}] but variable ${v.name} has [${v.shape}]`);
      }
    });
  }
  const named = state.names.map((name, i) => ({
    name,
    tensor: tf.tensor(state.values[i]!, state.shapes[i]!, state.dtypes[i] === 'int32' ? 'int32' : 'float32'),
  }));
  await opt.setWeights(named);
  // setWeights copies each tensor into a new variable, so the inputs can go.
  for (const t of named) t.tensor.dispose();
}
