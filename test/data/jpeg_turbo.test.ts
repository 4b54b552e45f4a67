/** libjpeg-turbo (wasm) as decodeImage's JPEG fast path agrees with jpeg-js and keeps every refusal. */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import jpeg from 'jpeg-js';
import { decodeImage, registerJpegDecoder, type Image } from '../../src/data/image.js';
import { decodeJpegTurbo } from '../../src/data/jpeg_turbo.js';
import { Rng } from '../../src/util/random.js';

after(() => registerJpegDecoder(decodeJpegTurbo));
const fixture = (name: string) => new Uint8Array(readFileSync(new URL(`../fixtures/${name}`, import.meta.url)));

/** A smooth colour JPEG (gradients plus noise), as a photo would be. */
function photoJpeg(w: number, h: number): Uint8Array {
  const rng = new Rng(3);
  const rgba = Buffer.alloc(w * h * 4);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    const i = (y * w + x) * 4;
    const v = [x * 255 / w, y * 255 / h, ((x + y) * 128) / (w + h) + 60].map((c) => Math.max(0, Math.min(255, c + rng.int(20) - 10)));
    for (let c = 0; c < 3; c++) rgba[i + c] = v[c]!;
    rgba[i + 3] = 255;
  }
  return new Uint8Array(jpeg.encode({ data: rgba, width: w, height: h }, 90).data);
}

function both(bytes: Uint8Array, name: string): { slow: Image; fast: Image } {
  registerJpegDecoder(null);
  const slow = decodeImage(bytes, name);
  registerJpegDecoder(decodeJpegTurbo);
  return { slow, fast: decodeImage(bytes, name) };
}

test('libjpeg-turbo decodes like jpeg-js (same size and channels, within IDCT rounding)', () => {
  for (const [name, bytes] of [['photo.jpg', photoJpeg(160, 120)], ['rgb-face.jpg', fixture('rgb-face.jpg')]] as const) {
    const { slow, fast } = both(bytes, name);
    assert.deepEqual([fast.width, fast.height, fast.channels], [slow.width, slow.height, slow.channels]);
    let sum = 0;
    for (let i = 0; i < slow.data.length; i++) sum += Math.abs(slow.data[i]! - fast.data[i]!);
    assert.ok(sum / slow.data.length < 1.5, `${name}: mean |turbo - jpeg-js| = ${sum / slow.data.length}`);
    assert.ok(decodeJpegTurbo(bytes, slow.width, slow.height, 3) !== null, `${name}: the fast path was taken`);
  }
});

test('the fast path leaves CMYK, truncated and corrupt files to jpeg-js: same colours, same errors', () => {
  registerJpegDecoder(decodeJpegTurbo);
  const cmyk = decodeImage(fixture('cmyk-patches.jpg'), 'cmyk.jpg');
  assert.deepEqual(Array.from(cmyk.data.subarray((8 * 96 + 8) * 3, (8 * 96 + 8) * 3 + 3)).map((v) => Math.round(v / 16)), [16, 0, 0]);
  const good = photoJpeg(160, 120);
  assert.throws(() => decodeImage(good.subarray(0, Math.floor(good.length * 0.6)), 'cut.jpg'), /^Error: cut\.jpg: cannot decode JPEG image/);
  const corrupt = good.slice();
  corrupt.fill(0xff, 300, 340); // a run of marker bytes inside the entropy-coded data
  registerJpegDecoder(null);
  let slowError = '';
  try { decodeImage(corrupt, 'bad.jpg'); } catch (e) { slowError = (e as Error).message; }
  registerJpegDecoder(decodeJpegTurbo);
  let fastError = '';
  try { decodeImage(corrupt, 'bad.jpg'); } catch (e) { fastError = (e as Error).message; }
  assert.equal(fastError, slowError);
  // After an error, the decoder still works (a fresh wasm instance).
  assert.equal(decodeImage(good, 'again.jpg').width, 160);
});
