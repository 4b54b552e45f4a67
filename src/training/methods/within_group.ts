/**
 * Within-group batches: with probability `fraction`, a training batch draws all its classes from
 * one group (an Omniglot alphabet). Such batches hold the hard negatives of Lake et al.'s
 * within-alphabet one-shot runs. Shared by the protonet (episodes), pair (pairs), triplet and
 * contrastive (m-per-class batches) methods.
 */
import { MPerClassSampler, type LabelledBatch } from '../../samplers/m_per_class_sampler.js';
import type { Rng } from '../../util/random.js';

/**
 * The classes (index lists) a batch may use: all with >= `minImages` images, or, with
 * probability `fraction`, those of one group drawn in proportion to its usable classes.
 * The random draw happens on every call (even at fraction 0), so the step's random stream
 * does not depend on the setting.
 */
export function classesForBatch(
  classIndices: number[][],
  rng: Rng,
  fraction: number,
  minImages: number,
  classGroups?: readonly string[],
): number[][] {
  const usable = classIndices.filter((c) => c.length >= minImages);
  if (!(rng.next() < fraction) || !classGroups) return usable;
  const byGroup = new Map<string, number[][]>();
  classIndices.forEach((c, i) => {
    if (c.length < minImages) return;
    const g = classGroups[i] ?? '';
    if (!byGroup.has(g)) byGroup.set(g, []);
    byGroup.get(g)!.push(c);
  });
  const groups = [...byGroup.keys()].sort().filter((g) => byGroup.get(g)!.length >= 2);
  // Groups drawn in proportion to their size, as classes are in ordinary batches.
  const total = groups.reduce((a, g) => a + byGroup.get(g)!.length, 0);
  let r = rng.next() * total;
  const chosen = groups.find((g) => (r -= byGroup.get(g)!.length) < 0) ?? groups[groups.length - 1];
  return chosen !== undefined ? byGroup.get(chosen)! : usable;
}

/**
 * An m-per-class batch (triplet mining, contrastive), from one group with probability
 * `fraction`; a group smaller than `classesPerBatch` gives a smaller batch. At fraction 0 no
 * extra random number is drawn, so runs from before triplet and contrastive had the option
 * sample exactly the batches they did.
 */
export function mPerClassBatch(
  classIndices: number[][],
  rng: Rng,
  opts: { classesPerBatch: number; m: number; fraction: number },
  classGroups?: readonly string[],
): LabelledBatch {
  const classes = opts.fraction > 0 ? classesForBatch(classIndices, rng, opts.fraction, 2, classGroups) : classIndices;
  const classesPerBatch = Math.min(opts.classesPerBatch, classes.length);
  const batch = new MPerClassSampler(classes, { classesPerBatch, m: opts.m }, rng).sample();
  if (classes === classIndices) return batch;
  // The sampler labels by position in `classes`; a batch's labels are dataset class ids.
  const classId = new Map(classIndices.map((c, i) => [c, i]));
  return { indices: batch.indices, labels: batch.labels.map((l) => classId.get(classes[l]!)!) };
}
