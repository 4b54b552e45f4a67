/**
 * From a decoded image to the model's compact uint8 input: channel conversion, optional inversion
 * (so that ink is high and paper is 0, which is what zero-padding and augmentation fill assume),
 * optional crop to the ink's bounding box, and a resize (area averaging when shrinking, so that
 * Omniglot's thin 1-bit strokes survive 105 -> 28 as gray levels instead of aliasing away).
 */
import { type Image, assertImage, toGrayscale, toRgb } from './image.js';
import { normalizeInk, validateInkNormalization, type InkNormalization } from './ink_normalize.js';

export interface PreprocessConfig {
  height: number;
  width: number;
  channels: 1 | 3;
  /** Dark ink on light paper -> ink = high (255), paper = 0. */
  invert: boolean;
  /** Crop to the bounding box of the ink (after inversion: values above inkThreshold) first. */
  cropToInk?: boolean;
  /** Keep the aspect ratio when resizing, padding with background (0) to the model size. */
  keepAspect?: boolean;
  /** Ink threshold for cropToInk on the 0..255 scale after inversion (default 64). */
  inkThreshold?: number;
  /** Margin kept around the ink box, as a fraction of the box's larger side (default 0.05). */
  cropMargin?: number;
  /**
   * Signature-style normalisation (src/data/ink_normalize.ts): Otsu background removal, ink
   * centred by its centre of mass, aspect kept. Replaces cropToInk / keepAspect; needs
   * channels 1 and invert (the output is always ink bright on 0). A blank page throws.
   */
  ink?: InkNormalization;
  /**
   * Face models: detect the largest face and crop it by its landmarks to height x width RGB
   * (src/applications/faces/pipeline.ts). Detection is asynchronous, so these models take images
   * through SiameseScorer.prepareImages / loadImageDataset, never through preprocess().
   */
  face?: FaceDetectionConfig;
}

/** How a face model finds faces (src/applications/faces/pipeline.ts). */
export interface FaceDetectionConfig {
  /** Detector score below which a box is not a face. */
  minConfidence: number;
  /**
   * face-api's detector: 'ssd-mobilenet-v1' (default; its input is fixed at 512x512) or
   * 'tiny-face-detector' (a Tiny-YOLOv2, ~5x cheaper, run at `inputSize`).
   */
  detector?: FaceDetectorName;
  /** The tiny face detector's input side, a multiple of 32 (default 416). */
  inputSize?: number;
}
export type FaceDetectorName = 'ssd-mobilenet-v1' | 'tiny-face-detector';

export function validateFaceDetection(face: FaceDetectionConfig): void {
  if (!(face.minConfidence > 0 && face.minConfidence < 1)) throw new Error(`face detection: minConfidence must be in (0, 1), got ${face.minConfidence}`);
  if (face.detector !== undefined && face.detector !== 'ssd-mobilenet-v1' && face.detector !== 'tiny-face-detector') {
    throw new Error(`face detection: detector must be 'ssd-mobilenet-v1' or 'tiny-face-detector', got '${face.detector}'`);
  }
  if (face.inputSize !== undefined && (!Number.isInteger(face.inputSize) || face.inputSize % 32 !== 0 || face.inputSize < 128 || face.inputSize > 1024)) {
    throw new Error(`face detection: inputSize must be a multiple of 32 in 128..1024, got ${face.inputSize}`);
  }
}

export function validatePreprocessConfig(cfg: PreprocessConfig): void {
  for (const k of ['height', 'width'] as const) {
    if (!Number.isInteger(cfg[k]) || cfg[k] <= 0 || cfg[k] > 4096) {
      throw new Error(`preprocess: ${k} must be an integer in 1..4096, got ${cfg[k]}`);
    }
  }
  if (cfg.channels !== 1 && cfg.channels !== 3) throw new Error(`preprocess: channels must be 1 or 3, got ${cfg.channels}`);
  if (cfg.ink) {
    if (cfg.channels !== 1 || !cfg.invert) throw new Error('preprocess: ink normalisation gives bright ink on a 0 background: it needs channels 1 and invert true');
    validateInkNormalization(cfg.ink);
  }
  if (cfg.face) validateFaceDetection(cfg.face);
}

