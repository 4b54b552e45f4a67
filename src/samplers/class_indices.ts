/**
 * Shared checks for samplers. A sampler sees a dataset only as `classIndices` (for each class, the
 * dataset indices of its images: `ImageDataset.indicesByClass()`), so it stays separate from the
 * data (easyfsl style) and is easy to test on made-up indices.
 */
import { Rng } from '../util/random.js';

export type ClassIndices = readonly (readonly number[])[];

export function checkClassIndices(classIndices: ClassIndices, who: string): void {
  if (!Array.isArray(classIndices)) throw new Error(`${who}: classIndices must be an array of index arrays`);
  classIndices.forEach((members, c) => {
    if (!Array.isArray(members)) throw new Error(`${who}: classIndices[${c}] is not an array`);
    for (const i of members) {
      if (!Number.isInteger(i) || i < 0) throw new Error(`${who}: classIndices[${c}] holds an invalid image index ${i}`);
    }
  });
}

/** Throws unless `value` is an integer >= `min` (a sampler option such as way or m). */
export function checkIntAtLeast(value: number, min: number, who: string, name: string): void {
  if (!Number.isInteger(value) || value < min) throw new Error(`${who}: ${name} must be an integer >= ${min}, got ${value}`);
}

/** Classes with at least `min` images. */
export function classesWithAtLeast(classIndices: ClassIndices, min: number): number[] {
  const out: number[] = [];
  classIndices.forEach((members, c) => {
    if (members.length >= min) out.push(c);
  });
  return out;
}

/** Accepts an Rng or a seed. */
export function toRng(rng: Rng | number): Rng {
  return typeof rng === 'number' ? new Rng(rng) : rng;
}

/** A uniformly chosen element of a non-empty array. */
export function pick<T>(rng: Rng, a: readonly T[]): T {
  return a[rng.int(a.length)]!;
}

/**
 * Uniform draws over classes shared by the pair and triplet samplers: a same-class pair of distinct
 * images, and images of different classes. Classes are drawn uniformly (Koch et al. 2015), so large
 * classes do not dominate.
 */
export class ClassDraws {
  readonly rng: Rng;
  private readonly withPairs: number[];
  private readonly nonEmpty: number[];

  constructor(private readonly classIndices: ClassIndices, rng: Rng | number, who: string) {
    checkClassIndices(classIndices, who);
    this.rng = toRng(rng);
    this.withPairs = classesWithAtLeast(classIndices, 2);
    this.nonEmpty = classesWithAtLeast(classIndices, 1);
    if (this.withPairs.length === 0) throw new Error(`${who}: no class has 2 or more images, so there is no same-class pair`);
    if (this.nonEmpty.length < 2) throw new Error(`${who}: needs at least 2 non-empty classes for different-class images`);
  }

  /** A class with >= 2 images and two distinct images of it: [class, first, second]. */
  sameClassPair(): [number, number, number] {
    const c = pick(this.rng, this.withPairs);
    const [a, b] = this.rng.sample(this.classIndices[c]!, 2);
    return [c, a!, b!];
  }

  /** One image each of two distinct classes. */
  differentClassPair(): [number, number] {
    const [ca, cb] = this.rng.sample(this.nonEmpty, 2);
    return [pick(this.rng, this.classIndices[ca!]!), pick(this.rng, this.classIndices[cb!]!)];
  }

  /** An image of any class but `c`. */
  imageNotOfClass(c: number): number {
    let other = pick(this.rng, this.nonEmpty);
    while (other === c) other = pick(this.rng, this.nonEmpty);
    return pick(this.rng, this.classIndices[other]!);
  }
}
