import { test } from 'node:test';
import assert from 'node:assert/strict';
import { type Image } from '../../src/data/image.js';
import { cropToInk, preprocess, resize } from '../../src/data/preprocess.js';

function gray(w: number, h: number, f: (x: number, y: number) => number): Image {
  const data = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data[y * w + x] = f(x, y);
  return { width: w, height: h, channels: 1, data };
}
const mean = (a: Uint8Array) => a.reduce((s, v) => s + v, 0) / a.length;

test('area downsampling 105 -> 28 keeps a constant image constant and the ink mass', () => {
  assert.ok(resize(gray(105, 105, () => 77), 28, 28).data.every((v) => v === 77));
  // Thin 1-px vertical strokes every 7 px: nearest-neighbour would drop or double them; area keeps the mean.
  const lines = gray(105, 105, (x) => (x % 7 === 0 ? 255 : 0));
  const small = resize(lines, 28, 28).data;
  assert.ok(Math.abs(mean(small) - mean(lines.data)) < 1.5, `${mean(small)} vs ${mean(lines.data)}`);
  // Exact 2x2 box average.
  assert.deepEqual(Array.from(resize(gray(2, 2, (x, y) => [0, 100, 200, 40]![y * 2 + x]!), 1, 1).data), [85]);
});

test('bilinear upsampling stays within the source range and is exact at corners of a ramp', () => {
  const up = resize(gray(2, 1, (x) => x * 200), 4, 1).data;
  assert.deepEqual(Array.from(up), [0, 50, 150, 200]);
});

test('preprocess: invert (ink high), grayscale conversion, model size', () => {
  const paper = gray(105, 105, (x, y) => (Math.abs(x - y) < 2 ? 0 : 255)); // black diagonal on white
  const out = preprocess(paper, { height: 28, width: 28, channels: 1, invert: true });
  assert.equal(out.length, 28 * 28);
  assert.ok(out[0]! > 128 && out[27]! === 0, 'diagonal is ink (high), the far corner is paper (0)');
  const rgb: Image = { width: 1, height: 1, channels: 3, data: new Uint8Array([255, 0, 0]) };
  assert.deepEqual(Array.from(preprocess(rgb, { height: 1, width: 1, channels: 1, invert: false })), [76]);
  assert.deepEqual(Array.from(preprocess(paper, { height: 1, width: 2, channels: 3, invert: false })).length, 6);
  // Same size, no conversion: a copy, never the input's own buffer.
  const same = preprocess(paper, { height: 105, width: 105, channels: 1, invert: false });
  assert.notEqual(same.buffer, paper.data.buffer);
  assert.throws(() => preprocess(paper, { height: 0, width: 28, channels: 1, invert: true }), /height/);
  assert.throws(() => preprocess({ width: 2, height: 2, channels: 1, data: new Uint8Array(3) }, { height: 2, width: 2, channels: 1, invert: true }), /3 bytes/);
});

test('crop to ink and aspect-preserving resize with padding (signatures)', () => {
  // A 40x10 dark bar in a 200x100 white page, off centre.
  const page = gray(200, 100, (x, y) => (x >= 20 && x < 60 && y >= 70 && y < 80 ? 0 : 255));
  const cropped = cropToInk({ ...page, data: page.data.map((v) => 255 - v) }, 64, 0);
  assert.equal(cropped.width, 40);
  assert.equal(cropped.height, 10);
  const out = preprocess(page, { height: 20, width: 20, channels: 1, invert: true, cropToInk: true, keepAspect: true, cropMargin: 0 });
  // The 4:1 bar fills the width, 5 rows tall, centred vertically: rows 7..11 ink, the rest padding.
  for (let y = 0; y < 20; y++) {
    const row = out.subarray(y * 20, (y + 1) * 20);
    if (y >= 7 && y < 12) assert.ok(row.every((v) => v === 255), `row ${y} is ink`);
    else assert.ok(row.every((v) => v === 0), `row ${y} is padding`);
  }
  // A blank page is returned whole instead of failing.
  assert.equal(preprocess(gray(10, 10, () => 255), { height: 5, width: 5, channels: 1, invert: true, cropToInk: true }).length, 25);
});
