/**
 * From uint8 dataset images to a float32 batch tensor in [0, 1] (value / 255), optionally
 * augmented on the fly, so that only one batch ever exists as floats.
 */
import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '../util/random.js';
import { type AffineRange, randomAffine } from './augment.js';
import { type ImageDataset } from './dataset.js';

export interface BatchOptions {
  /** Apply random affine distortions (needs rng). */
  augment?: boolean;
  rng?: Rng;
  /** Distortion ranges (Koch et al. 2015 by default). */
  range?: Partial<AffineRange>;
}

/** Float32 values of the given images, [n * h * w * c] in [0, 1]. */
export function toBatchArray(ds: ImageDataset, indices: ArrayLike<number>, opts: BatchOptions = {}): Float32Array {
  if (opts.augment && !opts.rng) throw new Error('toBatchTensor: augment needs an rng (seeded Rng)');
  const { height: h, width: w, channels: c } = ds;
  const n = indices.length;
  const size = h * w * c;
  const out = new Float32Array(n * size);
  const scratch = opts.augment ? new Uint8Array(size) : null;
  const inv = 1 / 255;
  for (let k = 0; k < n; k++) {
    const i = indices[k]!;
    if (!(Number.isInteger(i) && i >= 0 && i < ds.size)) throw new RangeError(`toBatchTensor: index ${i} is outside 0..${ds.size - 1}`);
    let px = ds.imagePixels(i);
    if (scratch) px = randomAffine(px, h, w, c, opts.rng!, opts.range, scratch);
    const o = k * size;
    for (let j = 0; j < size; j++) out[o + j] = px[j]! * inv;
  }
  return out;
}

/** The given images as a float32 tensor [n, h, w, c] in [0, 1]. The caller disposes it. */
export function toBatchTensor(ds: ImageDataset, indices: ArrayLike<number>, opts: BatchOptions = {}): tf.Tensor4D {
  if (indices.length === 0) throw new Error('toBatchTensor: empty list of indices');
  return tf.tensor4d(toBatchArray(ds, indices, opts), [indices.length, ds.height, ds.width, ds.channels], 'float32');
}
