import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../../src/backend/select.js';
import { PairBinaryCrossEntropyLoss } from '../../src/losses/pair_binary_cross_entropy_loss.js';
import { ContrastiveLoss } from '../../src/losses/contrastive_loss.js';
import { TripletMarginLoss } from '../../src/losses/triplet_margin_loss.js';
import { PrototypicalLoss, classPrototypes } from '../../src/losses/prototypical_loss.js';
import { BatchAllMiner } from '../../src/miners/batch_all_miner.js';
import { BatchHardMiner } from '../../src/miners/batch_hard_miner.js';
import { SemiHardMiner } from '../../src/miners/semi_hard_miner.js';
import { EuclideanDistance } from '../../src/distances/euclidean_distance.js';
import { MeanReducer } from '../../src/reducers/mean_reducer.js';
import { AvgNonZeroReducer } from '../../src/reducers/avg_non_zero_reducer.js';
import { assertClose, scalar, values } from './helpers.js';

before(async () => {
  await selectBackend('cpu', { quiet: true });
});

test('reducers by hand', () => {
  const v = () => tf.tensor1d([0, 2, 0, 4]);
  assertClose(scalar(() => new MeanReducer().reduce(v())), 1.5); // (0+2+0+4)/4
  assertClose(scalar(() => new AvgNonZeroReducer().reduce(v())), 3); // (2+4)/2
  // mask keeps terms 0, 1 and 3: mean (0+2+4)/3 = 2; non-zero mean (2+4)/2 = 3
  assertClose(scalar(() => new MeanReducer().reduce(v(), tf.tensor1d([1, 1, 0, 1]))), 2);
  assertClose(scalar(() => new AvgNonZeroReducer().reduce(v(), tf.tensor1d([1, 0, 0, 1]))), 4); // only 4 kept
  // nothing to average -> 0, not NaN
  assertClose(scalar(() => new AvgNonZeroReducer().reduce(tf.zeros([3]))), 0);
  assertClose(scalar(() => new MeanReducer().reduce(v(), tf.zeros([4]))), 0);
});

test('pair binary cross-entropy by hand, stable for extreme logits', () => {
  const loss = new PairBinaryCrossEntropyLoss();
  // z=0,y=1: log 2 = 0.6931472
  // z=2,y=0: -log(1 - sigmoid(2)) = 2 + log(1 + e^-2) = 2.1269280
  // z=-3,y=0: -log(1 - sigmoid(-3)) = log(1 + e^-3) = 0.0485874
  // mean = 2.8686626 / 3 = 0.9562209
  assertClose(scalar(() => loss.compute(tf.tensor1d([0, 2, -3]), [1, 0, 0])), 0.9562209, 1e-5);
  // [n, 1] logits (the pair model's output shape) and tensor targets give the same
  assertClose(scalar(() => loss.compute(tf.tensor2d([[0], [2], [-3]]), tf.tensor1d([1, 0, 0]))), 0.9562209, 1e-5);
  // |z| = 100 on the wrong side: loss 100 each, not Infinity / NaN
  assertClose(scalar(() => loss.compute(tf.tensor1d([100, -100]), [0, 1])), 100, 1e-3);
  assert.throws(() => loss.compute(tf.tensor1d([1, 2]), [1]), /2 logits but 1 targets/);
});

test('contrastive loss on pairs by hand', () => {
  const loss = new ContrastiveLoss({ margin: 1 });
  // euclidean d = [5, 0.5, 1.0]; same = [1, 0, 0]
  // terms: 5^2 = 25; (1 - 0.5)^2 = 0.25; max(0, 1 - 1)^2 = 0 -> mean 25.25 / 3 = 8.4166667
  const v = scalar(() =>
    loss.computePairs(tf.zeros([3, 2]) as tf.Tensor2D, tf.tensor2d([[3, 4], [0.3, 0.4], [0.6, 0.8]]), [1, 0, 0]),
  );
  assertClose(v, 8.4166667, 1e-4);
});

test('contrastive loss on a labelled batch by hand', () => {
  // points 0:(0,0) 1:(3,4) label 0; 2:(1,0) 3:(0,2) label 1; margin 2.5
  // positive pairs (both orders): d^2(0,1) = 25, d^2(2,3) = 5 -> mean of [25,25,5,5] = 15
  // negative pairs: d(0,2)=1 -> 1.5^2 = 2.25; d(0,3)=2 -> 0.5^2 = 0.25; d(1,2)=4.47, d(1,3)=3.61 -> 0
  //   8 ordered negative pairs -> (2*2.25 + 2*0.25) / 8 = 0.625
  // total 15.625
  const loss = new ContrastiveLoss({ margin: 2.5 });
  assertClose(scalar(() => loss.compute(tf.tensor2d([[0, 0], [3, 4], [1, 0], [0, 2]]), [0, 0, 1, 1])), 15.625, 1e-4);
  assert.throws(() => loss.compute(tf.zeros([3, 2]) as tf.Tensor2D, [0, 1]), /3 embeddings but 2 labels/);
});

