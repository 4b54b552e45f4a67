/**
 * Signature-style ink normalisation (Hafemann, Sabourin & Oliveira 2017, "Learning features for
 * offline handwritten signature verification"): the paper is removed by Otsu thresholding, the ink
 * keeps its gray levels (inverted: ink bright, paper exactly 0), and the ink is centred on a fixed
 * canvas by its centre of mass.
 *
 * Hafemann et al. centre on a canvas of fixed *pixel* size, which assumes one scan resolution. Our
 * scans range from 72x36 to 2924x650 pixels, so the canvas is sized to the ink instead: the smallest
 * window of the model's aspect ratio, centred on the centre of mass, that holds the ink (plus a
 * margin), resized to the model's size. Aspect ratio is kept; the result does not depend on the
 * scan resolution.
 */
import { type Image, toGrayscale } from './image.js';
// preprocess.ts imports this module too; resize is only called at run time, so the cycle is harmless.
import { resize } from './preprocess.js';

export interface InkNormalization {
  /** Background removal: Otsu's threshold on the gray levels. */
  threshold: 'otsu';
  /** Where the ink goes on the canvas: its centre of mass at the canvas centre. */
  centre: 'mass';
  /** Free border kept around the ink, as a fraction of the canvas (default 0.04). */
  margin?: number;
  /**
   * Smallest difference (0..255 gray levels) between the mean ink and the mean paper level for the
   * page to count as written on (default 40). Below it the page is blank: paper noise only.
   */
  minContrast?: number;
  /**
   * Fraction of the ink mass left out at each end of each axis when measuring the ink's extent,
   * so that a speck of dust far from the signature does not shrink it (default 0.005).
   */
  trim?: number;
}

export const DEFAULT_INK_NORMALIZATION: Required<InkNormalization> = { threshold: 'otsu', centre: 'mass', margin: 0.04, minContrast: 40, trim: 0.005 };

/** Thrown for a page with no ink that stands out from the paper. */
export class BlankImageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BlankImageError';
  }
}

export function validateInkNormalization(n: InkNormalization): void {
  if (n.threshold !== 'otsu') throw new Error(`preprocess.ink.threshold must be 'otsu', got '${String(n.threshold)}'`);
  if (n.centre !== 'mass') throw new Error(`preprocess.ink.centre must be 'mass', got '${String(n.centre)}'`);
  const range = (v: number | undefined, name: string, lo: number, hi: number) => {
    if (v !== undefined && !(Number.isFinite(v) && v >= lo && v < hi)) throw new Error(`preprocess.ink.${name} must be in [${lo}, ${hi}), got ${v}`);
  };
  range(n.margin, 'margin', 0, 0.5);
  range(n.minContrast, 'minContrast', 0, 255);
  range(n.trim, 'trim', 0, 0.25);
}

/**
 * Otsu's threshold of a 256-bin histogram: the level t that maximises the between-class variance
 * of {v <= t} and {v > t}. Returns the class means too; null when the histogram has one level only.
 */
export function otsuThreshold(histogram: ArrayLike<number>): { threshold: number; lowMean: number; highMean: number } | null {
  let total = 0, sum = 0;
  for (let i = 0; i < 256; i++) { total += histogram[i]!; sum += i * histogram[i]!; }
  let wLow = 0, sumLow = 0, best = -1, out: { threshold: number; lowMean: number; highMean: number } | null = null;
  for (let t = 0; t < 255; t++) {
    wLow += histogram[t]!;
    sumLow += t * histogram[t]!;
    const wHigh = total - wLow;
    if (wLow === 0) continue;
    if (wHigh === 0) break;
    const lowMean = sumLow / wLow, highMean = (sum - sumLow) / wHigh;
    const between = wLow * wHigh * (lowMean - highMean) ** 2;
    if (between > best) { best = between; out = { threshold: t, lowMean, highMean }; }
  }
  return out;
}

/**
 * Gray page -> inverted ink on 0 paper: pixels at or below Otsu's threshold keep 255 - v, the rest
 * become 0. Throws BlankImageError when no ink stands out from the paper.
 */
