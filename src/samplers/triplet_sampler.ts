/**
 * Random triplets for the triplet loss without online mining: an anchor and a distinct positive of
 * one class (drawn uniformly among classes with >= 2 images), and a negative of another class.
 */
import type { Rng } from '../util/random.js';
import { checkClassIndices, classesWithAtLeast, pick, toRng, type ClassIndices } from './class_indices.js';

export interface TripletBatch {
  anchor: Int32Array;
  positive: Int32Array;
  negative: Int32Array;
}

export class TripletSampler {
  private readonly rng: Rng;
  private readonly withPairs: number[];
  private readonly nonEmpty: number[];

  constructor(
    private readonly classIndices: ClassIndices,
    _opts: Record<string, never> = {},
    rng: Rng | number = 0,
  ) {
    checkClassIndices(classIndices, 'TripletSampler');
    this.rng = toRng(rng);
    this.withPairs = classesWithAtLeast(classIndices, 2);
    this.nonEmpty = classesWithAtLeast(classIndices, 1);
    if (this.withPairs.length === 0) throw new Error('TripletSampler: no class has 2 or more images, so there is no anchor-positive pair');
    if (this.nonEmpty.length < 2) throw new Error('TripletSampler: needs at least 2 non-empty classes for negatives');
  }

  sample(n: number): TripletBatch {
    if (!Number.isInteger(n) || n < 1) throw new Error(`TripletSampler.sample: n must be a positive integer, got ${n}`);
    const anchor = new Int32Array(n);
    const positive = new Int32Array(n);
    const negative = new Int32Array(n);
    for (let k = 0; k < n; k++) {
      const c = pick(this.rng, this.withPairs);
      const [a, p] = this.rng.sample(this.classIndices[c]!, 2);
      let other = pick(this.rng, this.nonEmpty);
      while (other === c) other = pick(this.rng, this.nonEmpty);
      anchor[k] = a!;
      positive[k] = p!;
      negative[k] = pick(this.rng, this.classIndices[other]!);
    }
    return { anchor, positive, negative };
  }
}
