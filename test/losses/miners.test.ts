import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../../src/backend/select.js';
import { BatchAllMiner } from '../../src/miners/batch_all_miner.js';
import { BatchHardMiner } from '../../src/miners/batch_hard_miner.js';
import { SemiHardMiner } from '../../src/miners/semi_hard_miner.js';
import { EuclideanDistance } from '../../src/distances/euclidean_distance.js';
import { assertClose } from './helpers.js';

before(async () => {
  await selectBackend('cpu', { quiet: true });
});

// 1-D embeddings 0, 1, 1.5, 3.2 (labels 0, 0, 1, 1) and 10 (label 2: no positive).
// d01=1, d02=1.5, d03=3.2, d04=10, d12=0.5, d13=2.2, d14=9, d23=1.7, d24=8.5, d34=6.8
const E = [[0], [1], [1.5], [3.2], [10]];
const L = [0, 0, 1, 1, 2];

function mine(miner: BatchAllMiner | BatchHardMiner | SemiHardMiner, margin: number) {
  return tf.tidy(() => {
    const e = tf.tensor2d(E);
    const d = new EuclideanDistance().pairwise(e, e);
    const m = miner.mine(d, tf.tensor1d(L, 'int32'), margin);
    const shape = tf.broadcastTo(m.mask, tf.broadcast_util.assertAndGetBroadcastShape(m.anchorPositive.shape, m.anchorNegative.shape)).shape;
    return {
      ap: tf.mul(tf.broadcastTo(m.anchorPositive, shape), m.mask),
      an: tf.mul(tf.broadcastTo(m.anchorNegative, shape), m.mask),
      mask: tf.broadcastTo(m.mask, shape),
    };
  });
}

const read = (t: tf.Tensor) => Array.from(t.dataSync());

test('batch-hard picks the farthest positive and nearest negative of each anchor', () => {
  const { ap, an, mask } = mine(new BatchHardMiner(), 1);
  // a0: p1 (1), n2 (1.5); a1: p0 (1), n2 (0.5); a2: p3 (1.7), n1 (0.5); a3: p2 (1.7), n1 (2.2); a4: none
  assertClose(read(mask), [1, 1, 1, 1, 0], 0, 'mask');
  assertClose(read(ap), [1, 1, 1.7, 1.7, 0], 1e-4, 'positive distances');
  assertClose(read(an), [1.5, 0.5, 0.5, 2.2, 0], 1e-4, 'negative distances');
  tf.dispose([ap, an, mask]);
});

test('semi-hard picks d(a,p) < d(a,n) < d(a,p) + margin, else the nearest negative', () => {
  const { ap, an, mask } = mine(new SemiHardMiner(), 1);
  // [a, p] entries; only (0,1), (1,0), (2,3), (3,2) are anchor-positive pairs.
  // (0,1): d_ap 1, semi-hard n2 at 1.5      (1,0): d_ap 1, none in (1, 2) -> nearest n2 at 0.5
  // (2,3): d_ap 1.7, none in (1.7, 2.7) -> nearest n1 at 0.5   (3,2): d_ap 1.7, semi-hard n1 at 2.2
  const expectMask = new Array(25).fill(0);
  const expectNeg = new Array(25).fill(0);
  for (const [a, p, dn] of [[0, 1, 1.5], [1, 0, 0.5], [2, 3, 0.5], [3, 2, 2.2]] as const) {
    expectMask[a * 5 + p] = 1;
    expectNeg[a * 5 + p] = dn;
  }
  assertClose(read(mask), expectMask, 0, 'mask');
  assertClose(read(an), expectNeg, 1e-4, 'chosen negatives');
  tf.dispose([ap, an, mask]);
  // With a larger margin (3) the semi-hard window of (1,0) is (1, 4): n3 at 2.2 qualifies and is chosen.
  const wide = mine(new SemiHardMiner(), 3);
  assertClose(read(wide.an)[1 * 5 + 0]!, 2.2, 1e-4, '(1,0) with margin 3');
  tf.dispose([wide.ap, wide.an, wide.mask]);
});

test('batch-all keeps exactly the valid (a, p, n) triplets', () => {
  const { mask } = mine(new BatchAllMiner(), 1);
  const m = read(mask);
  const valid: string[] = [];
  m.forEach((v, i) => {
    if (v) valid.push([Math.floor(i / 25), Math.floor(i / 5) % 5, i % 5].join(''));
  });
  // anchors 0,1 (class 0) with each other as positive and 2,3,4 as negatives; anchors 2,3 likewise with 0,1,4
  assert.deepEqual(valid, ['012', '013', '014', '102', '103', '104', '230', '231', '234', '320', '321', '324']);
  tf.dispose(mask);
});
