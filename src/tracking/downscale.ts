/**
 * Area-average downscaling of a frame (used to keep still images for training small in memory;
 * the crops are resampled anyway, so detail below the crop resolution is not lost).
 */
import type { Image } from './data_access.js';
import { cropResize } from './crop.js';

export function downscaleTo(img: Image, maxSide: number): { image: Image; factor: number } {
  const f = Math.min(1, maxSide / Math.max(img.width, img.height));
  if (f === 1) return { image: img, factor: 1 };
  const w = Math.max(1, Math.round(img.width * f));
  const h = Math.max(1, Math.round(img.height * f));
  // A square crop covering the whole frame, resized, then cut to the frame's aspect.
  const side = Math.max(img.width, img.height);
  const out = Math.max(w, h);
  const sq = cropResize(img, img.width / 2, img.height / 2, side, out, [0, 0, 0]);
  const data = new Uint8Array(w * h * 3);
  const ox = Math.floor((out - w) / 2);
  const oy = Math.floor((out - h) / 2);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let c = 0; c < 3; c++) data[(y * w + x) * 3 + c] = Math.round(sq[((y + oy) * out + x + ox) * 3 + c]! * 255);
    }
  }
  return { image: { width: w, height: h, channels: 3, data }, factor: w / img.width };
}
