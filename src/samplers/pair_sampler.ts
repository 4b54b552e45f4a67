/**
 * Balanced pairs for the Siamese pair model and the contrastive loss: half same-class pairs
 * (a class with >= 2 images, two distinct images of it), half different-class pairs (two distinct
 * classes, one image each), in random order. Classes are drawn uniformly, as in Koch et al. 2015,
 * so large classes do not dominate.
 */
import type { Rng } from '../util/random.js';
import { checkClassIndices, classesWithAtLeast, pick, toRng, type ClassIndices } from './class_indices.js';

export interface PairBatch {
  left: Int32Array;
  right: Int32Array;
  /** 1 when left and right are of the same class, 0 otherwise. */
  same: Float32Array;
}

export class PairSampler {
  private readonly rng: Rng;
  private readonly withPairs: number[];
  private readonly nonEmpty: number[];

  constructor(
    private readonly classIndices: ClassIndices,
    _opts: Record<string, never> = {},
    rng: Rng | number = 0,
  ) {
    checkClassIndices(classIndices, 'PairSampler');
    this.rng = toRng(rng);
    this.withPairs = classesWithAtLeast(classIndices, 2);
    this.nonEmpty = classesWithAtLeast(classIndices, 1);
    if (this.withPairs.length === 0) throw new Error('PairSampler: no class has 2 or more images, so there is no same-class pair');
    if (this.nonEmpty.length < 2) throw new Error('PairSampler: needs at least 2 non-empty classes for different-class pairs');
  }

  /** n pairs: floor(n/2) same-class and the rest different-class, shuffled. */
  sample(n: number): PairBatch {
    if (!Number.isInteger(n) || n < 1) throw new Error(`PairSampler.sample: n must be a positive integer, got ${n}`);
    const order = this.rng.shuffle(Array.from({ length: n }, (_, i) => i));
    const left = new Int32Array(n);
    const right = new Int32Array(n);
    const same = new Float32Array(n);
    const positives = Math.floor(n / 2);
    for (let k = 0; k < n; k++) {
      const slot = order[k]!;
      if (k < positives) {
        const [a, b] = this.rng.sample(this.classIndices[pick(this.rng, this.withPairs)]!, 2);
        left[slot] = a!;
        right[slot] = b!;
        same[slot] = 1;
      } else {
        const [ca, cb] = this.rng.sample(this.nonEmpty, 2);
        left[slot] = pick(this.rng, this.classIndices[ca!]!);
        right[slot] = pick(this.rng, this.classIndices[cb!]!);
      }
    }
    return { left, right, same };
  }
}
