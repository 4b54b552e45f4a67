import { test } from 'node:test';
import assert from 'node:assert/strict';
import { INK_GEOMETRY_NAMES, hog, inkGeometry, lbp } from '../../scripts/lib/handcrafted-features.js';

/** A canvas with the rectangle [x0, x1) x [y0, y1) inked at `level`, paper 0. */
function canvas(height: number, width: number, [x0, y0, x1, y1]: number[], level = 200): Uint8Array {
  const px = new Uint8Array(height * width);
  for (let y = y0!; y < y1!; y++) for (let x = x0!; x < x1!; x++) px[y * width + x] = level;
  return px;
}

test('hog: a vertical edge votes into the horizontal-gradient bin, blocks are unit length', () => {
  const px = new Uint8Array(32 * 32);
  for (let y = 0; y < 32; y++) for (let x = 16; x < 32; x++) px[y * 32 + x] = 255;
  const bins = 9;
  const h = hog(px, 32, 32, 8, bins);
  assert.equal(h.length, 3 * 3 * 4 * bins);
  for (let b = 0; b < 9; b++) {
    const block = h.subarray(b * 4 * bins, (b + 1) * 4 * bins);
    const norm = Math.hypot(...block);
    if (norm > 0) assert.ok(Math.abs(norm - 1) < 1e-3, `block ${b} norm ${norm}`);
  }
  // Orientation 0 (gradient along x) sits between bins 8 and 0 of the unsigned 0..180 degree range.
  const perBin = new Float64Array(bins);
  h.forEach((v, i) => { perBin[i % bins] += v; });
  const top = [...perBin.keys()].sort((a, b) => perBin[b]! - perBin[a]!).slice(0, 2).sort((a, b) => a - b);
  assert.deepEqual(top, [0, 8]);
  assert.throws(() => hog(px, 12, 12, 8, 9), /fewer than 2x2 cells/);
});

test('lbp: one normalised histogram per cell, paper-only cells stay empty', () => {
  const px = canvas(20, 40, [2, 2, 18, 18]);
  const bins = 59;
  const h = lbp(px, 20, 40, 1, 2);
  assert.equal(h.length, 2 * bins);
  const left = h.subarray(0, bins).reduce((a, b) => a + b, 0);
  const right = h.subarray(bins).reduce((a, b) => a + b, 0);
  assert.ok(Math.abs(left - 1) < 1e-6, `left cell sums to ${left}`);
  assert.equal(right, 0);
});

test('inkGeometry: aspect ratio, density, centre and ink level of a known rectangle', () => {
  const g = inkGeometry(canvas(100, 200, [50, 40, 150, 60], 102), 100, 200, 0);
  assert.equal(g.length, INK_GEOMETRY_NAMES.length);
  const at = (name: (typeof INK_GEOMETRY_NAMES)[number]) => g[INK_GEOMETRY_NAMES.indexOf(name)]!;
  assert.ok(Math.abs(at('log aspect ratio') - Math.log(100 / 20)) < 1e-9);
  assert.ok(Math.abs(at('ink density') - 1) < 1e-9);
  assert.ok(Math.abs(at('centre x') - 0.495) < 1e-9); // (99.5 - 50) / 100
  assert.ok(Math.abs(at('mean ink level') - 0.4) < 1e-9);
  assert.ok(Math.abs(at('ink level sd')) < 1e-9);
  // Twice as tall a bar of the same length: the aspect ratio halves.
  const taller = inkGeometry(canvas(100, 200, [50, 30, 150, 70], 102), 100, 200, 0);
  assert.ok(Math.abs(taller[0]! - Math.log(100 / 40)) < 1e-9);
  assert.throws(() => inkGeometry(new Uint8Array(100), 10, 10), /no ink/);
});
