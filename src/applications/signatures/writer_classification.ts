/**
 * SigNet's writer-independent feature learning (Hafemann, Sabourin & Oliveira 2017, "Learning
 * features for offline handwritten signature verification using deep convolutional neural
 * networks"): the encoder is trained as a classifier of the development writers from their
 * genuine signatures (softmax over writers), and, for SigNet-F, with a second output that tells a
 * genuine signature from a skilled forgery (sigmoid), trained on the development writers' skilled
 * forgeries. Only the encoder is kept: its embedding is the feature the decisions work on (the
 * writers of the heads are not the writers verified later).
 *
 * Loss (SigNet-F): mean softmax cross-entropy over the genuine images of the batch (a forgery
 * belongs to no writer class) + forgeryWeight x mean sigmoid cross-entropy of the forgery output
 * over all its images; forgeryWeight 0 (or no forgeries in the batch) is plain SigNet.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { CosineClassifier } from '../../models/layers/cosine_classifier.js';
import type { Rng } from '../../util/random.js';
import type { signatureIndex } from './train.js';

export interface WriterBatch {
  /** Set indices: the genuine images first, then the skilled forgeries. */
  images: Int32Array;
  /** Writer class (position in the index's persons) of each genuine image. */
  writers: Int32Array;
  /** How many of `images` are skilled forgeries (the last ones). */
  forgeries: number;
}

/**
 * One batch: `genuine` genuine signatures drawn uniformly from every training writer's (labelled
 * with their writer) and `forgeries` skilled forgeries drawn uniformly (0: SigNet, no forgery
 * output). Drawn without replacement, capped at what the set has.
 */
export function sampleWriterBatch(index: ReturnType<typeof signatureIndex>, genuine: number, forgeries: number, rng: Rng): WriterBatch {
  if (index.persons.length < 2) throw new Error(`writer classification needs at least 2 training writers, got ${index.persons.length}`);
  const pool = index.genuine.flatMap((imgs, w) => imgs.map((img) => [img, w] as const));
  const forged = index.forged.flat();
  if (forgeries > 0 && forged.length === 0) throw new Error('SigNet-F training needs skilled forgeries of the training writers (forge/ folder), found none');
  const g = rng.sample(pool, Math.min(genuine, pool.length));
  const f = forgeries > 0 ? rng.sample(forged, Math.min(forgeries, forged.length)) : [];
  return { images: Int32Array.from([...g.map(([img]) => img), ...f]), writers: Int32Array.from(g.map(([, w]) => w)), forgeries: f.length };
}

/** The training-only outputs on the embedding: writer logits (cosine classifier) and a forgery logit. */
export class WriterClassificationHeads {
  readonly writer: CosineClassifier;
  readonly forgery: tfl.layers.Layer;
  /** Encoder + heads: its trainable weights are what the optimiser updates. */
  readonly trained: tfl.LayersModel;

  constructor(encoder: tfl.LayersModel, writers: number, seed: number) {
    this.writer = new CosineClassifier({ units: writers, name: 'writer_classifier', seed });
    this.forgery = tfl.layers.dense({ units: 1, kernelInitializer: tfl.initializers.glorotUniform({ seed: seed + 1 }), name: 'forgery_logit' });
    const emb = encoder.outputs[0]!;
    this.trained = tfl.model({
      inputs: encoder.inputs,
      outputs: [this.writer.apply(emb) as tfl.SymbolicTensor, this.forgery.apply(emb) as tfl.SymbolicTensor],
      name: 'signet_pretraining',
    });
  }

  /** The batch loss (see the module comment); must run inside optimizer.minimize. */
  loss(encoder: tfl.LayersModel, x: tf.Tensor4D, batch: WriterBatch, forgeryWeight: number): tf.Scalar {
    const emb = encoder.apply(x, { training: true }) as tf.Tensor2D;
    const n = batch.writers.length;
    const logits = this.writer.apply(tf.slice(emb, [0, 0], [n, -1])) as tf.Tensor2D;
    const writerLoss = tf.losses.softmaxCrossEntropy(tf.oneHot(tf.tensor1d(batch.writers, 'int32'), this.writer.units), logits) as tf.Scalar;
    if (batch.forgeries === 0 || forgeryWeight === 0) return writerLoss;
    return tf.add(writerLoss, tf.mul(this.forgeryLoss(emb, n), forgeryWeight));
  }

  /**
   * Mean sigmoid cross-entropy of the forgery output on embeddings whose first `genuine` rows are
   * genuine signatures and the rest skilled forgeries (also added to the contrastive recipe).
   */
  forgeryLoss(emb: tf.Tensor2D, genuine: number): tf.Scalar {
    const isForgery = tf.concat([tf.zeros([genuine, 1]), tf.ones([emb.shape[0] - genuine, 1])]);
    return tf.losses.sigmoidCrossEntropy(isForgery, this.forgery.apply(emb) as tf.Tensor2D) as tf.Scalar;
  }

  dispose(): void {
    for (const w of [...this.writer.weights, ...this.forgery.weights]) w.dispose();
  }
}
