/**
 * Batches of `classesPerBatch` classes x `m` images each, for online triplet mining and batch
 * contrastive loss: every anchor is guaranteed positives in the batch. Images of a class are drawn
 * without replacement when it has >= m, otherwise all of them and then repeats (as
 * pytorch-metric-learning's MPerClassSampler does).
 */
import type { Rng } from '../util/random.js';
import { checkClassIndices, checkIntAtLeast, classesWithAtLeast, pick, toRng, type ClassIndices } from './class_indices.js';

export interface MPerClassOptions {
  classesPerBatch: number;
  m: number;
}

export interface LabelledBatch {
  indices: Int32Array;
  /** The dataset class id of each image (classIndices position). */
  labels: Int32Array;
}

/** Batches of `classesPerBatch` classes with `m` images each, for losses that mine pairs or triplets inside the batch. */
export class MPerClassSampler {
  readonly classesPerBatch: number;
  readonly m: number;
  private readonly rng: Rng;
  private readonly eligible: number[];

  constructor(
    private readonly classIndices: ClassIndices,
    opts: MPerClassOptions,
    rng: Rng | number = 0,
  ) {
    checkClassIndices(classIndices, 'MPerClassSampler');
    this.rng = toRng(rng);
    const { classesPerBatch, m } = opts;
    checkIntAtLeast(classesPerBatch, 2, 'MPerClassSampler', 'classesPerBatch');
    checkIntAtLeast(m, 2, 'MPerClassSampler', 'm');
    this.classesPerBatch = classesPerBatch;
    this.m = m;
    this.eligible = classesWithAtLeast(classIndices, 2);
    if (this.eligible.length < classesPerBatch) {
      throw new Error(
        `MPerClassSampler: needs ${classesPerBatch} classes with >= 2 images each, only ${this.eligible.length} have`,
      );
    }
  }

  get batchSize(): number {
    return this.classesPerBatch * this.m;
  }

  sample(): LabelledBatch {
    const classes = this.rng.sample(this.eligible, this.classesPerBatch);
    const indices = new Int32Array(this.batchSize);
    const labels = new Int32Array(this.batchSize);
    classes.forEach((c, k) => {
      const members = this.classIndices[c]!;
      const chosen = this.rng.sample(members, Math.min(this.m, members.length));
      while (chosen.length < this.m) chosen.push(pick(this.rng, members));
      for (let j = 0; j < this.m; j++) {
        indices[k * this.m + j] = chosen[j]!;
        labels[k * this.m + j] = c;
      }
    });
    return { indices, labels };
  }
}
