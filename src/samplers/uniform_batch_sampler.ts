/**
 * Batches of images drawn uniformly from the whole training set, each with its class id: the
 * sampler of ordinary classification (pre-training a classifier over all training classes).
 * Distinct images within a batch; no per-class structure, unlike MPerClassSampler.
 */
import type { Rng } from '../util/random.js';
import { checkClassIndices, checkIntAtLeast, toRng, type ClassIndices } from './class_indices.js';
import type { LabelledBatch } from './m_per_class_sampler.js';

export class UniformBatchSampler {
  private readonly rng: Rng;
  private readonly images: Int32Array;
  private readonly labels: Int32Array;

  constructor(classIndices: ClassIndices, private readonly batchSize: number, rng: Rng | number = 0) {
    checkClassIndices(classIndices, 'UniformBatchSampler');
    checkIntAtLeast(batchSize, 1, 'UniformBatchSampler', 'batchSize');
    this.rng = toRng(rng);
    const total = classIndices.reduce((a, c) => a + c.length, 0);
    if (total < batchSize) throw new Error(`UniformBatchSampler: batchSize ${batchSize} is more than the ${total} images`);
    this.images = new Int32Array(total);
    this.labels = new Int32Array(total);
    let o = 0;
    classIndices.forEach((members, c) => {
      for (const i of members) {
        this.images[o] = i;
        this.labels[o++] = c;
      }
    });
  }

  /** One batch, drawn with `rng` (default: the sampler's own stream). */
  sample(rng: Rng = this.rng): LabelledBatch {
    // Partial Fisher-Yates over positions: batchSize distinct images without copying the index table.
    const n = this.images.length;
    const taken = new Map<number, number>();
    const indices = new Int32Array(this.batchSize);
    const labels = new Int32Array(this.batchSize);
    for (let i = 0; i < this.batchSize; i++) {
      const j = i + rng.int(n - i);
      const pos = taken.get(j) ?? j;
      taken.set(j, taken.get(i) ?? i);
      indices[i] = this.images[pos]!;
      labels[i] = this.labels[pos]!;
    }
    return { indices, labels };
  }
}
