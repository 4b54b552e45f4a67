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
