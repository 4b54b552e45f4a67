/**
 * Test-time augmentation: an image's embedding is the mean of the embeddings of a few small,
 * fixed affine jitters of it (the identity first), so that one-shot matching depends less on
 * the exact position, slant and size of a single drawing. The jitters are a fixed list (not
 * random): the same image always gets the same embedding.
 */
import { applyAffine, type AffineTransform } from '../data/augment.js';

const deg = Math.PI / 180;
const rotation = (a: number): AffineTransform => ({ a: Math.cos(a), b: -Math.sin(a), c: Math.sin(a), d: Math.cos(a), tx: 0, ty: 0 });
const scale = (s: number): AffineTransform => ({ a: s, b: 0, c: 0, d: s, tx: 0, ty: 0 });
const shearX = (k: number): AffineTransform => ({ a: 1, b: k, c: 0, d: 1, tx: 0, ty: 0 });

/** The jitters, in the order views are added; each is well inside Koch et al.'s training ranges. */
export const TTA_TRANSFORMS: readonly AffineTransform[] = [
  scale(1),
  rotation(6 * deg),
  rotation(-6 * deg),
  scale(1.08),
  scale(0.92),
  shearX(0.12),
  shearX(-0.12),
];

export const MAX_TTA_VIEWS = TTA_TRANSFORMS.length;

export function checkTtaViews(views: number): void {
  if (!Number.isInteger(views) || views < 1 || views > MAX_TTA_VIEWS) {
    throw new Error(`test-time augmentation views must be an integer from 1 (off) to ${MAX_TTA_VIEWS}, got ${views}`);
  }
}

/**
 * `views` jittered copies of `n` contiguous HWC uint8 images, view-major: copy v of image i
 * is image v * n + i. The area uncovered at the borders is filled with 0 (paper after inversion).
 */
export function jitteredViews(flat: Uint8Array, n: number, height: number, width: number, channels: number, views: number): Uint8Array {
  checkTtaViews(views);
  const size = height * width * channels;
  if (flat.length !== n * size) throw new Error(`expected ${n} images of ${height}x${width}x${channels}, got ${flat.length} values`);
  const out = new Uint8Array(views * n * size);
  for (let v = 0; v < views; v++) {
    for (let i = 0; i < n; i++) {
      const dst = out.subarray((v * n + i) * size, (v * n + i + 1) * size);
      applyAffine(flat.subarray(i * size, (i + 1) * size), height, width, channels, TTA_TRANSFORMS[v]!, 0, dst);
    }
  }
  return out;
}
