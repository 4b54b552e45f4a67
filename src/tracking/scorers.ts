/**
 * The two score-map makers the tracker is run with: the learned Siamese encoder (SiamFC) and the
 * raw-pixel baseline, normalised cross-correlation. Both see the same crops; NCC is computed with
 * the same conv2d machinery (the zero-mean, unit-norm exemplar as the filter; local window norms
 * by average pooling), so it is also fast.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { SiamNetwork } from './siam_network.js';
import type { ResponseScorer } from './tracker.js';

/** Crops (HWC, [0,1]) as one [n, size, size, 3] batch. */
export function stack(crops: Float32Array[], size: number): tf.Tensor4D {
  const data = new Float32Array(crops.length * size * size * 3);
  crops.forEach((c, i) => data.set(c, i * size * size * 3));
  return tf.tensor4d(data, [crops.length, size, size, 3]);
}

/** A [n, s, s, 1] score tensor as n square maps. */
export function unstackMaps(t: tf.Tensor4D): { maps: Float32Array[]; size: number } {
  const [n, h, w] = t.shape;
  const all = t.dataSync() as Float32Array;
  const maps = Array.from({ length: n }, (_, i) => all.slice(i * h * w, (i + 1) * h * w));
  return { maps, size: h === w ? h : (() => { throw new Error(`non-square score map ${h}x${w}`); })() };
}

/** A SiamNetwork as a scorer; disposing the scorer frees the exemplar, not the network. */
export class SiamFCScorer implements ResponseScorer {
  readonly name = 'siamfc';
  readonly stride: number;
  private exemplar: tf.Tensor4D | null = null;
  private templateShape: [number, number, number, number] | null = null;

  constructor(private readonly network: SiamNetwork) {
    this.stride = network.stride;
  }

  setExemplar(crop: Float32Array, size: number): void {
    this.exemplar?.dispose();
    this.exemplar = tf.tidy(() => this.network.embedExemplar(stack([crop], size)));
    this.templateShape = this.exemplar.shape;
  }

  embedTemplate(crop: Float32Array, size: number): Float32Array {
    const z = tf.tidy(() => this.network.embedExemplar(stack([crop], size)));
    try {
      this.templateShape = z.shape;
      return z.dataSync() as Float32Array;
    } finally {
      z.dispose();
    }
  }

  setTemplate(features: Float32Array): void {
    const shape = this.templateShape;
    if (!shape) throw new Error('SiamFCScorer: embedTemplate before setTemplate');
    if (features.length !== shape.reduce((a, b) => a * b, 1)) throw new Error(`SiamFCScorer: template of ${features.length} values, expected shape ${shape.join('x')}`);
    this.exemplar?.dispose();
    this.exemplar = tf.tensor4d(features, shape);
  }

  score(crops: Float32Array[], cropSize: number): { maps: Float32Array[]; size: number } {
    const z = this.exemplar;
    if (!z) throw new Error('SiamFCScorer: setExemplar before score');
    const t = tf.tidy(() => {
      return this.network.correlate(z, this.network.embedSearch(stack(crops, cropSize)));
    });
    try {
      return unstackMaps(t);
    } finally {
      t.dispose();
    }
  }

  dispose(): void {
    this.exemplar?.dispose();
    this.exemplar = null;
  }
}

/** Normalised cross-correlation of raw RGB pixels, every offset (stride 1), values in [-1, 1]. */
export class NccScorer implements ResponseScorer {
  readonly name = 'ncc';
  readonly stride = 1;
  private filter: tf.Tensor4D | null = null;
  private size = 0;

  setExemplar(crop: Float32Array, size: number): void {
    this.setTemplate(this.embedTemplate(crop, size));
  }

  /** The zero-mean, unit-norm exemplar: NCC's "features". Combinations of them stay zero-mean. */
  embedTemplate(crop: Float32Array, size: number): Float32Array {
    if (crop.length !== size * size * 3) throw new Error(`NccScorer: crop of ${crop.length} values for size ${size}`);
    let mean = 0;
    for (const v of crop) mean += v;
    mean /= crop.length;
    let norm = 0;
    for (const v of crop) norm += (v - mean) ** 2;
    norm = Math.max(Math.sqrt(norm), 1e-6);
    return crop.map((v) => (v - mean) / norm);
  }

  setTemplate(features: Float32Array): void {
    const size = Math.round(Math.sqrt(features.length / 3));
    if (size * size * 3 !== features.length) throw new Error(`NccScorer: a template of ${features.length} values is not size x size x 3`);
    this.filter?.dispose();
    this.size = size;
    this.filter = tf.tensor4d(features, [size, size, 3, 1]);
  }

  score(crops: Float32Array[], cropSize: number): { maps: Float32Array[]; size: number } {
    const f = this.filter;
    if (!f) throw new Error('NccScorer: setExemplar before score');
    // The filter sums to 0, so the window mean of x cancels in the numerator.
    const num = tf.tidy(() => tf.conv2d(stack(crops, cropSize), f, 1, 'valid') as tf.Tensor4D);
    let numerators: Float32Array;
    try {
      numerators = num.dataSync() as Float32Array;
    } finally {
      num.dispose();
    }
    const k = this.size;
    const out = cropSize - k + 1;
    const maps = crops.map((crop, i) => {
      const std = windowNorms(crop, cropSize, k);
      const map = numerators.slice(i * out * out, (i + 1) * out * out);
      for (let j = 0; j < map.length; j++) map[j] = map[j]! / std[j]!;
      return map;
    });
    return { maps, size: out };
  }

  dispose(): void {
    this.filter?.dispose();
    this.filter = null;
  }
}

/**
 * For every k x k window of an RGB crop: sqrt(sum (x - mean)^2) over its k*k*3 values, from summed
 * area tables (O(pixels), where a pooling op would cost O(pixels * k^2)).
 */
function windowNorms(crop: Float32Array, size: number, k: number): Float32Array {
  const w = size + 1;
  const s1 = new Float64Array(w * w);
  const s2 = new Float64Array(w * w);
  for (let y = 0; y < size; y++) {
    let r1 = 0;
    let r2 = 0;
    for (let x = 0; x < size; x++) {
      const o = (y * size + x) * 3;
      const a = crop[o]!;
      const b = crop[o + 1]!;
      const c = crop[o + 2]!;
      r1 += a + b + c;
      r2 += a * a + b * b + c * c;
      s1[(y + 1) * w + x + 1] = s1[y * w + x + 1]! + r1;
      s2[(y + 1) * w + x + 1] = s2[y * w + x + 1]! + r2;
    }
  }
  const out = size - k + 1;
  const n = k * k * 3;
  const res = new Float32Array(out * out);
  const box = (t: Float64Array, y: number, x: number) => t[(y + k) * w + x + k]! - t[y * w + x + k]! - t[(y + k) * w + x]! + t[y * w + x]!;
  for (let y = 0; y < out; y++) {
    for (let x = 0; x < out; x++) {
      const a = box(s1, y, x);
      const variance = Math.max(0, box(s2, y, x) - (a * a) / n);
      res[y * out + x] = Math.sqrt(variance + 1e-6);
    }
  }
  return res;
}