export function removeBackground(gray: Image, minContrast = DEFAULT_INK_NORMALIZATION.minContrast): Image {
  if (gray.channels !== 1) throw new Error(`removeBackground expects a grayscale image, got ${gray.channels} channels`);
  const hist = new Float64Array(256);
  for (const v of gray.data) hist[v]!++;
  const otsu = otsuThreshold(hist);
  if (!otsu) throw new BlankImageError(`blank page: every pixel has the same gray level (${gray.data[0]}), no ink to verify`);
  const contrast = otsu.highMean - otsu.lowMean;
  if (contrast < minContrast) {
    throw new BlankImageError(`blank page: no ink stands out from the paper (ink and paper differ by ${contrast.toFixed(0)} gray levels, at least ${minContrast} needed)`);
  }
  const out = new Uint8Array(gray.data.length);
  let inked = 0;
  for (let i = 0; i < out.length; i++) {
    const v = gray.data[i]!;
    if (v <= otsu.threshold) { out[i] = 255 - v; inked++; }
  }
  if (inked > 0.75 * out.length) {
    // Mostly "ink": a dark page (or a negative scan) rather than a signature on paper.
    throw new BlankImageError(`no signature on paper: ${((100 * inked) / out.length).toFixed(0)}% of the page is darker than the paper level (expected dark ink on light paper)`);
  }
  return { width: gray.width, height: gray.height, channels: 1, data: out };
}

/** Centre of mass (ink-weighted) and the trimmed extent of the ink along each axis. */
export function inkMoments(ink: Image, trim = DEFAULT_INK_NORMALIZATION.trim): { cx: number; cy: number; x0: number; x1: number; y0: number; y1: number } {
  const { width: w, height: h, data } = ink;
  const colMass = new Float64Array(w), rowMass = new Float64Array(h);
  let mass = 0;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const v = data[y * w + x]!;
      colMass[x]! += v;
      rowMass[y]! += v;
    }
  }
  let sx = 0, sy = 0;
  for (let x = 0; x < w; x++) { sx += (x + 0.5) * colMass[x]!; mass += colMass[x]!; }
  for (let y = 0; y < h; y++) sy += (y + 0.5) * rowMass[y]!;
  if (mass === 0) throw new BlankImageError('blank page: no ink left after removing the background');
  const [x0, x1] = quantileExtent(colMass, mass, trim);
  const [y0, y1] = quantileExtent(rowMass, mass, trim);
  return { cx: sx / mass, cy: sy / mass, x0, x1, y0, y1 };
}

/** [first, last + 1) pixel positions between the trim and 1 - trim quantiles of the mass. */
function quantileExtent(profile: Float64Array, mass: number, trim: number): [number, number] {
  const lo = mass * trim, hi = mass * (1 - trim);
  let acc = 0, start = 0, end = profile.length;
  let foundStart = false;
  for (let i = 0; i < profile.length; i++) {
    acc += profile[i]!;
    if (!foundStart && acc > lo) { start = i; foundStart = true; }
    if (acc >= hi) { end = i + 1; break; }
  }
  return [start, Math.max(end, start + 1)];
}

/**
 * The whole normalisation: any image -> width x height grayscale bytes, ink bright on 0, centred
 * by its centre of mass, scaled (aspect kept) so that the ink fits the canvas.
 */
export function normalizeInk(img: Image, width: number, height: number, opts: InkNormalization = DEFAULT_INK_NORMALIZATION): Uint8Array {
  const o = { ...DEFAULT_INK_NORMALIZATION, ...opts };
  const ink = removeBackground(img.channels === 1 ? img : toGrayscale(img), o.minContrast);
  const m = inkMoments(ink, o.trim);
  // Half extents around the centre of mass; the canvas must hold both sides.
  const hx = Math.max(m.cx - m.x0, m.x1 - m.cx, 0.5);
  const hy = Math.max(m.cy - m.y0, m.y1 - m.cy, 0.5);
  const usable = 1 - 2 * o.margin;
  // Output pixels per source pixel: the larger half extent decides.
  const scale = Math.min((usable * width) / (2 * hx), (usable * height) / (2 * hy));
  const winW = Math.max(1, Math.round(width / scale));
  const winH = Math.max(1, Math.round(height / scale));
  const window = cropZeroPadded(ink, Math.round(m.cx - winW / 2), Math.round(m.cy - winH / 2), winW, winH);
  return resize(window, width, height).data;
}

/** A w x h window at (x, y) of a 1-channel image; outside the image is 0 (no ink). */
export function cropZeroPadded(img: Image, x: number, y: number, w: number, h: number): Image {
  const out = new Uint8Array(w * h);
  const xs = Math.max(0, x), xe = Math.min(img.width, x + w);
  if (xe > xs) {
    for (let yy = Math.max(0, y); yy < Math.min(img.height, y + h); yy++) {
      out.set(img.data.subarray(yy * img.width + xs, yy * img.width + xe), (yy - y) * w + (xs - x));
    }
  }
  return { width: w, height: h, channels: 1, data: out };
}
