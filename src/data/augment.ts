/**
 * Random affine distortions as in Koch, Zemel & Salakhutdinov 2015 ("Siamese Neural Networks for
 * One-shot Image Recognition", section 3.3): rotation in [-10, 10] degrees, shear in [-0.3, 0.3]
 * per axis, scale in [0.8, 1.2] per axis, translation in [-2, 2] px at 105x105 (scaled here with
 * the image size), each of the four components applied with probability 0.5. The transform is
 * about the image centre, sampled bilinearly, and works on uint8 images with ink = high, so the
 * area uncovered at the borders is filled with 0 (paper).
 */
import { Rng } from '../util/random.js';

export interface AffineRange {
  /** Largest rotation, degrees (Koch: 10). */
  rotationDeg: number;
  /** Largest shear per axis (Koch: 0.3). */
  shear: number;
  /** Scale range per axis (Koch: 0.8..1.2). */
  scaleMin: number;
  scaleMax: number;
  /** Largest translation as a fraction of the image side (Koch: 2 px of 105). */
  translate: number;
  /** Probability that each component (rotation, shear, scale, translation) is applied (Koch: 0.5). */
  probability: number;
  /** Value for pixels that come from outside the image (0 = paper after inversion). */
  fill: number;
}

export const KOCH_AFFINE_RANGE: Readonly<AffineRange> = Object.freeze({
  rotationDeg: 10,
  shear: 0.3,
  scaleMin: 0.8,
  scaleMax: 1.2,
  translate: 2 / 105,
  probability: 0.5,
  fill: 0,
});

/** Ranges that leave every image unchanged (useful to switch augmentation off in one place). */
export const NO_AFFINE_RANGE: Readonly<AffineRange> = Object.freeze({
  rotationDeg: 0, shear: 0, scaleMin: 1, scaleMax: 1, translate: 0, probability: 0, fill: 0,
});

/** Forward map: output position p = M (q - centre) + centre + t for source position q. */
export interface AffineTransform {
  a: number; b: number; c: number; d: number; // M = [[a, b], [c, d]]
  tx: number; ty: number;
}

/** Draws one transform (the identity when every component is skipped). */
export function sampleAffine(rng: Rng, height: number, width: number, range: Partial<AffineRange> = {}): AffineTransform {
  const r = { ...KOCH_AFFINE_RANGE, ...range };
  if (r.scaleMin > r.scaleMax || r.scaleMin <= 0) throw new Error(`augment: bad scale range ${r.scaleMin}..${r.scaleMax}`);
  const use = () => rng.next() < r.probability;
  let theta = 0, shx = 0, shy = 0, sx = 1, sy = 1, tx = 0, ty = 0;
  if (use()) theta = (rng.uniform(-r.rotationDeg, r.rotationDeg) * Math.PI) / 180;
  if (use()) { shx = rng.uniform(-r.shear, r.shear); shy = rng.uniform(-r.shear, r.shear); }
  if (use()) { sx = rng.uniform(r.scaleMin, r.scaleMax); sy = rng.uniform(r.scaleMin, r.scaleMax); }
  if (use()) { tx = rng.uniform(-r.translate, r.translate) * width; ty = rng.uniform(-r.translate, r.translate) * height; }
  // M = Rotation * Shear * Scale
  const cos = Math.cos(theta), sin = Math.sin(theta);
  const s00 = sx, s01 = shx * sy, s10 = shy * sx, s11 = sy; // Shear [[1, shx], [shy, 1]] * diag(sx, sy)
  return {
    a: cos * s00 - sin * s10, b: cos * s01 - sin * s11,
    c: sin * s00 + cos * s10, d: sin * s01 + cos * s11,
    tx, ty,
  };
}

function isIdentity(t: AffineTransform): boolean {
  return t.a === 1 && t.b === 0 && t.c === 0 && t.d === 1 && t.tx === 0 && t.ty === 0;
}

/**
 * Warps an HWC uint8 image by `t` with bilinear sampling; writes into `out` when given
 * (it must not alias `pixels`).
 */
export function applyAffine(pixels: Uint8Array, height: number, width: number, channels: number, t: AffineTransform, fill = 0, out?: Uint8Array): Uint8Array {
  const size = height * width * channels;
  if (pixels.length !== size) throw new Error(`augment: ${pixels.length} bytes for a ${height}x${width}x${channels} image`);
  const dst = out ?? new Uint8Array(size);
  if (isIdentity(t)) { dst.set(pixels); return dst; }
  const det = t.a * t.d - t.b * t.c;
  if (!(Math.abs(det) > 1e-9)) throw new Error('augment: the transform is singular');
  // Inverse map from output pixel centre to source coordinates.
  const ia = t.d / det, ib = -t.b / det, ic = -t.c / det, id = t.a / det;
  const cx = (width - 1) / 2, cy = (height - 1) / 2;
  const w1 = width - 1, h1 = height - 1;
  const rowStride = width * channels;
  let o = 0;
  for (let y = 0; y < height; y++) {
    const py = y - cy - t.ty;
    // Source position for x = 0, then step by (ia, ic) per output pixel.
    let sx = ia * (-cx - t.tx) + ib * py + cx;
    let sy = ic * (-cx - t.tx) + id * py + cy;
    for (let x = 0; x < width; x++, sx += ia, sy += ic) {
      const x0 = Math.floor(sx), y0 = Math.floor(sy);
      if (x0 < -1 || y0 < -1 || x0 > w1 || y0 > h1) {
        for (let ch = 0; ch < channels; ch++) dst[o++] = fill;
        continue;
      }
      const fx = sx - x0, fy = sy - y0;
      if (channels === 1 && x0 >= 0 && y0 >= 0 && x0 < w1 && y0 < h1) {
        // Interior, single channel: the common case, without bounds checks.
        const p = y0 * width + x0;
        const top = pixels[p]! + fx * (pixels[p + 1]! - pixels[p]!);
        const bottom = pixels[p + width]! + fx * (pixels[p + width + 1]! - pixels[p + width]!);
        dst[o++] = top + fy * (bottom - top) + 0.5;
        continue;
      }
      const w00 = (1 - fx) * (1 - fy), w01 = fx * (1 - fy), w10 = (1 - fx) * fy, w11 = fx * fy;
      const in00 = x0 >= 0 && y0 >= 0, in01 = x0 < w1 && y0 >= 0, in10 = x0 >= 0 && y0 < h1, in11 = x0 < w1 && y0 < h1;
      const base = y0 * rowStride + x0 * channels;
      for (let ch = 0; ch < channels; ch++) {
        const p = base + ch;
        const v =
          w00 * (in00 ? pixels[p]! : fill) +
          w01 * (in01 ? pixels[p + channels]! : fill) +
          w10 * (in10 ? pixels[p + rowStride]! : fill) +
          w11 * (in11 ? pixels[p + rowStride + channels]! : fill);
        dst[o++] = v + 0.5; // Uint8Array truncates: +0.5 rounds, and v stays within 0..255
      }
    }
  }
  return dst;
}

/** A randomly distorted copy of an HWC uint8 image (Koch et al. 2015 ranges by default). */
export function randomAffine(pixels: Uint8Array, h: number, w: number, c: number, rng: Rng, range?: Partial<AffineRange>, out?: Uint8Array): Uint8Array {
  const t = sampleAffine(rng, h, w, range);
  return applyAffine(pixels, h, w, c, t, range?.fill ?? KOCH_AFFINE_RANGE.fill, out);
}
