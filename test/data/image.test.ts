import { test } from 'node:test';
import assert from 'node:assert/strict';
import jpeg from 'jpeg-js';
import { decodeImage, detectImageFormat, encodePng, toGrayscale, type Image } from '../../src/data/image.js';
import { Rng } from '../../src/util/random.js';
import { pgm, rawPng } from './helpers.js';
import { readFileSync } from 'node:fs';

/** Committed fixtures, made by test/fixtures/make_cmyk_fixtures.py (Debian's python3-pil). */
const fixture = (name: string) => new Uint8Array(readFileSync(new URL(`../fixtures/${name}`, import.meta.url)));

function randomImage(rng: Rng, w: number, h: number, channels: 1 | 3): Image {
  const data = new Uint8Array(w * h * channels);
  for (let i = 0; i < data.length; i++) data[i] = rng.int(256);
  return { width: w, height: h, channels, data };
}

test('PNG round trip through encodePng, gray and RGB', () => {
  const rng = new Rng(1);
  for (const channels of [1, 3] as const) {
    const img = randomImage(rng, 17, 11, channels);
    const back = decodeImage(encodePng(img), `rt${channels}.png`);
    assert.deepEqual(back, img);
  }
});

test('1-bit grayscale PNG (the Omniglot format) decodes to 0 / 255', () => {
  // 10 pixels per row: 1011001110 -> packed into 2 bytes, last 6 bits padding.
  const bits = [1, 0, 1, 1, 0, 0, 1, 1, 1, 0];
  const row = new Uint8Array([0b10110011, 0b10000000]);
  const img = decodeImage(rawPng(10, 2, 1, 0, [row, row]), 'bits.png');
  assert.equal(img.channels, 1);
  assert.deepEqual(Array.from(img.data.subarray(0, 10)), bits.map((b) => b * 255));
  assert.deepEqual(Array.from(img.data.subarray(10)), bits.map((b) => b * 255));
});

test('16-bit gray, gray+alpha, RGBA and palette PNGs', () => {
  const g16 = decodeImage(rawPng(2, 1, 16, 0, [new Uint8Array([0xff, 0xff, 0x80, 0x00])]), 'g16.png');
  assert.deepEqual(Array.from(g16.data), [255, 128]);

  // Gray + alpha: a fully transparent pixel becomes paper (white), an opaque one keeps its value.
  const ga = decodeImage(rawPng(2, 1, 8, 4, [new Uint8Array([0, 0, 10, 255])]), 'ga.png');
  assert.equal(ga.channels, 1);
  assert.deepEqual(Array.from(ga.data), [255, 10]);

  const rgba = decodeImage(rawPng(2, 1, 8, 6, [new Uint8Array([255, 0, 0, 255, 0, 0, 255, 0])]), 'rgba.png');
  assert.equal(rgba.channels, 3);
  assert.deepEqual(Array.from(rgba.data), [255, 0, 0, 255, 255, 255]);

  const palette = new Uint8Array([0, 0, 0, 255, 0, 0, 0, 255, 0, 0, 0, 255]);
  // 4 pixels at 2 bits: indices 0,1,2,3 -> 00 01 10 11
  const pal = decodeImage(rawPng(4, 1, 2, 3, [new Uint8Array([0b00011011])], { PLTE: palette }), 'pal.png');
  assert.equal(pal.channels, 3);
  assert.deepEqual(Array.from(pal.data), [0, 0, 0, 255, 0, 0, 0, 255, 0, 0, 0, 255]);
});

test('JPEG round trip (lossy, close) and channel count', () => {
  const w = 32, h = 24;
  const rgba = new Uint8Array(w * h * 4);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    const i = (y * w + x) * 4;
    rgba[i] = x * 8; rgba[i + 1] = y * 10; rgba[i + 2] = 128; rgba[i + 3] = 255;
  }
  const bytes = jpeg.encode({ width: w, height: h, data: rgba }, 95).data;
  const img = decodeImage(bytes, 'photo.jpg');
  assert.equal(img.width, w);
  assert.equal(img.height, h);
  assert.equal(img.channels, 3);
  let err = 0;
  for (let i = 0, j = 0; i < w * h; i++, j += 3) for (let c = 0; c < 3; c++) err += Math.abs(img.data[j + c]! - rgba[i * 4 + c]!);
  assert.ok(err / (w * h * 3) < 4, `mean abs error ${err / (w * h * 3)}`);
});

