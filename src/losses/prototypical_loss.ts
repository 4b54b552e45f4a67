/**
 * Prototypical networks loss (Snell, Swersky & Zemel 2017): each class's prototype is the mean of
 * its support embeddings; a query's logits are minus its distances to the prototypes (squared
 * euclidean by default, as in the paper); the loss is the softmax cross-entropy of those logits.
 *
 * Prototypes are computed as a one-hot [way, nSupport] matrix times the support embeddings, not
 * by segment sums, so the gradient needs only matMul (available on every backend).
 */
import * as tf from '@tensorflow/tfjs-core';
import './register_gradients.js';
import type { Distance } from '../distances/distance.js';
import { SqEuclideanDistance } from '../distances/sq_euclidean_distance.js';
import { toLabelArray, type LabelsLike } from '../miners/label_masks.js';

export interface PrototypicalLossOptions {
  distance?: Distance;
}

export interface PrototypicalResult {
  loss: tf.Scalar;
  /** Fraction of queries whose nearest prototype is their own class. */
  accuracy: tf.Scalar;
}

/**
 * Class prototypes: the mean support embedding of each class 0..way-1 ([way, dim]).
 * Throws when a class has no support example.
 */
export function classPrototypes(support: tf.Tensor2D, supportLabels: LabelsLike, way?: number): tf.Tensor2D {
  const labels = toLabelArray(supportLabels);
  if (support.rank !== 2) throw new Error(`prototypes: support embeddings must be [n, dim], got shape [${support.shape}]`);
  if (labels.length !== support.shape[0]) {
    throw new Error(`prototypes: ${support.shape[0]} support embeddings but ${labels.length} labels`);
  }
  if (labels.length === 0) throw new Error('prototypes: empty support set');
  const nWay = way ?? Math.max(...labels) + 1;
  const counts = new Float32Array(nWay);
  const assign = new Float32Array(nWay * labels.length);
  labels.forEach((c, i) => {
    if (!(c >= 0 && c < nWay)) throw new Error(`prototypes: support label ${c} outside 0..${nWay - 1}`);
    counts[c]! += 1;
    assign[c * labels.length + i] = 1;
  });
  const empty = counts.findIndex((n) => n === 0);
  if (empty >= 0) throw new Error(`prototypes: empty support set for class ${empty}`);
  // Row c of the averaging matrix holds 1/count(c) at that class's support positions.
  for (let c = 0; c < nWay; c++) for (let i = 0; i < labels.length; i++) assign[c * labels.length + i]! /= counts[c]!;
  return tf.tidy(() => tf.matMul(tf.tensor2d(assign, [nWay, labels.length]), support) as tf.Tensor2D);
}

/** Prototypical networks' loss (Snell et al. 2017): softmax over negative distances of each query to the class prototypes (mean support embeddings). */
export class PrototypicalLoss {
  readonly name = 'protonet';
  readonly distance: Distance;

  constructor(opts: PrototypicalLossOptions = {}) {
    this.distance = opts.distance ?? new SqEuclideanDistance();
  }

  /** [nQuery, way] logits: minus the distance of each query to each class prototype. */
  logits(support: tf.Tensor2D, supportLabels: LabelsLike, query: tf.Tensor2D, way?: number): tf.Tensor2D {
    return tf.tidy(() => tf.neg(this.distance.pairwise(query, classPrototypes(support, supportLabels, way))) as tf.Tensor2D);
  }

  compute(support: tf.Tensor2D, supportLabels: LabelsLike, query: tf.Tensor2D, queryLabels: LabelsLike, way?: number): tf.Scalar {
    return tf.tidy(() => {
      const { loss, accuracy } = this.computeWithAccuracy(support, supportLabels, query, queryLabels, way);
      accuracy.dispose();
      return loss;
    });
  }

  /**
   * Loss and accuracy of one episode. Inside `optimizer.minimize` return `loss` and `tf.keep`
   * the accuracy (minimize's tidy would dispose it otherwise).
   */
  computeWithAccuracy(
    support: tf.Tensor2D,
    supportLabels: LabelsLike,
    query: tf.Tensor2D,
    queryLabels: LabelsLike,
    way?: number,
  ): PrototypicalResult {
    const sLabels = toLabelArray(supportLabels);
    const qLabels = toLabelArray(queryLabels);
    const nWay = way ?? Math.max(...sLabels) + 1;
    if (qLabels.length !== query.shape[0]) throw new Error(`protonet loss: ${query.shape[0]} queries but ${qLabels.length} labels`);
    if (qLabels.length === 0) throw new Error('protonet loss: no query examples');
    for (const c of qLabels) if (!(c >= 0 && c < nWay)) throw new Error(`protonet loss: query label ${c} outside 0..${nWay - 1}`);
    return tf.tidy(() => {
      const logits = this.logits(support, sLabels, query, nWay);
      const target = tf.oneHot(tf.tensor1d(qLabels, 'int32'), nWay);
      const loss = tf.neg(tf.mean(tf.sum(tf.mul(target, tf.logSoftmax(logits)), 1))) as tf.Scalar;
      const correct = tf.equal(tf.argMax(logits, 1), tf.tensor1d(qLabels, 'int32'));
      const accuracy = tf.mean(tf.cast(correct, 'float32')) as tf.Scalar;
      return { loss, accuracy };
    });
  }
}
