import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LogisticRegression } from '../../src/verification/logistic_regression.js';
import { WriterDependentVerifier, type LabelledEmbedding } from '../../src/verification/writer_dependent.js';
import { Rng } from '../../src/util/random.js';

const sigmoid = (t: number) => 1 / (1 + Math.exp(-t));

function cloud(rng: Rng, centre: number[], n: number, spread: number): Float32Array[] {
  return Array.from({ length: n }, () => Float32Array.from(centre, (c) => c + spread * rng.normal()));
}

test('logistic regression reaches the optimum: the gradient of the weighted, penalised loss vanishes', () => {
  const rng = new Rng(3);
  const x = [...cloud(rng, [1, 0, 2], 7, 1.2), ...cloud(rng, [-1, 0.5, 1], 40, 1.2)];
  const y = x.map((_, i) => (i < 7 ? 1 : 0) as 0 | 1);
  const l2 = 0.05;
  const lr = LogisticRegression.fit(x, y, { l2 });
  const { mean, scale, weights, bias } = lr.model;
  assert.ok(lr.model.iterations < 20, `${lr.model.iterations} Newton iterations`);
  // Balanced weights: each class carries n/2 in total.
  const n = x.length;
  const w = y.map((v) => n / (2 * (v === 1 ? 7 : 40)));
  const total = w.reduce((a, b) => a + b, 0);
  const grad = new Array(4).fill(0);
  x.forEach((row, i) => {
    const z = [...Array.from(row, (v, j) => (v - mean[j]!) / scale[j]!), 1];
    const p = sigmoid(z.reduce((s, v, j) => s + v * (j < 3 ? weights[j]! : bias), 0));
    z.forEach((v, j) => { grad[j] += w[i]! * (p - y[i]!) * v; });
  });
  for (let j = 0; j < 3; j++) grad[j] += l2 * total * weights[j]!;
  for (const g of grad) assert.ok(Math.abs(g) < 1e-7, `gradient ${grad.join(', ')}`);
  // decision() on raw features agrees with the standardised model; probability is its sigmoid.
  assert.ok(Math.abs(lr.probability(x[0]!) - sigmoid(lr.decision(x[0]!))) < 1e-12);
});

test('logistic regression: separable data stay finite (penalty), a single positive is not drowned (class weights)', () => {
  const rng = new Rng(5);
  const pos = cloud(rng, [4, 4], 1, 0);
  const neg = cloud(rng, [0, 0], 100, 1);
  const lr = LogisticRegression.fit([...pos, ...neg], [1, ...neg.map(() => 0 as const)]);
  assert.ok([...lr.model.weights].every(Number.isFinite));
  assert.ok(lr.decision(pos[0]!) > 0, 'the one positive is on the positive side');
  assert.ok(lr.decision(Float32Array.from([3.8, 4.1])) > lr.decision(Float32Array.from([0, 0])));
  const unweighted = LogisticRegression.fit([...pos, ...neg], [1, ...neg.map(() => 0 as const)], { classWeight: 'none', l2: 1 });
  assert.ok(unweighted.decision(pos[0]!) < lr.decision(pos[0]!), 'without class weights the positive counts for less');
});

test('logistic regression refuses bad input clearly', () => {
  const a = Float32Array.from([1, 2]);
  const b = Float32Array.from([2, 1]);
  assert.throws(() => LogisticRegression.fit([a, b], [1, 1]), /needs both classes: 2 positive, 0 negative/);
  assert.throws(() => LogisticRegression.fit([a, Float32Array.from([1, NaN])], [1, 0]), /non-finite feature/);
  assert.throws(() => LogisticRegression.fit([a, Float32Array.from([1])], [1, 0]), /samples of 1 and 2 features/);
  assert.throws(() => LogisticRegression.fit([a, b], [1, 0], { l2: 0 }), /l2 must be a positive number/);
  assert.throws(() => LogisticRegression.fit([a, b], [1, 0]).decision(Float32Array.from([1])), /a sample of 1 features, fitted on 2/);
});

test('writer-dependent verifier: each writer against the others, the questioned writer left out of the negatives', () => {
  const rng = new Rng(11);
  const centres: Record<string, number[]> = {};
  const negatives: LabelledEmbedding[] = [];
  for (const w of ['001', '002', '003', '004', '005']) {
    centres[w] = Array.from({ length: 16 }, () => 2 * rng.normal());
    for (const e of cloud(rng, centres[w]!, 5, 0.5)) negatives.push({ writer: w, embedding: e });
  }
  const wd = new WriterDependentVerifier(negatives);
  assert.deepEqual(wd.negativeWriters, ['001', '002', '003', '004', '005']);
  const refs = cloud(rng, centres['001']!, 2, 0.5);
  const c = wd.fit('001', refs);
  assert.equal(c.negatives, 20, "the claimed writer's own signatures are never negatives");
  assert.equal(c.references, 2);
  const genuine = cloud(rng, centres['001']!, 10, 0.5).map((e) => c.score(e));
  const others = ['002', '003'].flatMap((w) => cloud(rng, centres[w]!, 10, 0.5)).map((e) => c.score(e));
  assert.ok(Math.min(...genuine) > Math.max(...others), `genuine ${Math.min(...genuine)} vs others ${Math.max(...others)}`);
  assert.equal(wd.fit('001', refs, ['002', '003']).negatives, 10);
  assert.throws(() => wd.fit('001', []), /writer '001': no genuine reference/);
  assert.throws(() => new WriterDependentVerifier(negatives.filter((n) => n.writer === '001')).fit('001', refs), /writer '001': .* needs genuine signatures of other writers/);
  // Deterministic: the same inputs give the same scores.
  assert.equal(wd.fit('001', refs).score(refs[0]!), c.score(refs[0]!));
});

test('rbf kernel: a writer surrounded by others is told apart locally, where a linear classifier cannot', () => {
  const rng = new Rng(17);
  // Other writers on a ring around the claimed writer's references.
  const negatives: LabelledEmbedding[] = Array.from({ length: 40 }, (_, i) => {
    const a = (2 * Math.PI * i) / 40;
    return { writer: `w${i % 8}`, embedding: Float32Array.from([3 * Math.cos(a) + 0.1 * rng.normal(), 3 * Math.sin(a) + 0.1 * rng.normal()]) };
  });
  const refs = cloud(rng, [0, 0], 3, 0.3);
  const inside = cloud(rng, [0, 0], 10, 0.3);
  const outside = Array.from({ length: 10 }, (_, i) => Float32Array.from([3 * Math.cos(i + 0.5), 3 * Math.sin(i + 0.5)]));
  const separation = (kernel: 'linear' | 'rbf') => {
    const c = new WriterDependentVerifier(negatives, { kernel, l2: 0.01 }).fit('me', refs);
    return Math.min(...inside.map((e) => c.score(e))) - Math.max(...outside.map((e) => c.score(e)));
  };
  assert.ok(separation('rbf') > 0, `rbf: ${separation('rbf')}`);
  assert.ok(separation('linear') < 0, `linear: ${separation('linear')}`);
  assert.throws(() => new WriterDependentVerifier(negatives, { kernel: 'poly' as 'rbf' }), /kernel must be linear or rbf, got 'poly'/);
});
