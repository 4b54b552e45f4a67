/**
 * Writer-independent training of a signature encoder (SigNet, Dey et al. 2017: a Siamese
 * network with the contrastive loss), with batches built for the task: for each of P persons an
 * anchor genuine signature, a second genuine one (positive), a skilled forgery of that person
 * (hard negative) and the other persons' anchors (random negatives). The three kinds of pairs
 * are averaged separately and added, so the few skilled forgeries are never drowned out.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { randomAffine, type AffineRange } from '../../data/augment.js';
import type { Distance } from '../../distances/distance.js';
import { ContrastiveLoss } from '../../losses/contrastive_loss.js';
import type { Rng } from '../../util/random.js';
import type { SignatureSet } from './layout.js';

export interface SignatureBatch {
  /** Set indices of the images to embed (anchors first, then positives, then forgeries). */
  images: Int32Array;
  /** Pairs as positions in `images`. */
  left: Int32Array;
  right: Int32Array;
  /** 0 genuine-genuine, 1 genuine-skilled forgery, 2 genuine-other person. */
  kind: Uint8Array;
}

/** Per claimed person: genuine and forged set indices. */
export function signatureIndex(set: SignatureSet): { persons: string[]; genuine: number[][]; forged: number[][] } {
  const persons = [...new Set(set.files.map((f) => f.claimed))].sort();
  const pos = new Map(persons.map((p, i) => [p, i]));
  const genuine: number[][] = persons.map(() => []);
  const forged: number[][] = persons.map(() => []);
  set.files.forEach((f, i) => (f.genuine ? genuine : forged)[pos.get(f.claimed)!]!.push(i));
  return { persons, genuine, forged };
}

/**
 * One training batch over `personsPerBatch` persons that have at least 2 genuine signatures.
 * `withForgeries: false` leaves the skilled forgeries out (random negatives only).
 */
export function sampleSignatureBatch(index: ReturnType<typeof signatureIndex>, personsPerBatch: number, rng: Rng, withForgeries = true): SignatureBatch {
  const eligible = index.persons.map((_, i) => i).filter((i) => index.genuine[i]!.length >= 2);
  if (eligible.length < 2) throw new Error('signature training needs at least 2 persons with 2 or more genuine signatures');
  const chosen = rng.sample(eligible, Math.min(personsPerBatch, eligible.length));
  const anchors: number[] = [];
  const positives: number[] = [];
  const forgeries: { img: number; anchorPos: number }[] = [];
  chosen.forEach((p, k) => {
    const [a, b] = rng.sample(index.genuine[p]!, 2);
    anchors.push(a!);
    positives.push(b!);
    const f = index.forged[p]!;
    if (withForgeries && f.length > 0) forgeries.push({ img: f[rng.int(f.length)]!, anchorPos: k });
  });
  const n = anchors.length;
  const images = Int32Array.from([...anchors, ...positives, ...forgeries.map((f) => f.img)]);
  const left: number[] = [];
  const right: number[] = [];
  const kind: number[] = [];
  for (let k = 0; k < n; k++) { left.push(k); right.push(n + k); kind.push(0); }
  forgeries.forEach((f, j) => { left.push(f.anchorPos); right.push(2 * n + j); kind.push(1); });
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) { left.push(i); right.push(j); kind.push(2); }
  return { images, left: Int32Array.from(left), right: Int32Array.from(right), kind: Uint8Array.from(kind) };
}

/** Mild augmentation: scanned signatures vary in slant, size and position, not in topology. */
export const SIGNATURE_AFFINE: Partial<AffineRange> = { rotationDeg: 5, shear: 0.15, scaleMin: 0.9, scaleMax: 1.1, translate: 0.04, probability: 0.5, fill: 0 };
/** Koch-strength augmentation, every component on most images: against overfitting few writers. */
export const SIGNATURE_AFFINE_STRONG: Partial<AffineRange> = { rotationDeg: 10, shear: 0.3, scaleMin: 0.8, scaleMax: 1.2, translate: 0.06, probability: 0.8, fill: 0 };

