/**
 * Random triplets for the triplet loss without online mining: an anchor and a distinct positive of
 * one class (drawn uniformly among classes with >= 2 images), and a negative of another class.
 */
import type { Rng } from '../util/random.js';
import { ClassDraws, type ClassIndices } from './class_indices.js';

export interface TripletBatch {
  anchor: Int32Array;
  positive: Int32Array;
  negative: Int32Array;
}

/** Random (anchor, positive, negative) triplets from class indices (triplet training without a miner). */
export class TripletSampler {
  private readonly draws: ClassDraws;

  constructor(classIndices: ClassIndices, _opts: Record<string, never> = {}, rng: Rng | number = 0) {
    this.draws = new ClassDraws(classIndices, rng, 'TripletSampler');
  }

  sample(n: number): TripletBatch {
    if (!Number.isInteger(n) || n < 1) throw new Error(`TripletSampler.sample: n must be a positive integer, got ${n}`);
    const anchor = new Int32Array(n);
    const positive = new Int32Array(n);
    const negative = new Int32Array(n);
    for (let k = 0; k < n; k++) {
      const [c, a, p] = this.draws.sameClassPair();
      anchor[k] = a;
      positive[k] = p;
      negative[k] = this.draws.imageNotOfClass(c);
    }
    return { anchor, positive, negative };
  }
}