// 1-D embeddings 0, 1, 1.5, 3.2 (labels 0, 0, 1, 1) and 10 (label 2, no positive).
// Euclidean distances: d01=1, d02=1.5, d03=3.2, d12=0.5, d13=2.2, d23=1.7, d_4x >= 6.8.
const E = [[0], [1], [1.5], [3.2], [10]];
const L = [0, 0, 1, 1, 2];

test('triplet loss, batch-all, by hand', () => {
  // margin 1; triplets (a,p,n) with positive terms d(a,p) - d(a,n) + 1:
  // (0,1,2): 1-1.5+1 = 0.5   (0,1,3): 1-3.2+1 < 0
  // (1,0,2): 1-0.5+1 = 1.5   (1,0,3): 1-2.2+1 < 0
  // (2,3,0): 1.7-1.5+1 = 1.2 (2,3,1): 1.7-0.5+1 = 2.2
  // (3,2,0): 1.7-3.2+1 < 0   (3,2,1): 1.7-2.2+1 = 0.5
  // every triplet with negative 4 is < 0; 12 valid triplets, 5 non-zero, sum 5.9
  const d = new EuclideanDistance();
  const avg = new TripletMarginLoss({ distance: d, margin: 1, miner: new BatchAllMiner() });
  assertClose(scalar(() => avg.compute(tf.tensor2d(E), L)), 5.9 / 5, 1e-4, 'avg non-zero');
  const mean = new TripletMarginLoss({ distance: d, margin: 1, miner: new BatchAllMiner(), reducer: new MeanReducer() });
  assertClose(scalar(() => mean.compute(tf.tensor2d(E), L)), 5.9 / 12, 1e-4, 'mean');
});

test('triplet loss, batch-hard and semi-hard, by hand', () => {
  const d = new EuclideanDistance();
  // batch-hard, per anchor (farthest positive, nearest negative):
  // a0: 1 - 1.5 + 1 = 0.5; a1: 1 - 0.5 + 1 = 1.5; a2: 1.7 - 0.5 + 1 = 2.2; a3: 1.7 - 2.2 + 1 = 0.5; a4: no positive
  const hard = new TripletMarginLoss({ distance: d, margin: 1, miner: new BatchHardMiner(), reducer: new MeanReducer() });
  assertClose(scalar(() => hard.compute(tf.tensor2d(E), L)), 4.7 / 4, 1e-4, 'batch-hard');
  // semi-hard (margin 1), per (a,p): (0,1) n=2 (1 < 1.5 < 2): 0.5; (1,0) none in (1,2) -> nearest 0.5: 1.5;
  // (2,3) none in (1.7,2.7) -> nearest 0.5: 2.2; (3,2) n=1 (2.2 in (1.7,2.7)): 0.5
  const semi = new TripletMarginLoss({ distance: d, margin: 1, miner: new SemiHardMiner(), reducer: new MeanReducer() });
  assertClose(scalar(() => semi.compute(tf.tensor2d(E), L)), 4.7 / 4, 1e-4, 'semi-hard');
});

test('triplet loss defaults to squared L2, margin 0.2; explicit triplets by hand', () => {
  const loss = new TripletMarginLoss();
  assert.equal(loss.distance.name, 'sqeuclidean');
  assert.equal(loss.margin, 0.2);
  // row 0: |0-1|^2 - |0-1.5|^2 + 0.2 = 1 - 2.25 + 0.2 < 0 -> 0
  // row 1: |0-2|^2 - |0-1|^2 + 0.2 = 4 - 1 + 0.2 = 3.2
  const a = () => tf.tensor2d([[0], [0]]);
  const p = () => tf.tensor2d([[1], [2]]);
  const n = () => tf.tensor2d([[1.5], [1]]);
  assertClose(scalar(() => loss.computeTriplets(a(), p(), n())), 3.2, 1e-5, 'avg non-zero'); // one non-zero term
  const mean = new TripletMarginLoss({ reducer: new MeanReducer() });
  assertClose(scalar(() => mean.computeTriplets(a(), p(), n())), 1.6, 1e-5, 'mean');
  // normalised embeddings: (1,0) vs (0,2) -> unit vectors (1,0), (0,1): squared distance 2
  const norm = new TripletMarginLoss({ normalizeEmbeddings: true, margin: 0, reducer: new MeanReducer() });
  // d(a,p) = |(1,0)-(0,1)|^2 = 2, d(a,n) = |(1,0)-(1,0)|^2 = 0 -> 2 - 0 + 0 = 2
  assertClose(scalar(() => norm.computeTriplets(tf.tensor2d([[1, 0]]), tf.tensor2d([[0, 2]]), tf.tensor2d([[3, 0]]))), 2, 1e-5, 'normalized');
});

