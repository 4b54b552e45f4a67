/** The face benches' photos: face-api's demo pictures (MIT, in node_modules) as 640x480 JPEGs. */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import jpeg from 'jpeg-js';
import { decodeImage } from '../src/data/image.js';
import { resize } from '../src/data/preprocess.js';

const demoDir = join(dirname(createRequire(import.meta.url).resolve('@vladmandic/face-api/package.json')), 'demo');
/** A 640x480 JPEG of demo sample k (centre crop to 4:3, then area-resized). */
export function benchPhoto(k: number): Uint8Array {
  const img = decodeImage(readFileSync(join(demoDir, `sample${k}.jpg`)), `sample${k}.jpg`);
  const w = Math.min(img.width, Math.round((img.height * 4) / 3));
  const h = Math.round((w * 3) / 4);
  const x0 = Math.floor((img.width - w) / 2), y0 = Math.floor((img.height - h) / 2);
  const data = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) data.set(img.data.subarray(((y0 + y) * img.width + x0) * 3, ((y0 + y) * img.width + x0 + w) * 3), y * w * 3);
  const small = resize({ width: w, height: h, channels: 3, data }, 640, 480);
  const rgba = Buffer.alloc(640 * 480 * 4);
  for (let i = 0; i < 640 * 480; i++) { rgba.set(small.data.subarray(i * 3, i * 3 + 3), i * 4); rgba[i * 4 + 3] = 255; }
  return new Uint8Array(jpeg.encode({ data: rgba, width: 640, height: 480 }, 90).data);
}
