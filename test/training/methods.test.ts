import { test } from 'node:test';
import assert from 'node:assert/strict';
import { selectBackend } from '../../src/backend/select.js';
import { createEncoder } from '../../src/models/encoders/registry.js';
import { MPerClassSampler, type LabelledBatch } from '../../src/samplers/m_per_class_sampler.js';
import { ClassifierMethod } from '../../src/training/methods/classifier.js';
import { ContrastiveMethod } from '../../src/training/methods/contrastive.js';
import { PairMethod } from '../../src/training/methods/pair.js';
import { ProtonetMethod } from '../../src/training/methods/protonet.js';
import { TripletMethod } from '../../src/training/methods/triplet.js';
import { fitLogisticOnDistance } from '../../src/training/pair_head_init.js';
import { rotate90, withClassRotations } from '../../src/training/rotations.js';
import { Rng } from '../../src/util/random.js';
import { syntheticDataset } from './synthetic_omniglot.js';

await selectBackend('cpu', { quiet: true });
const opts = { batchSize: 8, way: 4, shot: 1, query: 1, classesPerBatch: 4, m: 2, miner: 'none' as const };

test('protonet within-group episodes take every class from one group (alphabet)', () => {
  const ds = syntheticDataset({ alphabets: 3, charactersPerAlphabet: 5, drawers: 3 });
  const method = new ProtonetMethod(createEncoder('tiny'), { ...opts, withinGroupEpisodes: 1 });
  const rng = new Rng(1);
  for (let i = 0; i < 20; i++) {
    const ep = method.sample(ds.indicesByClass(), rng, ds.classGroups);
    const groups = new Set([...ep.support].map((idx) => ds.classGroups[ds.labels[idx]!]));
    assert.equal(groups.size, 1);
    assert.equal(ep.classes.length, 4);
  }
  const mixed = new ProtonetMethod(createEncoder('tiny'), { ...opts, way: 6, withinGroupEpisodes: 0 });
  const ep = mixed.sample(ds.indicesByClass(), new Rng(2), ds.classGroups);
  assert.equal(ep.classes.length, 6); // more than one alphabet holds
});

test('pair within-group batches draw both images of every pair from one group', () => {
  const ds = syntheticDataset({ alphabets: 3, charactersPerAlphabet: 5, drawers: 3 });
  const method = new PairMethod(createEncoder('tiny'), { ...opts, batchSize: 16, withinGroupEpisodes: 1 });
  const groupOf = (idx: number) => ds.classGroups[ds.labels[idx]!];
  const rng = new Rng(4);
  for (let i = 0; i < 10; i++) {
    const b = method.sample(ds.indicesByClass(), rng, ds.classGroups);
    assert.equal(new Set([...b.left, ...b.right].map(groupOf)).size, 1);
    assert.equal(b.same.reduce((a, v) => a + v, 0), 8); // still balanced
  }
  const mixed = new PairMethod(createEncoder('tiny'), { ...opts, batchSize: 64, withinGroupEpisodes: 0 });
  const b = mixed.sample(ds.indicesByClass(), new Rng(5), ds.classGroups);
  assert.ok(new Set([...b.left, ...b.right].map(groupOf)).size > 1);
});

test('mined triplet and contrastive within-group batches take every class from one group', () => {
  const ds = syntheticDataset({ alphabets: 3, charactersPerAlphabet: 5, drawers: 3 });
  const groupOf = (idx: number) => ds.classGroups[ds.labels[idx]!];
  const mined = { ...opts, miner: 'semi-hard' as const, classesPerBatch: 8, m: 2 };
  const triplet = new TripletMethod(createEncoder('tiny'), { ...mined, withinGroupEpisodes: 1 });
  const contrastive = new ContrastiveMethod(createEncoder('tiny'), { ...mined, withinGroupEpisodes: 1 });
  const samplers: Array<[string, (rng: Rng) => LabelledBatch]> = [
    ['triplet', (rng) => {
      const b = triplet.sample(ds.indicesByClass(), rng, ds.classGroups);
      assert.ok(b.kind === 'mined');
      return b.batch;
    }],
    ['contrastive', (rng) => contrastive.sample(ds.indicesByClass(), rng, ds.classGroups)],
  ];
  for (const [name, sample] of samplers) {
    const rng = new Rng(6);
    for (let i = 0; i < 10; i++) {
      const batch = sample(rng);
      assert.equal(new Set([...batch.indices].map(groupOf)).size, 1, name);
      // An alphabet of 5 characters gives a 5-class batch, every class m times.
      assert.equal(batch.indices.length, 5 * 2, name);
      assert.equal(new Set(batch.labels).size, 5, name);
      batch.indices.forEach((idx, i) => assert.equal(batch.labels[i], ds.labels[idx], `${name}: labels are dataset class ids`));
    }
  }
  // At fraction 0 the batches are exactly those drawn before the option existed.
  const plain = new TripletMethod(createEncoder('tiny'), { ...mined, withinGroupEpisodes: 0 }).sample(ds.indicesByClass(), new Rng(7), ds.classGroups);
  const before = new MPerClassSampler(ds.indicesByClass(), { classesPerBatch: 8, m: 2 }, new Rng(7)).sample();
  assert.ok(plain.kind === 'mined');
  assert.deepEqual([...plain.batch.indices], [...before.indices]);
  assert.ok(new Set([...plain.batch.indices].map(groupOf)).size > 1);
});

test('within-group batches are refused where they mean nothing', () => {
  assert.throws(() => new TripletMethod(createEncoder('tiny'), { ...opts, miner: 'none', withinGroupEpisodes: 0.5 }), /needs a miner/);
  assert.throws(() => new ClassifierMethod(createEncoder('tiny'), { ...opts, numClasses: 4, withinGroupEpisodes: 0.5 }), /does not apply/);
});

test('the L1 pair-head initialisation recovers a known logistic relation', () => {
  // y ~ Bernoulli(sigmoid(6 - 2 x)) for x uniform in [0, 6]: the fit finds scale ~2, bias ~6.
  const rng = new Rng(11);
  const x: number[] = [];
  const y: number[] = [];
  for (let i = 0; i < 20000; i++) {
    const xi = rng.next() * 6;
    x.push(xi);
    y.push(rng.next() < 1 / (1 + Math.exp(-(6 - 2 * xi))) ? 1 : 0);
  }
  const fit = fitLogisticOnDistance(x, y);
  assert.ok(Math.abs(fit.scale - 2) < 0.15, `scale ${fit.scale}`);
  assert.ok(Math.abs(fit.bias - 6) < 0.45, `bias ${fit.bias}`);
  assert.throws(() => fitLogisticOnDistance([1], [1]), /at least 2/);
});

test('class rotations: 4x the classes, rotated pixels, one group per alphabet and rotation', () => {
  const px = Uint8Array.from([1, 2, 3, 4]); // 2x2: [[1,2],[3,4]]
  assert.deepEqual(Array.from(rotate90(px, 2, 1, 1)), [2, 4, 1, 3]); // 90 degrees counter-clockwise
  assert.deepEqual(Array.from(rotate90(px, 2, 1, 4)), [1, 2, 3, 4]);
  const ds = syntheticDataset({ alphabets: 2, charactersPerAlphabet: 3, drawers: 2 });
  const rot = withClassRotations(ds);
  assert.equal(rot.numClasses, 4 * ds.numClasses);
  assert.equal(rot.size, 4 * ds.size);
  assert.equal(new Set(rot.classGroups).size, 8);
  assert.deepEqual(rot.imagePixels(ds.size), rotate90(ds.imagePixels(0), 28, 1, 1));
});
