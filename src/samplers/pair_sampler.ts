/**
 * Balanced pairs for the Siamese pair model and the contrastive loss: half same-class pairs
 * (a class with >= 2 images, two distinct images of it), half different-class pairs (two distinct
 * classes, one image each), in random order. Classes are drawn uniformly, as in Koch et al. 2015,
 * so large classes do not dominate.
 */
import type { Rng } from '../util/random.js';
import { ClassDraws, type ClassIndices } from './class_indices.js';

export interface PairBatch {
  left: Int32Array;
  right: Int32Array;
  /** 1 when left and right are of the same class, 0 otherwise. */
  same: Float32Array;
}

/** Balanced same-class / different-class image pairs from class indices (pair and contrastive training). */
export class PairSampler {
  private readonly draws: ClassDraws;

  constructor(classIndices: ClassIndices, _opts: Record<string, never> = {}, rng: Rng | number = 0) {
    this.draws = new ClassDraws(classIndices, rng, 'PairSampler');
  }

  /** n pairs: floor(n/2) same-class and the rest different-class, shuffled. */
  sample(n: number): PairBatch {
    if (!Number.isInteger(n) || n < 1) throw new Error(`PairSampler.sample: n must be a positive integer, got ${n}`);
    const order = this.draws.rng.shuffle(Array.from({ length: n }, (_, i) => i));
    const left = new Int32Array(n);
    const right = new Int32Array(n);
    const same = new Float32Array(n);
    const positives = Math.floor(n / 2);
    for (let k = 0; k < n; k++) {
      const slot = order[k]!;
      if (k < positives) {
        [, left[slot], right[slot]] = this.draws.sameClassPair();
        same[slot] = 1;
      } else {
        [left[slot], right[slot]] = this.draws.differentClassPair();
      }
    }
    return { left, right, same };
  }
}
