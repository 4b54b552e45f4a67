import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assign, assignArgmax, assignHungarian } from '../../src/evaluation/assignment.js';
import { Rng } from '../../src/util/random.js';

// Hand-checked: the six matchings score 0.9+0.2+0.6=1.7, 0.9+0.3+0.7=1.9, 0.8+0.85+0.6=2.25,
// 0.8+0.3+0.1=1.2, 0.1+0.85+0.7=1.65, 0.1+0.2+0.1=0.4. The best one-to-one matching is
// [1, 0, 2] (2.25); argmax picks [0, 0, 1], two test images on training image 0.
const SIMS = [
  [0.9, 0.8, 0.1],
  [0.85, 0.2, 0.3],
  [0.1, 0.7, 0.6],
];

test('argmax vs Hungarian on a hand-checked 3x3 similarity matrix', () => {
  assert.deepEqual(assignArgmax(SIMS), [0, 0, 1]);
  assert.deepEqual(assignHungarian(SIMS), [1, 0, 2]);
  assert.deepEqual(assign(SIMS, 'argmax'), [0, 0, 1]);
  assert.deepEqual(assign(SIMS, 'hungarian'), [1, 0, 2]);
});

function permutations(n: number): number[][] {
  if (n === 1) return [[0]];
  return permutations(n - 1).flatMap((p) => Array.from({ length: n }, (_, i) => [...p.slice(0, i), n - 1, ...p.slice(i)]));
}

test('the Hungarian matching is a permutation with the largest total similarity (brute force, 6x6)', () => {
  const rng = new Rng(9);
  const all = permutations(6);
  for (let trial = 0; trial < 20; trial++) {
    const sims = Array.from({ length: 6 }, () => Array.from({ length: 6 }, () => rng.next() * 2 - 1));
    const total = (p: number[]): number => p.reduce((a, j, i) => a + sims[i]![j]!, 0);
    const got = assignHungarian(sims);
    assert.deepEqual([...got].sort(), [0, 1, 2, 3, 4, 5]);
    const best = Math.max(...all.map(total));
    assert.ok(Math.abs(total(got) - best) < 1e-9, `trial ${trial}: ${total(got)} < ${best}`);
  }
});

test('the Hungarian assignment refuses non-square and non-finite matrices', () => {
  assert.throws(() => assignHungarian([[1, 2, 3], [4, 5, 6]]), /square matrix: row 0 has 3 values, not 2/);
  assert.throws(() => assignHungarian([]), /at least one row/);
  assert.throws(() => assignHungarian([[1, NaN], [0, 1]]), /similarity \[0\]\[1\] is NaN/);
  assert.throws(() => assign(SIMS, 'nearest' as never), /unknown assignment 'nearest'/);
});
