import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/util/random.js';
import { PairSampler } from '../../src/samplers/pair_sampler.js';
import { TripletSampler } from '../../src/samplers/triplet_sampler.js';
import { EpisodeSampler } from '../../src/samplers/episode_sampler.js';
import { MPerClassSampler } from '../../src/samplers/m_per_class_sampler.js';
import { UniformBatchSampler } from '../../src/samplers/uniform_batch_sampler.js';

/** 6 classes of sizes 5, 6, ..., 10 with distinct, shuffled image indices. */
function makeClasses(): number[][] {
  const sizes = [5, 6, 7, 8, 9, 10];
  const ids = new Rng(123).shuffle(Array.from({ length: sizes.reduce((a, b) => a + b) }, (_, i) => i));
  let k = 0;
  return sizes.map((n) => ids.slice(k, (k += n)));
}

const classes = makeClasses();
const classOf = new Map<number, number>();
classes.forEach((members, c) => members.forEach((i) => classOf.set(i, c)));

test('PairSampler: balanced, labels match classes, positives are distinct images', () => {
  const { left, right, same } = new PairSampler(classes, {}, new Rng(1)).sample(101);
  assert.equal(left.length, 101);
  assert.equal(same.reduce((a, b) => a + b, 0), 50); // floor(101 / 2) positives
  for (let i = 0; i < 101; i++) {
    const sameClass = classOf.get(left[i]!) === classOf.get(right[i]!);
    assert.equal(same[i], sameClass ? 1 : 0, `pair ${i}`);
    if (sameClass) assert.notEqual(left[i], right[i], `positive pair ${i} uses one image twice`);
  }
  // positives and negatives are interleaved, not all first
  assert.ok(Array.from(same.slice(0, 50)).some((v) => v === 0));
});

test('PairSampler: deterministic by seed, different across seeds', () => {
  const a = new PairSampler(classes, {}, new Rng(5)).sample(20);
  const b = new PairSampler(classes, {}, new Rng(5)).sample(20);
  const c = new PairSampler(classes, {}, new Rng(6)).sample(20);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a.left, c.left);
});

test('PairSampler: clear errors', () => {
  assert.throws(() => new PairSampler([[1], [2], [3]], {}, 0), /no class has 2 or more images/);
  assert.throws(() => new PairSampler([[1, 2, 3]], {}, 0), /at least 2 non-empty classes/);
  assert.throws(() => new PairSampler(classes, {}, 0).sample(0), /positive integer/);
  assert.throws(() => new PairSampler([[1, -2]], {}, 0), /invalid image index -2/);
});

test('TripletSampler: anchor/positive share a class, negative does not', () => {
  const { anchor, positive, negative } = new TripletSampler(classes, {}, new Rng(2)).sample(200);
  for (let i = 0; i < 200; i++) {
    assert.notEqual(anchor[i], positive[i]);
    assert.equal(classOf.get(anchor[i]!), classOf.get(positive[i]!));
    assert.notEqual(classOf.get(anchor[i]!), classOf.get(negative[i]!));
  }
  assert.deepEqual(new TripletSampler(classes, {}, 9).sample(10), new TripletSampler(classes, {}, 9).sample(10));
  assert.throws(() => new TripletSampler([[1], [2]], {}, 0), /no class has 2 or more images/);
  assert.throws(() => new TripletSampler([[1, 2], []], {}, 0), /at least 2 non-empty classes/);
});

test('EpisodeSampler: counts, distinct classes, disjoint support/query, grouped labels', () => {
  const sampler = new EpisodeSampler(classes, { way: 4, shot: 2, query: 3 }, new Rng(3));
  for (let e = 0; e < 20; e++) {
    const ep = sampler.sample();
    assert.equal(ep.classes.length, 4);
    assert.equal(new Set(ep.classes).size, 4);
    assert.equal(ep.support.length, 8);
    assert.equal(ep.query.length, 12);
    assert.deepEqual(Array.from(ep.supportLabels), [0, 0, 1, 1, 2, 2, 3, 3]);
    assert.deepEqual(Array.from(ep.queryLabels), [0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3]);
    const supportSet = new Set(ep.support);
    assert.equal(supportSet.size, 8, 'support repeats an image');
    assert.equal(new Set(ep.query).size, 12, 'query repeats an image');
    for (const q of ep.query) assert.ok(!supportSet.has(q), 'an image is both support and query');
    ep.support.forEach((img, i) => assert.equal(classOf.get(img), ep.classes[ep.supportLabels[i]!]));
    ep.query.forEach((img, i) => assert.equal(classOf.get(img), ep.classes[ep.queryLabels[i]!]));
  }
});

