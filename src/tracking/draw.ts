/**
 * Pictures of a run: boxes drawn on frames, and a strip of a few evenly spaced frames side by side
 * (ground truth green, trackers in their own colours), saved as PNG.
 */
import type { Box } from './boxes.js';
import type { Image } from './data_access.js';
import { downscaleTo } from './downscale.js';

export type Rgb = [number, number, number];
export const GROUND_TRUTH_COLOR: Rgb = [0, 200, 0];
export const TRACKER_COLORS: Rgb[] = [
  [230, 20, 20],
  [30, 90, 255],
  [255, 170, 0],
  [200, 0, 200],
];

function toRgb(img: Image): Image {
  if (img.channels === 3) return { ...img, data: img.data.slice() };
  const data = new Uint8Array(img.width * img.height * 3);
  for (let i = 0; i < img.width * img.height; i++) data[i * 3] = data[i * 3 + 1] = data[i * 3 + 2] = img.data[i]!;
  return { width: img.width, height: img.height, channels: 3, data };
}

/** Draws the outline of `box` in place (RGB image). */
export function drawBox(img: Image, box: Box, color: Rgb, thickness = 2): void {
  if (img.channels !== 3) throw new Error('drawBox needs an RGB image');
  const x0 = Math.round(box.x);
  const y0 = Math.round(box.y);
  const x1 = Math.round(box.x + box.w) - 1;
  const y1 = Math.round(box.y + box.h) - 1;
  const set = (x: number, y: number) => {
    if (x < 0 || y < 0 || x >= img.width || y >= img.height) return;
    const o = (y * img.width + x) * 3;
    img.data[o] = color[0];
    img.data[o + 1] = color[1];
    img.data[o + 2] = color[2];
  };
  for (let t = 0; t < thickness; t++) {
    for (let x = x0; x <= x1; x++) {
      set(x, y0 + t);
      set(x, y1 - t);
    }
    for (let y = y0; y <= y1; y++) {
      set(x0 + t, y);
      set(x1 - t, y);
    }
  }
}

/** Indices of `count` evenly spaced frames of a sequence of `length`. */
export function stripIndices(length: number, count = 6): number[] {
  if (length <= count) return Array.from({ length }, (_, i) => i);
  return Array.from({ length: count }, (_, i) => Math.round((i * (length - 1)) / (count - 1)));
}

/** A frame with the ground truth and predictions drawn, scaled to `height` pixels. */
export function annotatedFrame(frame: Image, truth: Box | null, predictions: Box[], height = 180): Image {
  const { image, factor } = downscaleTo(toRgb(frame), Math.max(height, Math.round((height * frame.width) / frame.height)));
  const out = toRgb(image);
  const scale = (b: Box): Box => ({ x: b.x * factor, y: b.y * factor, w: b.w * factor, h: b.h * factor });
  if (truth) drawBox(out, scale(truth), GROUND_TRUTH_COLOR);
  predictions.forEach((p, i) => drawBox(out, scale(p), TRACKER_COLORS[i % TRACKER_COLORS.length]!));
  return out;
}

/** Frames side by side with a 4-pixel white gap, all brought to the same height. */
export function hstack(frames: Image[]): Image {
  if (frames.length === 0) throw new Error('hstack: no frames');
  const h = Math.max(...frames.map((f) => f.height));
  const gap = 4;
  const w = frames.reduce((a, f) => a + f.width, 0) + gap * (frames.length - 1);
  const data = new Uint8Array(w * h * 3).fill(255);
  let x0 = 0;
  for (const f of frames) {
    for (let y = 0; y < f.height; y++) data.set(f.data.subarray(y * f.width * 3, (y + 1) * f.width * 3), (y * w + x0) * 3);
    x0 += f.width + gap;
  }
  return { width: w, height: h, channels: 3, data };
}
