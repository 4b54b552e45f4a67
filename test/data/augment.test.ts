import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyAffine, KOCH_AFFINE_RANGE, NO_AFFINE_RANGE, randomAffine, sampleAffine } from '../../src/data/augment.js';
import { Rng } from '../../src/util/random.js';
import { glyph } from './helpers.js';

function inkImage(seed: number, size = 105): Uint8Array {
  return glyph(new Rng(seed), size).data.map((v) => 255 - v); // ink high, paper 0
}

test('deterministic by seed, different across seeds', () => {
  const img = inkImage(1);
  const a = randomAffine(img, 105, 105, 1, new Rng(42));
  const b = randomAffine(img, 105, 105, 1, new Rng(42));
  assert.deepEqual(a, b);
  let differs = 0;
  for (let s = 0; s < 10; s++) if (!randomAffine(img, 105, 105, 1, new Rng(100 + s)).every((v, i) => v === a[i])) differs++;
  assert.ok(differs >= 8, `${differs} of 10 seeds changed the image`);
});

test('identity when every range is zero (whatever the probability)', () => {
  const img = inkImage(2);
  const zero = { rotationDeg: 0, shear: 0, scaleMin: 1, scaleMax: 1, translate: 0, probability: 1 };
  const rng = new Rng(3);
  for (let i = 0; i < 5; i++) assert.deepEqual(randomAffine(img, 105, 105, 1, rng, zero), img);
  assert.deepEqual(randomAffine(img, 105, 105, 1, rng, NO_AFFINE_RANGE), img);
  // Colour images too.
  const rgb = new Uint8Array(8 * 6 * 3).map((_, i) => (i * 31) & 255);
  assert.deepEqual(randomAffine(rgb, 6, 8, 3, rng, zero), rgb);
});

test('a pure translation shifts pixels and fills with paper', () => {
  const w = 9, h = 7;
  const img = new Uint8Array(w * h).map((_, i) => 1 + i);
  const out = applyAffine(img, h, w, 1, { a: 1, b: 0, c: 0, d: 1, tx: 2, ty: 1 }, 0);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    const expect = x >= 2 && y >= 1 ? img[(y - 1) * w + (x - 2)] : 0;
    assert.equal(out[y * w + x], expect, `(${x},${y})`);
  }
});

test('sampled parameters stay within the Koch et al. ranges, each component about half the time', () => {
  const rng = new Rng(9);
  let identity = 0, translated = 0;
  const n = 2000;
  for (let i = 0; i < n; i++) {
    const t = sampleAffine(rng, 105, 105);
    assert.ok(Math.abs(t.tx) <= 2 + 1e-9 && Math.abs(t.ty) <= 2 + 1e-9, 'translation within 2 px at 105');
    const det = t.a * t.d - t.b * t.c;
    // |det| = sx * sy * (1 - shx * shy): within [0.64 * 0.91, 1.44 * 1.09]
    assert.ok(det > 0.58 && det < 1.58, `det ${det}`);
    if (t.a === 1 && t.b === 0 && t.c === 0 && t.d === 1 && t.tx === 0 && t.ty === 0) identity++;
    if (t.tx !== 0) translated++;
  }
  // Four independent components at p = 0.5: identity 1/16 of the time, translation half of it.
  assert.ok(identity > 80 && identity < 175, `identity ${identity} of ${n}`);
  assert.ok(translated > 900 && translated < 1100, `translated ${translated} of ${n}`);
  // Translation scales with the image size.
  const big = sampleAffine(new Rng(1), 210, 210, { ...KOCH_AFFINE_RANGE, probability: 1 });
  assert.ok(Math.abs(big.tx) <= 4 && Math.abs(big.ty) <= 4);
  assert.throws(() => sampleAffine(rng, 10, 10, { scaleMin: 2, scaleMax: 1 }), /scale range/);
});

test('keeps the ink roughly in place and is fast enough for every training image', () => {
  const img = inkImage(5);
  const rng = new Rng(11);
  const inkBefore = img.reduce((s, v) => s + v, 0);
  const n = 500;
  const out = new Uint8Array(img.length);
  const t0 = performance.now();
  let inkAfter = 0;
  for (let i = 0; i < n; i++) {
    randomAffine(img, 105, 105, 1, rng, undefined, out);
    inkAfter += out.reduce((s, v) => s + v, 0);
  }
  const msPerImage = (performance.now() - t0) / n;
  const ratio = inkAfter / n / inkBefore;
  assert.ok(ratio > 0.7 && ratio < 1.4, `ink ratio ${ratio}`);
  // Generous bound (shared CI cores): about 0.1 ms on an idle core.
  assert.ok(msPerImage < 5, `${msPerImage.toFixed(3)} ms per 105x105 image`);
});
