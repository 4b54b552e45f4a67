/**
 * A training method = how to build the trained model, how to sample one batch with the
 * samplers, and how to turn that batch into a loss. The trainer owns everything else
 * (optimizer, schedule, validation, checkpoints), so methods stay small and comparable.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { DistanceName } from '../../distances/distance.js';
import type { Rng } from '../../util/random.js';

export type MethodName = 'pair' | 'contrastive' | 'triplet' | 'protonet' | 'classifier';
export const METHOD_NAMES: readonly MethodName[] = ['pair', 'contrastive', 'triplet', 'protonet', 'classifier'];

export type MinerName = 'batch-all' | 'batch-hard' | 'semi-hard' | 'none';
export const MINER_NAMES: readonly MinerName[] = ['batch-all', 'batch-hard', 'semi-hard', 'none'];

/** Batch shape and loss settings of the training methods (each method reads the fields it needs). */
export interface MethodOptions {
  /** pair / contrastive: pairs per batch; triplet without miner: triplets per batch; classifier: images per batch. */
  batchSize: number;
  /** protonet: episode shape. */
  way: number;
  shot: number;
  query: number;
  /** contrastive / triplet with a miner: classes per batch x images per class. */
  classesPerBatch: number;
  m: number;
  margin?: number;
  distance?: DistanceName;
  miner: MinerName;
  /**
   * protonet / pair / mined triplet / contrastive: fraction of episodes (batches) whose classes
   * all come from one group (alphabet). Such batches hold the hard negatives of Lake's
   * within-alphabet test (default 0).
   */
  withinGroupEpisodes?: number;
  /** classifier: the number of training classes (the head's outputs); the trainer sets it from the data. */
  numClasses?: number;
  /** Seed of the weights a method adds to the encoder (the classifier's head); the trainer passes the run's seed. */
  seed?: number;
  /** The trainer trains only the method's own head (`--freeze-encoder`): run the encoder in inference mode. */
  frozenEncoder?: boolean;
}

/** Gives the float image batch [n, h, w, c] for dataset indices (augmented when training). */
export type ImageBatchFn = (indices: Int32Array) => tf.Tensor4D;

export interface TrainingMethod<Batch = unknown> {
  readonly name: MethodName;
  /** The model that is validated and saved (pair model for 'pair', else the encoder). */
  readonly model: tfl.LayersModel;
  /**
   * The model the optimiser updates and the checkpoint holds, when it is more than `model`
   * (classifier: encoder + classification head, which is dropped when saving). Default `model`.
   */
  readonly trained?: tfl.LayersModel;
  readonly score: 'pair-probability' | 'negative-distance';
  /** Distance used to score embedding models at inference time. */
  readonly distance?: DistanceName;
  /** Method settings worth recording in the model's metadata. */
  readonly settings: Record<string, unknown>;
  /** Draws one batch (dataset indices and labels only; no tensors); classGroups[c] is class c's group. */
  sample(classIndices: number[][], rng: Rng, classGroups?: readonly string[]): Batch;
  /** The loss of a batch; called inside optimizer.minimize, so it must be differentiable. */
  loss(batch: Batch, images: ImageBatchFn): tf.Scalar;
}

/**
 * Runs the encoder in training mode (batch-norm uses batch statistics and updates its averages);
 * a frozen encoder (`training` false) runs as at inference.
 */
export function embedTraining(encoder: tfl.LayersModel, x: tf.Tensor4D, training = true): tf.Tensor2D {
  const y = encoder.apply(x, { training }) as tf.Tensor;
  return (y.rank === 2 ? y : tf.reshape(y, [y.shape[0]!, -1])) as tf.Tensor2D;
}

/** Concatenates index lists so that one encoder call (one batch-norm batch) serves them all. */
export function concatIndices(...parts: Int32Array[]): Int32Array {
  const out = new Int32Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