/** Float batch [n, h, w, c] in [0, 1] of the given set images, optionally augmented. */
export function signatureTensor(set: SignatureSet, idx: ArrayLike<number>, rng: Rng | null, affine: Partial<AffineRange> = SIGNATURE_AFFINE): tf.Tensor4D {
  const { height: h, width: w, channels: c } = set;
  const size = h * w * c;
  const out = new Float32Array(idx.length * size);
  for (let k = 0; k < idx.length; k++) {
    let px = set.pixels.subarray(idx[k]! * size, (idx[k]! + 1) * size);
    if (rng) px = randomAffine(px, h, w, c, rng, affine);
    for (let i = 0; i < size; i++) out[k * size + i] = px[i]! / 255;
  }
  return tf.tensor4d(out, [idx.length, h, w, c]);
}

/**
 * The batch loss: contrastive loss averaged separately over genuine pairs, skilled-forgery pairs
 * and random pairs, then summed. Must run inside optimizer.minimize.
 */
export function signatureBatchLoss(encoder: tfl.LayersModel, x: tf.Tensor4D, batch: SignatureBatch, distance: Distance, margin: number): tf.Scalar {
  return signaturePairsLoss(encoder.apply(x, { training: true }) as tf.Tensor2D, batch, distance, margin);
}

/** signatureBatchLoss on the batch's embeddings (so that other terms can share them). */
export function signaturePairsLoss(emb: tf.Tensor2D, batch: SignatureBatch, distance: Distance, margin: number): tf.Scalar {
  const loss = new ContrastiveLoss({ distance, margin });
  let total: tf.Scalar = tf.scalar(0);
  for (const kind of [0, 1, 2]) {
    const ks = Array.from(batch.kind.keys()).filter((k) => batch.kind[k] === kind);
    if (ks.length === 0) continue;
    // Rows picked by one-hot matrix products rather than tf.gather: gather's gradient needs
    // UnsortedSegmentSum, which the WASM backend lacks.
    const l = tf.matMul(selector(ks.map((k) => batch.left[k]!), emb.shape[0]), emb) as tf.Tensor2D;
    const r = tf.matMul(selector(ks.map((k) => batch.right[k]!), emb.shape[0]), emb) as tf.Tensor2D;
    total = tf.add(total, loss.computePairs(l, r, ks.map(() => (kind === 0 ? 1 : 0))));
  }
  return total;
}


/** [rows.length, n] matrix with a single 1 per row, at column rows[i]. */
function selector(rows: readonly number[], n: number): tf.Tensor2D {
  const m = new Float32Array(rows.length * n);
  rows.forEach((c, i) => { m[i * n + c] = 1; });
  return tf.tensor2d(m, [rows.length, n]);
}

/** How a mirrored copy of a writer is made: left-right, upside down, or both (a half turn). */
export type WriterMirror = 'h' | 'v' | 'hv';

/**
 * The training set plus mirrored copies of every writer, each copy a new writer ("<id>h",
 * "<id>v", "<id>hv") with its genuine signatures and skilled forgeries mirrored alike: more
 * writers for the writer-independent features, as rotated characters are new classes in
 * Omniglot training. A mirrored genuine/forgery pair differs the way the original pair did, so
 * the features learn what tells a forgery from its model, not the shapes of 16 names.
 */
export function withMirroredWriters(set: SignatureSet, mirrors: readonly WriterMirror[] = ['h', 'v', 'hv']): SignatureSet {
  const { height: h, width: w, channels: c } = set;
  const size = h * w * c;
  const n = set.files.length;
  const pixels = new Uint8Array(n * size * (1 + mirrors.length));
  pixels.set(set.pixels);
  const files = [...set.files];
  mirrors.forEach((m, mi) => {
    const flipX = m.includes('h');
    const flipY = m.includes('v');
    for (let i = 0; i < n; i++) {
      const src = i * size;
      const dst = ((mi + 1) * n + i) * size;
      for (let y = 0; y < h; y++) {
        const sy = flipY ? h - 1 - y : y;
        for (let x = 0; x < w; x++) {
          const sx = flipX ? w - 1 - x : x;
          for (let k = 0; k < c; k++) pixels[dst + (y * w + x) * c + k] = set.pixels[src + (sy * w + sx) * c + k]!;
        }
      }
      const f = set.files[i]!;
      files.push({ ...f, path: `${f.path}#mirror-${m}`, writer: `${f.writer}${m}`, claimed: `${f.claimed}${m}` });
    }
  });
  return { ...set, files, pixels };
}
