/**
 * Classifier pre-training ("A Closer Look at Few-shot Classification", Chen et al. 2019; RFS,
 * Tian et al. 2020): the encoder plus a cosine classifier head over every training class (with
 * --rotate-classes, each rotation a class), softmax cross-entropy on uniformly drawn images.
 * Only the encoder is saved and validated (the head's classes are not the test classes), so the
 * result is an embedding model scored by cosine distance, and a starting point for episodic
 * fine-tuning (`--method protonet --init-from <this model>`).
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { CosineClassifier } from '../../models/layers/cosine_classifier.js';
import type { LabelledBatch } from '../../samplers/m_per_class_sampler.js';
import { UniformBatchSampler } from '../../samplers/uniform_batch_sampler.js';
import type { Rng } from '../../util/random.js';
import { embedTraining, type ImageBatchFn, type MethodOptions, type TrainingMethod } from './method.js';

export class ClassifierMethod implements TrainingMethod<LabelledBatch> {
  readonly name = 'classifier' as const;
  readonly score = 'negative-distance' as const;
  /** The head compares directions, so the embedding is scored by cosine distance. */
  readonly distance = 'cosine' as const;
  readonly settings: Record<string, unknown>;
  /** Encoder + head: what the optimiser updates and the checkpoint holds. */
  readonly trained: tfl.LayersModel;
  private readonly head: CosineClassifier;
  private sampler: { classIndices: number[][]; sampler: UniformBatchSampler } | null = null;

  constructor(
    readonly model: tfl.LayersModel,
    private readonly opts: MethodOptions,
  ) {
    const classes = opts.numClasses;
    if (classes === undefined || !Number.isInteger(classes) || classes < 2) {
      throw new Error(`--method classifier needs the number of training classes (>= 2), got ${classes}`);
    }
    if ((opts.withinGroupEpisodes ?? 0) > 0) throw new Error('classifier: --within-group-episodes does not apply (its batches are drawn uniformly over all images)');
    this.head = new CosineClassifier({ units: classes, name: 'cosine_classifier', ...(opts.seed !== undefined ? { seed: opts.seed } : {}) });
    const features = model.outputs[0]!;
    const flat = features.shape.length === 2 ? features : (tfl.layers.flatten().apply(features) as tfl.SymbolicTensor);
    this.trained = tfl.model({ inputs: model.inputs, outputs: this.head.apply(flat) as tfl.SymbolicTensor, name: 'classifier_pretraining' });
    this.settings = { batchSize: opts.batchSize, classes, head: 'cosine' };
  }

  sample(classIndices: number[][], rng: Rng): LabelledBatch {
    // The index table is built once per class list (the trainer passes the same one every step).
    if (this.sampler?.classIndices !== classIndices) this.sampler = { classIndices, sampler: new UniformBatchSampler(classIndices, this.opts.batchSize) };
    return this.sampler.sampler.sample(rng);
  }

  loss(batch: LabelledBatch, images: ImageBatchFn): tf.Scalar {
    const logits = this.head.apply(embedTraining(this.model, images(batch.indices), !this.opts.frozenEncoder)) as tf.Tensor2D;
    const onehot = tf.oneHot(tf.tensor1d(batch.labels, 'int32'), this.head.units);
    return tf.losses.softmaxCrossEntropy(onehot, logits) as tf.Scalar;
  }
}
