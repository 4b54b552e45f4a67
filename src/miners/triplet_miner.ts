/**
 * A triplet miner picks, from a batch's distance matrix and labels, which (anchor, positive,
 * negative) triplets a triplet loss should use. It returns the two distances of each chosen triplet
 * and a 0/1 mask of valid ones, as tensors that broadcast together (shape depends on the miner).
 */
import type * as tf from '@tensorflow/tfjs-core';

export interface MinedTriplets {
  /** d(anchor, positive) for each triplet. */
  anchorPositive: tf.Tensor;
  /** d(anchor, negative) for each triplet. */
  anchorNegative: tf.Tensor;
  /** 1 for a real triplet, 0 for a slot that has none (e.g. an anchor without positives). */
  mask: tf.Tensor;
}

export interface TripletMiner {
  readonly name: string;
  /**
   * @param distances [n, n] distances between the batch's embeddings (smaller = more similar)
   * @param labels [n] int32 class labels
   * @param margin the loss's margin (semi-hard mining needs it)
   */
  mine(distances: tf.Tensor2D, labels: tf.Tensor1D, margin: number): MinedTriplets;
}

/** Larger than any distance in a batch; stands in for "not a candidate" in masked min / max. */
export const NOT_A_CANDIDATE = 1e30;
