/**
 * How the test images of a one-shot run are assigned to training images, from the similarity
 * matrix sims[test][training] (higher = more similar):
 *
 * - 'argmax': each test image independently takes its most similar training image. This is
 *   Lake et al.'s protocol and the only one used for headline numbers.
 * - 'hungarian': a transductive variant for runs with one test image per training image: the
 *   test images are matched one-to-one to the training images so that the total similarity is
 *   largest (Kuhn-Munkres, from the `munkres` package). It uses the knowledge that every
 *   training image is the answer of exactly one test image, so it is reported in its own column.
 */
import { munkres } from 'munkres';

export type RunAssignment = 'argmax' | 'hungarian';
export const RUN_ASSIGNMENTS: readonly RunAssignment[] = ['argmax', 'hungarian'];

/** For each row, the index of the chosen column. */
export function assign(sims: readonly (readonly number[])[], method: RunAssignment): number[] {
  if (method === 'argmax') return assignArgmax(sims);
  if (method === 'hungarian') return assignHungarian(sims);
  throw new Error(`unknown assignment '${String(method)}' (use ${RUN_ASSIGNMENTS.join(' or ')})`);
}

export function assignArgmax(sims: readonly (readonly number[])[]): number[] {
  return sims.map((row, i) => {
    if (row.length === 0) throw new Error(`similarity row ${i} is empty`);
    let best = 0;
    for (let j = 1; j < row.length; j++) if (row[j]! > row[best]!) best = j;
    return best;
  });
}

/** One-to-one matching with the largest total similarity; the matrix must be square. */
export function assignHungarian(sims: readonly (readonly number[])[]): number[] {
  const n = sims.length;
  if (n === 0) throw new Error('the Hungarian assignment needs at least one row');
  sims.forEach((row, i) => {
    if (row.length !== n) throw new Error(`the Hungarian assignment needs a square matrix: row ${i} has ${row.length} values, not ${n}`);
    row.forEach((v, j) => {
      if (!Number.isFinite(v)) throw new Error(`similarity [${i}][${j}] is ${v}`);
    });
  });
  // munkres minimises cost: the cost of a match is its negated similarity.
  const pairs = munkres(sims.map((row) => row.map((v) => -v)));
  const chosen = new Array<number>(n).fill(-1);
  for (const [row, col] of pairs) chosen[row] = col;
  if (chosen.some((c) => c < 0)) throw new Error('the Hungarian assignment left a row unmatched');
  return chosen;
}