test('PGM P5 8-bit and 16-bit, and P2 with comments', () => {
  const samples = [0, 50, 100, 150, 200, 255];
  assert.deepEqual(Array.from(decodeImage(pgm(3, 2, samples), 'a.pgm').data), samples);
  const s16 = decodeImage(pgm(2, 1, [65535, 0], 65535), 'b.pgm');
  assert.deepEqual(Array.from(s16.data), [255, 0]);
  const p2 = new TextEncoder().encode('P2\n# comment\n3 1\n# another\n15\n0 15\n  5\n');
  assert.deepEqual(Array.from(decodeImage(p2, 'c.pgm').data), [0, 255, 85]);
});

test('format comes from magic bytes, not the name', () => {
  const png = encodePng({ width: 1, height: 1, channels: 1, data: new Uint8Array([7]) });
  assert.equal(detectImageFormat(png), 'png');
  assert.equal(decodeImage(png, 'misnamed.jpg').data[0], 7);
  assert.equal(detectImageFormat(pgm(1, 1, [3])), 'pnm');
});

test('corrupt, truncated and unknown files throw an Error naming the file', () => {
  const rng = new Rng(3);
  const png = encodePng(randomImage(rng, 20, 20, 1));
  const cases: Array<[string, Uint8Array]> = [
    ['empty.png', new Uint8Array(0)],
    ['text.png', new TextEncoder().encode('hello, not an image')],
    ['truncated.png', png.subarray(0, Math.floor(png.length / 2))],
    ['truncated-header.png', png.subarray(0, 20)],
  ];
  const flipped = png.slice();
  flipped[flipped.length - 20] ^= 0xff; // inside IDAT: the CRC no longer matches
  cases.push(['flipped.png', flipped]);
  const jpg = jpeg.encode({ width: 16, height: 16, data: new Uint8Array(16 * 16 * 4).fill(200) }, 90).data;
  cases.push(['truncated.jpg', jpg.subarray(0, Math.floor(jpg.length * 0.6))]);
  cases.push(['truncated.pgm', pgm(10, 10, new Uint8Array(100)).subarray(0, 40)]);
  cases.push(['badmax.pgm', new TextEncoder().encode('P5 2 2 0\n\0\0\0\0')]);
  cases.push(['nodims.pgm', new TextEncoder().encode('P5\n')]);
  for (const [name, bytes] of cases) {
    assert.throws(() => decodeImage(bytes, `dir/${name}`), (err: Error) => {
      assert.ok(err.message.includes(`dir/${name}`), `message names the file: ${err.message}`);
      return true;
    }, name);
  }
});

test('decompression bombs are refused before decoding', () => {
  // A PNG header claiming 100000 x 100000 pixels with almost no data behind it.
  const bomb = rawPng(100000, 100000, 8, 0, [new Uint8Array(0)]);
  assert.throws(() => decodeImage(bomb, 'bomb.png'), /bomb\.png.*exceeds the limit/);
  assert.throws(() => decodeImage(pgm(4, 4, new Uint8Array(16)), 'small.pgm', { maxPixels: 10 }), /small\.pgm.*exceeds the limit/);
  const jpg = jpeg.encode({ width: 64, height: 64, data: new Uint8Array(64 * 64 * 4).fill(9) }, 90).data;
  assert.throws(() => decodeImage(jpg, 'big.jpg', { maxPixels: 1000 }), /big\.jpg/);
});

test('toGrayscale uses luma weights', () => {
  const img: Image = { width: 3, height: 1, channels: 3, data: new Uint8Array([255, 0, 0, 0, 255, 0, 255, 255, 255]) };
  assert.deepEqual(Array.from(toGrayscale(img).data), [76, 150, 255]);
});

test('CMYK (Adobe) JPEG decodes to RGB with the right colours, like its RGB twin', () => {
  const patches = decodeImage(fixture('cmyk-patches.jpg'), 'cmyk-patches.jpg');
  assert.deepEqual([patches.width, patches.height, patches.channels], [96, 16, 3]);
  const expected = [[255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 255], [0, 0, 0], [128, 128, 128]];
  expected.forEach((rgb, i) => {
    const o = (8 * patches.width + 16 * i + 8) * 3; // each patch's centre
    const got = Array.from(patches.data.subarray(o, o + 3));
    assert.ok(got.every((v, k) => Math.abs(v - rgb[k]!) <= 3), `patch ${i}: ${got} instead of ${rgb}`);
  });
  const cmyk = decodeImage(fixture('cmyk-face.jpg'), 'cmyk-face.jpg');
  const twin = decodeImage(fixture('rgb-face.jpg'), 'rgb-face.jpg');
  assert.deepEqual([cmyk.width, cmyk.height, cmyk.channels], [twin.width, twin.height, 3]);
  let diff = 0;
  for (let i = 0; i < twin.data.length; i++) diff += Math.abs(cmyk.data[i]! - twin.data[i]!);
  assert.ok(diff / twin.data.length < 3, `mean |CMYK - RGB twin| = ${diff / twin.data.length}`);
});
