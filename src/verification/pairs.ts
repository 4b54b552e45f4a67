/**
 * Genuine / impostor pairs for evaluating verification on a labelled set, and their scores.
 * Kept apart from the metrics: the metrics only see two lists of numbers.
 */
import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '../util/random.js';

export interface VerificationPairs {
  left: Int32Array;
  right: Int32Array;
  /** 1 genuine (same class), 0 impostor. */
  same: Uint8Array;
  /** True when the pairs are a random sample rather than every possible pair. */
  sampled: boolean;
}

/** Above this many impostor pairs, "all pairs" falls back to a sample of this size. */
export const MAX_ALL_IMPOSTOR_PAIRS = 100_000;

function checkLabels(labels: ArrayLike<number>): void {
  if (labels.length < 2) throw new Error(`verification pairs need at least 2 images, got ${labels.length}`);
  const classes = new Set<number>();
  for (let i = 0; i < labels.length; i++) classes.add(labels[i]!);
  if (classes.size < 2) throw new Error('verification pairs need images of at least 2 classes (no impostor pair otherwise)');
}

function indicesByLabel(labels: ArrayLike<number>): number[][] {
  const by = new Map<number, number[]>();
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i]!;
    if (!by.has(l)) by.set(l, []);
    by.get(l)!.push(i);
  }
  return [...by.values()];
}

/**
 * Every unordered same-class pair, and every different-class pair (or, beyond
 * MAX_ALL_IMPOSTOR_PAIRS, a seeded sample of that many).
 */
export function allPairs(labels: ArrayLike<number>, seed = 0): VerificationPairs {
  checkLabels(labels);
  const n = labels.length;
  const left: number[] = [];
  const right: number[] = [];
  const same: number[] = [];
  let impostorCount = 0;
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) if (labels[i] !== labels[j]) impostorCount++;
  const sampleImpostors = impostorCount > MAX_ALL_IMPOSTOR_PAIRS;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      if (labels[i] === labels[j]) {
        left.push(i); right.push(j); same.push(1);
      } else if (!sampleImpostors) {
        left.push(i); right.push(j); same.push(0);
      }
    }
  }
  if (left.length === 0 || !same.includes(1)) throw new Error('no class has 2 images: no genuine pair to evaluate');
  const out: VerificationPairs = { left: Int32Array.from(left), right: Int32Array.from(right), same: Uint8Array.from(same), sampled: false };
  if (!sampleImpostors) return out;
  const imp = sampledImpostors(labels, MAX_ALL_IMPOSTOR_PAIRS, new Rng(seed));
  return concat(out, imp, true);
}

/** `n` genuine and `n` impostor pairs drawn with a seeded Rng (with replacement across draws). */
export function sampledPairs(labels: ArrayLike<number>, n: number, seed: number): VerificationPairs {
  if (!(Number.isInteger(n) && n > 0)) throw new Error(`number of pairs must be a positive integer, got ${n}`);
  checkLabels(labels);
  const rng = new Rng(seed);
  const groups = indicesByLabel(labels).filter((g) => g.length >= 2);
  if (groups.length === 0) throw new Error('no class has 2 images: no genuine pair to evaluate');
  const left = new Int32Array(n);
  const right = new Int32Array(n);
  for (let k = 0; k < n; k++) {
    const g = groups[rng.int(groups.length)]!;
    const [a, b] = rng.sample(g, 2);
    left[k] = a!;
    right[k] = b!;
  }
  const gen: VerificationPairs = { left, right, same: new Uint8Array(n).fill(1), sampled: true };
  return concat(gen, sampledImpostors(labels, n, rng), true);
}

function sampledImpostors(labels: ArrayLike<number>, n: number, rng: Rng): VerificationPairs {
  const left = new Int32Array(n);
  const right = new Int32Array(n);
  for (let k = 0; k < n; k++) {
    let a = 0;
    let b = 0;
    do {
      a = rng.int(labels.length);
      b = rng.int(labels.length);
    } while (labels[a] === labels[b]);
    left[k] = a;
    right[k] = b;
  }
  return { left, right, same: new Uint8Array(n), sampled: true };
}

function concat(a: VerificationPairs, b: VerificationPairs, sampled: boolean): VerificationPairs {
  const cat = <T extends Int32Array | Uint8Array>(x: T, y: T, make: (n: number) => T): T => {
    const out = make(x.length + y.length);
    out.set(x, 0);
    out.set(y, x.length);
    return out;
  };
  return {
    left: cat(a.left, b.left, (n) => new Int32Array(n)),
    right: cat(a.right, b.right, (n) => new Int32Array(n)),
    same: cat(a.same, b.same, (n) => new Uint8Array(n)),
    sampled,
  };
}

/**
 * Similarity (higher = same) of every pair, given the embeddings of all images and a function
 * scoring one embedding against many (SiameseScorer.similarity). Pairs sharing a left image are
 * scored in one call.
 */
export function pairSimilarities(
  embeddings: readonly Float32Array[],
  pairs: VerificationPairs,
  similarity: (a: Float32Array, b: Float32Array[]) => number[],
): Float64Array {
  const out = new Float64Array(pairs.left.length);
  const byLeft = new Map<number, number[]>();
  for (let k = 0; k < pairs.left.length; k++) {
    const l = pairs.left[k]!;
    if (!byLeft.has(l)) byLeft.set(l, []);
    byLeft.get(l)!.push(k);
  }
  for (const [l, ks] of byLeft) {
    // tidy: whatever tensors the scorer leaves behind are freed here, call after call.
    const sims = tf.tidy(() => similarity(embeddings[l]!, ks.map((k) => embeddings[pairs.right[k]!]!)));
    ks.forEach((k, i) => { out[k] = sims[i]!; });
  }
  return out;
}

/** Splits pair scores into the genuine and impostor lists the metrics take. */
export function splitScores(scores: ArrayLike<number>, same: ArrayLike<number>): { genuine: number[]; impostor: number[] } {
  const genuine: number[] = [];
  const impostor: number[] = [];
  for (let k = 0; k < scores.length; k++) (same[k] ? genuine : impostor).push(scores[k]!);
  return { genuine, impostor };
}