/** Returns height * width * channels bytes (HWC) at the model's size. */
export function preprocess(img: Image, cfg: PreprocessConfig): Uint8Array {
  validatePreprocessConfig(cfg);
  if (cfg.face) throw new Error('this model finds faces first, asynchronously: give it photos through FewShotClassifier.fitAsync/predictAsync, SiameseScorer.prepareImages or loadImageDataset, not preprocess()');
  assertImage(img);
  if (cfg.ink) return normalizeInk(img, cfg.width, cfg.height, cfg.ink);
  let im = cfg.channels === 1 ? toGrayscale(img) : toRgb(img);
  if (cfg.invert) im = invertImage(im);
  if (cfg.cropToInk) im = cropToInk(im, cfg.inkThreshold ?? 64, cfg.cropMargin ?? 0.05);
  if (cfg.keepAspect && im.width * cfg.height !== im.height * cfg.width) {
    return resizeKeepAspect(im, cfg.width, cfg.height);
  }
  if (im.width === cfg.width && im.height === cfg.height) return im.data === img.data ? im.data.slice() : im.data;
  return resize(im, cfg.width, cfg.height).data;
}

/** 255 - v, in a new image. */
export function invertImage(img: Image): Image {
  const d = img.data;
  const out = new Uint8Array(d.length);
  for (let i = 0; i < d.length; i++) out[i] = 255 - d[i]!;
  return { ...img, data: out };
}

/** Box around every pixel with some channel above `threshold`, plus a margin; the whole image when blank. */
export function inkBoundingBox(img: Image, threshold: number): { x0: number; y0: number; x1: number; y1: number } | null {
  const { width, height, channels, data } = img;
  let x0 = width, y0 = height, x1 = -1, y1 = -1;
  for (let y = 0; y < height; y++) {
    const row = y * width * channels;
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < channels; c++) {
        if (data[row + x * channels + c]! > threshold) {
          if (x < x0) x0 = x;
          if (x > x1) x1 = x;
          if (y < y0) y0 = y;
          if (y > y1) y1 = y;
          break;
        }
      }
    }
  }
  return x1 < 0 ? null : { x0, y0, x1: x1 + 1, y1: y1 + 1 };
}

/** Crops to the ink plus a margin; a blank image is returned whole. */
export function cropToInk(img: Image, threshold = 64, margin = 0.05): Image {
  const box = inkBoundingBox(img, threshold);
  if (!box) return img;
  const m = Math.round(Math.max(box.x1 - box.x0, box.y1 - box.y0) * margin);
  const x0 = Math.max(0, box.x0 - m), y0 = Math.max(0, box.y0 - m);
  const x1 = Math.min(img.width, box.x1 + m), y1 = Math.min(img.height, box.y1 + m);
  return crop(img, x0, y0, x1 - x0, y1 - y0);
}

/** A rectangle of an image (clamped to it). */
export function crop(img: Image, x: number, y: number, w: number, h: number): Image {
  const x0 = Math.max(0, Math.floor(x)), y0 = Math.max(0, Math.floor(y));
  const x1 = Math.min(img.width, Math.floor(x + w)), y1 = Math.min(img.height, Math.floor(y + h));
  if (x1 <= x0 || y1 <= y0) throw new Error(`crop: rectangle ${x},${y} ${w}x${h} lies outside the ${img.width}x${img.height} image`);
  const c = img.channels;
  const out = new Uint8Array((x1 - x0) * (y1 - y0) * c);
  for (let yy = y0; yy < y1; yy++) {
    out.set(img.data.subarray((yy * img.width + x0) * c, (yy * img.width + x1) * c), (yy - y0) * (x1 - x0) * c);
  }
  return { width: x1 - x0, height: y1 - y0, channels: c, data: out };
}