test('prototypical loss and accuracy by hand', () => {
  // support: class 0 at 0 and 2 -> prototype 1; class 1 at 4 and 6 -> prototype 5
  const support = () => tf.tensor2d([[0], [2], [4], [6]]);
  const sLabels = [0, 0, 1, 1];
  assertClose(values(() => classPrototypes(support(), sLabels)), [1, 5], 1e-6, 'prototypes');
  // queries 1 (class 0), 4 (class 1), 2 (labelled class 1: misclassified)
  // logits = -squared distances: q=1: [0, -16]; q=4: [-9, -1]; q=2: [-1, -9]
  // CE: log(1 + e^-16) = 1.1e-7; log(1 + e^-8) = 0.00033541; 8 + log(1 + e^-8) = 8.00033541
  // mean = 8.00067094 / 3 = 2.66689031; accuracy 2/3
  const loss = new PrototypicalLoss();
  const r = loss.computeWithAccuracy(support(), sLabels, tf.tensor2d([[1], [4], [2]]), [0, 1, 1]);
  assertClose(r.loss.dataSync(), [2.66689031], 1e-4, 'loss');
  assertClose(r.accuracy.dataSync(), [2 / 3], 1e-6, 'accuracy');
  tf.dispose([r.loss, r.accuracy]);
  assertClose(scalar(() => loss.compute(support(), sLabels, tf.tensor2d([[1], [4], [2]]), [0, 1, 1])), 2.66689031, 1e-4);
  assert.throws(() => classPrototypes(support(), [0, 0, 0, 0], 2), /empty support set for class 1/);
  assert.throws(() => classPrototypes(tf.zeros([0, 1]) as tf.Tensor2D, []), /empty support set/);
  assert.throws(() => loss.compute(support(), sLabels, tf.tensor2d([[1]]), [5]), /query label 5 outside 0..1/);
});

test('every loss is differentiable and leaks no tensor when repeated', () => {
  const x = tf.variable(tf.tensor2d([[0.1, 0.3], [0.2, -0.4], [1.1, 0.5], [0.9, 0.2], [-1, 0], [-1.2, 0.3]]));
  const labels = [0, 0, 1, 1, 2, 2];
  const half = (t: tf.Tensor2D, from: number) => tf.slice(t, [from, 0], [3, 2]) as tf.Tensor2D;
  const losses: [string, () => tf.Scalar][] = [
    ['pair-bce', () => new PairBinaryCrossEntropyLoss().compute(tf.sum(x, 1), [1, 0, 1, 0, 1, 0])],
    ['contrastive pairs', () => new ContrastiveLoss().computePairs(half(x, 0), half(x, 3), [1, 0, 1])],
    ['contrastive batch', () => new ContrastiveLoss().compute(x, labels)],
    ['triplet batch-all', () => new TripletMarginLoss({ margin: 1 }).compute(x, labels)],
    ['triplet batch-hard', () => new TripletMarginLoss({ margin: 1, miner: new BatchHardMiner() }).compute(x, labels)],
    ['triplet semi-hard', () => new TripletMarginLoss({ margin: 1, miner: new SemiHardMiner() }).compute(x, labels)],
    ['triplet explicit', () => new TripletMarginLoss({ margin: 1 }).computeTriplets(half(x, 0), half(x, 0), half(x, 3))],
    ['protonet', () => new PrototypicalLoss().compute(half(x, 0), [0, 1, 2], half(x, 3), [0, 1, 2])],
  ];
  for (const [name, f] of losses) {
    const step = () => {
      const { value, grads } = tf.variableGrads(f, [x]);
      const g = grads[x.name]!.dataSync();
      assert.ok(g.every(Number.isFinite), `${name}: non-finite gradient`);
      assert.ok(g.some((v) => v !== 0), `${name}: zero gradient`);
      assert.ok(Number.isFinite(value.dataSync()[0]!), `${name}: non-finite loss`);
      tf.dispose([value, ...Object.values(grads)]);
    };
    step(); // warm-up: first calls may allocate backend constants
    const before = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) step();
    assert.equal(tf.memory().numTensors, before, `${name}: tensors leaked across repeated computations`);
  }
  x.dispose();
});
