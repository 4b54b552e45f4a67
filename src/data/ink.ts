/**
 * Deciding from the images whether to invert them. The models expect the interesting strokes
 * bright on a dark background (Omniglot's convention after inversion); "dark ink on light
 * paper" (handwriting, signatures, scans) is inverted, photos (faces) are not.
 *
 * The test looks at a sample of images: paper shows as a light border and a light image on
 * average. Border alone would also flag a face photographed against a white wall; requiring the
 * whole image to be mostly light as well keeps photos out.
 */
import { decodeImage, toGrayscale } from './image.js';
import { resolveLayout, type LayoutName } from './layout.js';
import type { FileSource } from './zip_source.js';

export interface InkDecision {
  invert: boolean;
  /** Mean border intensity of the sampled images, 0..255. */
  borderMean: number;
  /** Mean intensity of the sampled images, 0..255. */
  mean: number;
  sampled: number;
}

const LIGHT_BORDER = 170;
const LIGHT_IMAGE = 150;

/** Mean intensities of a grayscale image: of its 1-pixel border and of the whole. */
export function intensityStats(gray: { width: number; height: number; data: Uint8Array }): { border: number; mean: number } {
  const { width: w, height: h, data } = gray;
  let border = 0;
  let n = 0;
  let total = 0;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const v = data[y * w + x]!;
      total += v;
      if (y === 0 || x === 0 || y === h - 1 || x === w - 1) {
        border += v;
        n++;
      }
    }
  }
  return { border: n ? border / n : 0, mean: w * h ? total / (w * h) : 0 };
}

/** Light paper with dark marks -> invert. */
export function shouldInvert(stats: { border: number; mean: number }): boolean {
  return stats.border >= LIGHT_BORDER && stats.mean >= LIGHT_IMAGE;
}

/** Decides `invert` from up to `sample` images spread evenly over the dataset. */
export function detectInk(source: FileSource, opts: { layout?: LayoutName; sample?: number } = {}): InkDecision {
  const files = resolveLayout(source, opts.layout ?? 'auto').files;
  const k = Math.min(files.length, opts.sample ?? 48);
  if (k === 0) throw new Error(`${source.location}: no images to look at`);
  let border = 0;
  let mean = 0;
  for (let i = 0; i < k; i++) {
    const f = files[Math.floor((i * files.length) / k)]!;
    const img = toGrayscale(decodeImage(source.read(f.path), `${source.location}: ${f.path}`));
    const s = intensityStats(img);
    border += s.border;
    mean += s.mean;
  }
  const stats = { border: border / k, mean: mean / k };
  return { invert: shouldInvert(stats), borderMean: stats.border, mean: stats.mean, sampled: k };
}
