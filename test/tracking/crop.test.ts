import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Image } from '../../src/data/image.js';
import { cropResize, registerCropPasses } from '../../src/tracking/crop.js';
import { skipNative } from '../backend/compare.js';
import { Rng } from '../../src/util/random.js';

/**
 * The crop's definition, tap by tap: k x k bilinear samples per output pixel (k = ceil(side/out),
 * at most 4), every tap outside the frame reading `fill`. The library computes the same filter in
 * two separable passes; this plain form is what it must equal.
 */
function referenceCrop(img: Image, cx: number, cy: number, side: number, out: number, fill: number[]): Float32Array {
  const res = new Float32Array(out * out * 3);
  const scale = side / out;
  const k = Math.min(4, Math.max(1, Math.ceil(scale)));
  const at = (x: number, y: number, c: number) =>
    x < 0 || y < 0 || x >= img.width || y >= img.height
      ? fill[c]!
      : img.data[(y * img.width + x) * img.channels + (img.channels === 3 ? c : 0)]!;
  for (let oy = 0; oy < out; oy++) {
    for (let ox = 0; ox < out; ox++) {
      for (let c = 0; c < 3; c++) {
        let sum = 0;
        for (let sy = 0; sy < k; sy++) {
          for (let sx = 0; sx < k; sx++) {
            const fx = cx - side / 2 + (ox + (sx + 0.5) / k) * scale - 0.5;
            const fy = cy - side / 2 + (oy + (sy + 0.5) / k) * scale - 0.5;
            const ix = Math.floor(fx);
            const iy = Math.floor(fy);
            const ax = fx - ix;
            const ay = fy - iy;
            sum +=
              (1 - ax) * (1 - ay) * at(ix, iy, c) +
              ax * (1 - ay) * at(ix + 1, iy, c) +
              (1 - ax) * ay * at(ix, iy + 1, c) +
              ax * ay * at(ix + 1, iy + 1, c);
          }
        }
        res[(oy * out + ox) * 3 + c] = sum / (k * k * 255);
      }
    }
  }
  return res;
}

function randomImage(width: number, height: number, channels: 1 | 3, seed: number): Image {
  const rng = new Rng(seed);
  const data = new Uint8Array(width * height * channels);
  for (let i = 0; i < data.length; i++) data[i] = rng.int(256);
  return { width, height, channels, data };
}

test('cropResize equals the tap-by-tap definition: up- and downscaling, overhanging the border, RGB and grey', () => {
  const rng = new Rng(7);
  const fill = [12, 130, 250];
  for (const [channels, seed] of [[3, 1], [1, 2]] as const) {
    const img = randomImage(61, 47, channels, seed);
    for (let trial = 0; trial < 40; trial++) {
      // Centres from outside the frame to outside the other side; sides from 0.3x to 6x the output.
      const out = [5, 8, 17][trial % 3]!;
      const side = out * rng.uniform(0.3, 6);
      const cx = rng.uniform(-20, 80);
      const cy = rng.uniform(-20, 70);
      const got = cropResize(img, cx, cy, side, out, fill as [number, number, number]);
      const want = referenceCrop(img, cx, cy, side, out, fill);
      for (let i = 0; i < want.length; i++) {
        assert.ok(Math.abs(got[i]! - want[i]!) < 1e-6, `trial ${trial} (${channels} channels) value ${i}: ${got[i]} vs ${want[i]}`);
      }
    }
  }
});

test('cropResize: a crop wholly outside the frame is the fill colour; a bad centre or side is refused', () => {
  const img = randomImage(10, 10, 3, 3);
  const crop = cropResize(img, -100, -100, 20, 4, [51, 102, 255]);
  for (let i = 0; i < crop.length; i += 3) {
    assert.deepEqual([crop[i], crop[i + 1], crop[i + 2]].map((v) => Math.round(v! * 255)), [51, 102, 255]);
  }
  assert.throws(() => cropResize(img, Number.NaN, 5, 4, 4), /bad crop centre/);
  assert.throws(() => cropResize(img, 5, 5, 0, 4), /bad crop centre/);
  assert.throws(() => cropResize({ ...img, data: img.data.subarray(0, 299) }, 5, 5, 4, 4), /the image holds 299 values, 10x10x3 needs 300/);
});

test('cropResize writes into a given buffer and reuses its scratch safely across sizes', () => {
  const big = randomImage(300, 200, 3, 4);
  const small = randomImage(20, 20, 3, 5);
  const fill: [number, number, number] = [0, 0, 0];
  const first = cropResize(small, 10, 10, 12, 6, fill);
  cropResize(big, 150, 100, 280, 32, fill); // grows the scratch buffer
  const target = new Float32Array(6 * 6 * 3);
  const again = cropResize(small, 10, 10, 12, 6, fill, target);
  assert.equal(again, target);
  assert.deepEqual(Array.from(again), Array.from(first));
});

test('native crop passes (when the addon is built) give bitwise the JavaScript crops', { skip: skipNative }, async () => {
  await import('../../src/tracking/native_crop.js'); // registers the native passes
  const rng = new Rng(11);
  const cases: [Image, number, number, number, number][] = [];
  for (const [channels, seed] of [[3, 6], [1, 7]] as const) {
    const img = randomImage(97, 71, channels, seed);
    for (let trial = 0; trial < 30; trial++) {
      const out = [7, 16, 33][trial % 3]!;
      cases.push([img, rng.uniform(-30, 130), rng.uniform(-30, 100), out * rng.uniform(0.3, 9), out]);
    }
  }
  const fill: [number, number, number] = [3, 140, 251];
  const native = cases.map(([img, cx, cy, side, out]) => cropResize(img, cx, cy, side, out, fill));
  registerCropPasses(null);
  try {
    cases.forEach(([img, cx, cy, side, out], i) => {
      assert.deepEqual(Array.from(native[i]!), Array.from(cropResize(img, cx, cy, side, out, fill)), `case ${i}`);
    });
  } finally {
    // Later tests in this process keep the native passes, as the CLI would.
    (await import('../../src/tracking/native_crop.js')).registerNativeCrop();
  }
});
