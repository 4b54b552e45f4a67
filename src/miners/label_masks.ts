/**
 * Label-equality masks. Mining with 0/1 masks (instead of gathering the selected rows) keeps the
 * training gradient to element-wise ops, matMul and reductions, which every backend differentiates
 * (the wasm backend has no UnsortedSegmentSum, the gradient of gather).
 */
import * as tf from '@tensorflow/tfjs-core';

/** Class labels as a tensor, a typed array or a plain array. */
export type LabelsLike = tf.Tensor1D | Int32Array | readonly number[];

/** The labels as an int32 [n] tensor (a new tensor; the caller's tensor is not consumed). */
export function toLabelTensor(labels: LabelsLike, who: string): tf.Tensor1D {
  if (labels instanceof tf.Tensor) {
    if (labels.rank !== 1) throw new Error(`${who}: labels must be rank-1, got shape [${labels.shape}]`);
    return tf.cast(labels, 'int32') as tf.Tensor1D;
  }
  return tf.tensor1d(Array.from(labels), 'int32');
}

/** Same-class pair targets (1 same, 0 different) as a float32 [n] tensor (a new tensor). */
export function toTargetTensor(same: tf.Tensor | Float32Array | readonly number[]): tf.Tensor1D {
  return same instanceof tf.Tensor ? (tf.cast(tf.reshape(same, [-1]), 'float32') as tf.Tensor1D) : tf.tensor1d(Array.from(same), 'float32');
}

/** The labels on the CPU, for validation and counting. */
export function toLabelArray(labels: LabelsLike): Int32Array {
  if (labels instanceof tf.Tensor) return Int32Array.from(labels.dataSync());
  return Int32Array.from(labels);
}

export interface LabelMasks {
  /** [n, n] 1 where labels[i] == labels[j] and i != j. */
  positive: tf.Tensor2D;
  /** [n, n] 1 where labels[i] != labels[j]. */
  negative: tf.Tensor2D;
}

/** Positive / negative pair masks (float32 0/1) for a batch of labels. */
export function labelMasks(labels: tf.Tensor1D): LabelMasks {
  return tf.tidy(() => {
    const n = labels.shape[0];
    const same = tf.cast(tf.equal(tf.reshape(labels, [n, 1]), tf.reshape(labels, [1, n])), 'float32');
    const positive = tf.sub(same, tf.eye(n)) as tf.Tensor2D;
    const negative = tf.sub(1, same) as tf.Tensor2D;
    return { positive, negative };
  });
}

/** Checks that embeddings and labels describe the same batch. */
export function checkBatch(embeddings: tf.Tensor, labels: tf.Tensor1D, who: string): void {
  if (embeddings.rank !== 2) throw new Error(`${who}: embeddings must be [n, dim], got shape [${embeddings.shape}]`);
  if (embeddings.shape[0] !== labels.shape[0]) {
    throw new Error(`${who}: ${embeddings.shape[0]} embeddings but ${labels.shape[0]} labels`);
  }
}
