import { test } from 'node:test';
import assert from 'node:assert/strict';
import { transferThreshold } from '../../src/verification/threshold_transfer.js';
import { Rng } from '../../src/util/random.js';

/** Genuine and impostor similarities on shared classes: normal with the given means. */
function scores(seed: number, genuineMean: number, impostorMean: number, n = 4000): { genuine: number[]; impostor: number[] } {
  const rng = new Rng(seed);
  return {
    genuine: Array.from({ length: n }, () => genuineMean + 0.1 * rng.normal()),
    impostor: Array.from({ length: n }, () => impostorMean + 0.1 * rng.normal()),
  };
}

test('a model whose scores sit 0.15 lower on shared classes gets the reference threshold moved down by 0.15', () => {
  const shared = scores(1, 0.3, -0.2);
  const lower = { genuine: shared.genuine.map((s) => s - 0.15), impostor: shared.impostor.map((s) => s - 0.15) };
  const r = transferThreshold({ threshold: { value: 0.05, source: 'held-out', far: 0.01 }, shared }, { shared: lower }, 'the reference');
  assert.ok(Math.abs(r.modelShared - (r.referenceShared - 0.15)) < 1e-9, `${r.modelShared} vs ${r.referenceShared}`);
  assert.ok(Math.abs(r.threshold.value - (0.05 - 0.15)) < 1e-9, String(r.threshold.value));
  assert.equal(r.threshold.far, 0.01);
  assert.match(r.threshold.source, /carried over from the reference/);
  // The reference's FAR-1% point on its own shared scores: about 2.33 standard deviations above the impostor mean.
  assert.ok(Math.abs(r.referenceShared - (-0.2 + 0.233)) < 0.02, String(r.referenceShared));
});

test('the same scores keep the reference threshold; a threshold without a FAR target is refused', () => {
  const shared = scores(2, 0.5, 0);
  const same = transferThreshold({ threshold: { value: -0.2128, source: 'held-out', far: 0.01 }, shared }, { shared }, 'r');
  assert.equal(same.threshold.value, -0.2128);
  assert.throws(() => transferThreshold({ threshold: { value: 0.3, source: 'eer' }, shared }, { shared }, 'r'), /no FAR target/);
});
