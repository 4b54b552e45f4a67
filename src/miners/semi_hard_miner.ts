/**
 * Semi-hard mining (Schroff et al. 2015, FaceNet): for each (anchor, positive) pair, the nearest
 * negative that is still farther than the positive but inside the margin,
 *   d(a,p) < d(a,n) < d(a,p) + margin,
 * falling back to the anchor's hardest (nearest) negative when there is no such negative.
 * Tensors are [n, n] (anchor, positive).
 *
 * The choice of negative is discrete and carries no gradient, so it is made on the CPU from the
 * distance values (O(n^3) comparisons in a plain loop: ~2M for a 128-image batch). The chosen
 * distances are then picked out of the distance tensor by a one-hot batched matMul, which every
 * backend differentiates (wasm has no gradient for gather). Doing the selection with [n, n, n]
 * tensor ops instead cost about 20x the whole training step on the CPU backends.
 */
import * as tf from '@tensorflow/tfjs-core';
import { labelMasks } from './label_masks.js';
import type { MinedTriplets, TripletMiner } from './triplet_miner.js';

/** Triplets whose negative is farther than the positive but within the margin (Schroff et al. 2015, FaceNet). */
export class SemiHardMiner implements TripletMiner {
  readonly name = 'semi-hard';

  mine(distances: tf.Tensor2D, labels: tf.Tensor1D, margin: number): MinedTriplets {
    const n = labels.shape[0];
    const { onehot, valid } = chooseSemiHard(distances.dataSync() as Float32Array, labels.dataSync() as Int32Array, n, margin);
    return tf.tidy(() => {
      const { positive } = labelMasks(labels);
      const mask = tf.mul(positive, tf.tensor2d(valid, [n, n])); // [n, n]
      // chosen[a, p] = sum_b onehot[a, p, b] * d(a, b)
      const chosen = tf.reshape(tf.matMul(tf.tensor3d(onehot, [n, n, n]), tf.reshape(distances, [n, n, 1])), [n, n]);
      return { anchorPositive: tf.mul(distances, mask), anchorNegative: tf.mul(chosen, mask), mask };
    });
  }
}

/**
 * The negative of every (anchor, positive) pair: onehot[(a * n + p) * n + b] = 1 for the chosen b;
 * valid[a * n + p] = 1 where a and p share a class (a != p) and the anchor has a negative.
 */
function chooseSemiHard(d: Float32Array, y: Int32Array, n: number, margin: number): { onehot: Float32Array; valid: Float32Array } {
  const onehot = new Float32Array(n * n * n);
  const valid = new Float32Array(n * n);
  const negatives: number[] = [];
  for (let a = 0; a < n; a++) {
    negatives.length = 0;
    let hardest = -1;
    for (let b = 0; b < n; b++) {
      if (y[b] === y[a]) continue;
      negatives.push(b);
      if (hardest < 0 || d[a * n + b]! < d[a * n + hardest]!) hardest = b;
    }
    if (hardest < 0) continue;
    for (let p = 0; p < n; p++) {
      if (p === a || y[p] !== y[a]) continue;
      const dap = d[a * n + p]!;
      const upper = Math.fround(dap + margin); // the float32 window the tensor version used
      let best = -1;
      for (const b of negatives) {
        const dan = d[a * n + b]!;
        if (dan > dap && dan < upper && (best < 0 || dan < d[a * n + best]!)) best = b;
      }
      onehot[(a * n + p) * n + (best >= 0 ? best : hardest)] = 1;
      valid[a * n + p] = 1;
    }
  }
  return { onehot, valid };
}
