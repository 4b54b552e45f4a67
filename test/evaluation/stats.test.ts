import { test } from 'node:test';
import assert from 'node:assert/strict';
import { meanWithCi95 } from '../../src/evaluation/stats.js';

test('mean and 95% CI half-width = 1.96 * sample std / sqrt(n), by hand', () => {
  // values 0.5, 0.75, 1.0: mean 0.75, sample variance ((0.25^2)*2)/2 = 0.0625, std 0.25.
  const r = meanWithCi95([0.5, 0.75, 1.0]);
  assert.equal(r.mean, 0.75);
  assert.ok(Math.abs(r.std - 0.25) < 1e-12);
  assert.ok(Math.abs(r.ci95 - (1.96 * 0.25) / Math.sqrt(3)) < 1e-12);
  assert.equal(r.n, 3);
});

test('constant accuracies have a zero interval; one value has none', () => {
  assert.deepEqual(meanWithCi95([0.8, 0.8, 0.8, 0.8]), { mean: 0.8, ci95: 0, std: 0, n: 4 });
  assert.deepEqual(meanWithCi95([0.3]), { mean: 0.3, ci95: 0, std: 0, n: 1 });
});

test('the interval shrinks as 1/sqrt(episodes)', () => {
  const few = meanWithCi95([0, 1, 0, 1]);
  const many = meanWithCi95(Array.from({ length: 400 }, (_, i) => i % 2));
  assert.ok(Math.abs(few.mean - many.mean) < 1e-12);
  // std is sqrt(n/(n-1)) * 0.5 in both cases.
  assert.ok(Math.abs(many.ci95 - (1.96 * 0.5 * Math.sqrt(400 / 399)) / 20) < 1e-12);
  assert.ok(few.ci95 > 9 * many.ci95);
});

test('rejects empty and non-finite input', () => {
  assert.throws(() => meanWithCi95([]), /zero values/);
  assert.throws(() => meanWithCi95([0.5, Number.NaN]), /non-finite/);
});