test('EpisodeSampler: deterministic by seed; covers all classes over many episodes', () => {
  const a = new EpisodeSampler(classes, { way: 3, shot: 1, query: 1 }, 42);
  const b = new EpisodeSampler(classes, { way: 3, shot: 1, query: 1 }, 42);
  const seen = new Set<number>();
  for (let i = 0; i < 30; i++) {
    const x = a.sample();
    assert.deepEqual(x, b.sample());
    x.classes.forEach((c) => seen.add(c));
  }
  assert.equal(seen.size, classes.length);
});

test('EpisodeSampler: clear errors for small classes and too few classes', () => {
  assert.throws(
    () => new EpisodeSampler(classes, { way: 3, shot: 5, query: 1, classNames: ['alpha', 'beta'] }, 0),
    /class alpha has 5 images, fewer than shot \+ query = 6/,
  );
  // skipping small classes: only 4 classes have >= 7 images, so 5-way is impossible
  assert.throws(
    () => new EpisodeSampler(classes, { way: 5, shot: 5, query: 2, skipSmallClasses: true }, 0),
    /5-way episodes need 5 classes with >= 7 images each, only 4 have/,
  );
  const ok = new EpisodeSampler(classes, { way: 4, shot: 5, query: 2, skipSmallClasses: true }, 0).sample();
  assert.ok(ok.classes.every((c) => classes[c]!.length >= 7));
  assert.throws(() => new EpisodeSampler(classes, { way: 7, shot: 1, query: 1 }, 0), /7-way episodes need 7 classes/);
  assert.throws(() => new EpisodeSampler(classes, { way: 1, shot: 1, query: 1 }, 0), /way must be an integer >= 2/);
  assert.throws(() => new EpisodeSampler(classes, { way: 2, shot: 0, query: 1 }, 0), /shot must be/);
});

test('MPerClassSampler: classesPerBatch classes x m images, labels are class ids', () => {
  const sampler = new MPerClassSampler(classes, { classesPerBatch: 3, m: 4 }, new Rng(4));
  assert.equal(sampler.batchSize, 12);
  for (let i = 0; i < 10; i++) {
    const { indices, labels } = sampler.sample();
    assert.equal(indices.length, 12);
    const perClass = new Map<number, number[]>();
    indices.forEach((img, j) => {
      assert.equal(classOf.get(img), labels[j], 'label is not the image class');
      perClass.set(labels[j]!, [...(perClass.get(labels[j]!) ?? []), img]);
    });
    assert.equal(perClass.size, 3);
    for (const imgs of perClass.values()) {
      assert.equal(imgs.length, 4);
      assert.equal(new Set(imgs).size, 4, 'repeats an image although the class has enough');
    }
  }
  const a = new MPerClassSampler(classes, { classesPerBatch: 2, m: 2 }, 8).sample();
  assert.deepEqual(a, new MPerClassSampler(classes, { classesPerBatch: 2, m: 2 }, 8).sample());
});

test('MPerClassSampler: small classes are repeated, errors are clear', () => {
  const { indices, labels } = new MPerClassSampler([[1, 2], [3, 4, 5]], { classesPerBatch: 2, m: 4 }, 0).sample();
  assert.equal(indices.length, 8);
  const class0 = Array.from(indices).filter((_, j) => labels[j] === 0);
  assert.deepEqual([...new Set(class0)].sort(), [1, 2]); // both images used, then repeats
  assert.throws(() => new MPerClassSampler([[1, 2], [3]], { classesPerBatch: 2, m: 2 }, 0), /needs 2 classes with >= 2 images each, only 1 have/);
  assert.throws(() => new MPerClassSampler(classes, { classesPerBatch: 2, m: 1 }, 0), /m must be an integer >= 2/);
});

test('UniformBatchSampler: distinct images with their class ids, every image reachable, clear errors', () => {
  const classes = [[0, 1, 2], [3, 4], [5, 6, 7, 8]];
  const s = new UniformBatchSampler(classes, 5, new Rng(3));
  const seen = new Set<number>();
  for (let i = 0; i < 200; i++) {
    const b = s.sample();
    assert.equal(new Set(b.indices).size, 5);
    b.indices.forEach((idx, k) => assert.ok(classes[b.labels[k]!]!.includes(idx)));
    b.indices.forEach((idx) => seen.add(idx));
  }
  assert.equal(seen.size, 9);
  assert.deepEqual(new UniformBatchSampler(classes, 9).sample(new Rng(1)).indices.slice().sort(), Int32Array.from([0, 1, 2, 3, 4, 5, 6, 7, 8]));
  assert.throws(() => new UniformBatchSampler(classes, 10), /batchSize 10 is more than the 9 images/);
  assert.throws(() => new UniformBatchSampler(classes, 0), /batchSize must be an integer >= 1/);
});