/** Fits the image inside width x height without distortion, centred, padded with 0. */
export function resizeKeepAspect(img: Image, width: number, height: number): Uint8Array {
  const scale = Math.min(width / img.width, height / img.height);
  const w = Math.max(1, Math.min(width, Math.round(img.width * scale)));
  const h = Math.max(1, Math.min(height, Math.round(img.height * scale)));
  const inner = resize(img, w, h);
  const c = img.channels;
  const out = new Uint8Array(width * height * c);
  const ox = (width - w) >> 1, oy = (height - h) >> 1;
  for (let y = 0; y < h; y++) out.set(inner.data.subarray(y * w * c, (y + 1) * w * c), ((y + oy) * width + ox) * c);
  return out;
}

/**
 * Per-axis resampling weights: for each output index, a run of source indices and weights.
 * Shrinking uses the exact area overlap of output pixel [i, i+1) * scale with each source pixel
 * (box filter); enlarging uses bilinear interpolation between pixel centres.
 */
interface AxisWeights { start: Int32Array; count: Int32Array; weights: Float32Array; stride: number }

const axisCache = new Map<string, AxisWeights>();

function axisWeights(src: number, dst: number): AxisWeights {
  const key = `${src}>${dst}`;
  const cached = axisCache.get(key);
  if (cached) return cached;
  const scale = src / dst;
  const stride = scale > 1 ? Math.ceil(scale) + 2 : 2;
  const start = new Int32Array(dst), count = new Int32Array(dst), weights = new Float32Array(dst * stride);
  for (let i = 0; i < dst; i++) {
    if (scale > 1) {
      const a = i * scale, b = (i + 1) * scale;
      const s0 = Math.floor(a), s1 = Math.min(src, Math.ceil(b));
      start[i] = s0;
      count[i] = s1 - s0;
      for (let s = s0; s < s1; s++) {
        weights[i * stride + s - s0] = (Math.min(b, s + 1) - Math.max(a, s)) / scale;
      }
    } else {
      const center = (i + 0.5) * scale - 0.5;
      const s0 = Math.max(0, Math.min(src - 1, Math.floor(center)));
      const s1 = Math.min(src - 1, s0 + 1);
      const t = Math.max(0, Math.min(1, center - s0));
      start[i] = s0;
      if (s1 === s0) { count[i] = 1; weights[i * stride] = 1; }
      else { count[i] = 2; weights[i * stride] = 1 - t; weights[i * stride + 1] = t; }
    }
  }
  const w = { start, count, weights, stride };
  if (axisCache.size > 256) axisCache.clear();
  axisCache.set(key, w);
  return w;
}

/** Separable resize (area when shrinking, bilinear when enlarging), rounded to uint8. */
export function resize(img: Image, width: number, height: number): Image {
  const { width: sw, height: sh, channels: c, data } = img;
  if (sw === width && sh === height) return { ...img, data: data.slice() };
  const wx = axisWeights(sw, width), wy = axisWeights(sh, height);
  // Horizontal pass into float rows, then vertical pass.
  const tmp = new Float32Array(sh * width * c);
  for (let y = 0; y < sh; y++) {
    const srcRow = y * sw * c, dstRow = y * width * c;
    for (let x = 0; x < width; x++) {
      const s0 = wx.start[x]!, n = wx.count[x]!, wo = x * wx.stride;
      for (let ch = 0; ch < c; ch++) {
        let acc = 0;
        for (let k = 0; k < n; k++) acc += wx.weights[wo + k]! * data[srcRow + (s0 + k) * c + ch]!;
        tmp[dstRow + x * c + ch] = acc;
      }
    }
  }
  const out = new Uint8Array(height * width * c);
  const rowLen = width * c;
  for (let y = 0; y < height; y++) {
    const s0 = wy.start[y]!, n = wy.count[y]!, wo = y * wy.stride;
    const dst = y * rowLen;
    for (let i = 0; i < rowLen; i++) {
      let acc = 0;
      for (let k = 0; k < n; k++) acc += wy.weights[wo + k]! * tmp[(s0 + k) * rowLen + i]!;
      out[dst + i] = acc <= 0 ? 0 : acc >= 255 ? 255 : Math.round(acc);
    }
  }
  return { width, height, channels: c, data: out };
}
