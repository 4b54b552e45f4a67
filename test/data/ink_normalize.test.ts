import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Image } from '../../src/data/image.js';
import { BlankImageError, inkMoments, normalizeInk, otsuThreshold, removeBackground } from '../../src/data/ink_normalize.js';
import { preprocess } from '../../src/data/preprocess.js';
import { Rng } from '../../src/util/random.js';

const W = 96, H = 48;

/**
 * A page of `pw` x `ph` pixels with paper at `paper` (+-8 noise) and a "signature" drawn in
 * continuous coordinates (a loop and a long stroke, 0..1 units scaled by `scale` pixels, offset
 * by ox, oy): the same signature at any resolution and position.
 */
function page(pw: number, ph: number, scale: number, ox: number, oy: number, paper = 235, seed = 1): Image {
  const rng = new Rng(seed);
  const data = new Uint8Array(pw * ph);
  for (let y = 0; y < ph; y++) {
    for (let x = 0; x < pw; x++) {
      const u = (x - ox) / scale, v = (y - oy) / scale;
      const loop = Math.abs(Math.hypot(u - 0.3, v - 0.25) - 0.18) < 0.025;
      const stroke = u > 0.1 && u < 1.9 && Math.abs(v - (0.45 - 0.1 * u)) < 0.025;
      data[y * pw + x] = loop || stroke ? Math.round(rng.uniform(20, 60)) : Math.round(rng.uniform(paper - 8, paper + 8));
    }
  }
  return { width: pw, height: ph, channels: 1, data };
}

const meanAbsDiff = (a: Uint8Array, b: Uint8Array) => a.reduce((s, v, i) => s + Math.abs(v - b[i]!), 0) / a.length;
const inkMass = (a: Uint8Array) => a.reduce((s, v) => s + v, 0);

test('otsu splits a bimodal histogram between its modes and reports the class means', () => {
  const h = new Array(256).fill(0);
  h[30] = 50; h[40] = 50; h[220] = 900; h[240] = 900;
  const o = otsuThreshold(h)!;
  assert.ok(o.threshold >= 40 && o.threshold < 220, `threshold ${o.threshold}`);
  assert.equal(o.lowMean, 35);
  assert.equal(o.highMean, 230);
  const flat = new Array(256).fill(0);
  flat[200] = 10;
  assert.equal(otsuThreshold(flat), null);
});

test('background removal: paper becomes exactly 0, ink keeps its (inverted) gray levels', () => {
  const img = page(200, 100, 100, 10, 10, 210);
  const ink = removeBackground(img);
  for (let i = 0; i < img.data.length; i++) {
    if (img.data[i]! >= 150) assert.equal(ink.data[i], 0);
    else assert.equal(ink.data[i], 255 - img.data[i]!);
  }
});

test('the same signature scanned at 72x36 and at 2920x1460, anywhere on the page, normalises to the same canvas', () => {
  const small = normalizeInk(page(72, 36, 30, 4, 4), W, H);
  const large = normalizeInk(page(2920, 1460, 1200, 500, 300, 245, 2), W, H);
  const elsewhere = normalizeInk(page(2920, 1460, 1200, 600, 800, 225, 3), W, H);
  assert.ok(meanAbsDiff(large, elsewhere) < 1, `translation: ${meanAbsDiff(large, elsewhere)}`);
  // 30 px per unit against 1200: the strokes are resampled very differently, yet land in the same place.
  assert.ok(meanAbsDiff(small, large) < 12, `resolution: ${meanAbsDiff(small, large)}`);
  const other = normalizeInk(page(300, 150, 120, 5, 5), W, H);
  assert.ok(meanAbsDiff(other, large) < meanAbsDiff(small, large) + 3);
});

test('the ink is centred by its centre of mass, with the aspect ratio kept and nothing cut off', () => {
  const out = normalizeInk(page(1000, 600, 400, 50, 200), W, H);
  const m = inkMoments({ width: W, height: H, channels: 1, data: out }, 0);
  assert.ok(Math.abs(m.cx - W / 2) < 1 && Math.abs(m.cy - H / 2) < 1, `centre of mass ${m.cx}, ${m.cy}`);
  // The signature is ~1.9 x 0.45 units: wide. Stretching it to the canvas would make it 2:1 exactly
  // and touch every border; keeping the aspect leaves free rows above and below.
  assert.ok(m.x1 - m.x0 > 2.5 * (m.y1 - m.y0), `extent ${m.x1 - m.x0} x ${m.y1 - m.y0}`);
  assert.ok(m.y0 > 4 && m.y1 < H - 4, `rows ${m.y0}..${m.y1}`);
  // Every border pixel is paper (0): the margin holds.
  for (let x = 0; x < W; x++) assert.equal(out[x], 0);
  for (let y = 0; y < H; y++) assert.equal(out[y * W], 0);
  // A speck of dust far away changes neither the scale nor the position much.
  const dusty = page(1000, 600, 400, 50, 200);
  dusty.data[590 * 1000 + 990] = 0;
  assert.ok(meanAbsDiff(normalizeInk(dusty, W, H), out) < 1);
});

test('preprocess with ink normalisation: the model config path; colour scans work; bad configs are refused', () => {
  const cfg = { height: H, width: W, channels: 1 as const, invert: true, ink: { threshold: 'otsu' as const, centre: 'mass' as const } };
  const gray = page(400, 200, 160, 20, 20);
  const rgb: Image = { width: 400, height: 200, channels: 3, data: new Uint8Array(400 * 200 * 3) };
  gray.data.forEach((v, i) => { rgb.data[3 * i] = Math.min(255, v + 10); rgb.data[3 * i + 1] = v; rgb.data[3 * i + 2] = Math.max(0, v - 15); });
  const a = preprocess(gray, cfg), b = preprocess(rgb, cfg);
  assert.equal(a.length, W * H);
  assert.ok(meanAbsDiff(a, b) < 3);
  assert.ok(inkMass(a) > 0);
  assert.throws(() => preprocess(gray, { ...cfg, invert: false }), /needs channels 1 and invert true/);
  assert.throws(() => preprocess(gray, { ...cfg, ink: { threshold: 'mean' as 'otsu', centre: 'mass' } }), /threshold must be 'otsu'/);
  assert.throws(() => preprocess(gray, { ...cfg, ink: { threshold: 'otsu', centre: 'mass', margin: 0.7 } }), /margin/);
});

test('a blank page, a uniform page and a dark page are refused with a clear error', () => {
  const blank = page(300, 150, 1, -1000, -1000); // paper and its noise only
  assert.throws(() => normalizeInk(blank, W, H), (e: Error) => e instanceof BlankImageError && /blank page: no ink stands out from the paper/.test(e.message));
  const uniform: Image = { width: 50, height: 20, channels: 1, data: new Uint8Array(1000).fill(255) };
  assert.throws(() => normalizeInk(uniform, W, H), /blank page: every pixel has the same gray level \(255\)/);
  const dark = page(300, 150, 100, 10, 10, 235);
  dark.data.forEach((v, i) => { dark.data[i] = i % 5 === 0 ? 250 : 20; });
  assert.throws(() => normalizeInk(dark, W, H), /no signature on paper: 80% of the page/);
});
