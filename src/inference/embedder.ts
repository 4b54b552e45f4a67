/**
 * SiameseScorer: a saved model turned into "how similar are these two images".
 *
 * Embeddings are computed once per image; similarity is then cheap:
 *  - pair models (Koch et al.): the pair model is split into its encoder and its head, so that
 *    the head's probability is computed from cached embeddings (|e_a - e_b| -> dense -> sigmoid)
 *    instead of running the encoder twice per pair;
 *  - embedding models (contrastive, triplet, protonet): the negative distance named in the
 *    metadata, so that "higher = more similar" holds for every model.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { Image } from '../data/image.js';
import { preprocess, type FaceDetectionConfig } from '../data/preprocess.js';
import { createDistance } from '../distances/create_distance.js';
import type { Distance } from '../distances/distance.js';
import { modelFromArtifacts, type ModelArtifactsInput } from '../models/serialize.js';
import type { ModelMetadata } from '../models/metadata.js';
import { splitPairModel } from '../models/siamese.js';
import { createEncoderRunner, TfjsRunner, type Encoder, type EncoderRunner } from './encoder_runner.js';
import { checkTtaViews, jitteredViews } from './test_time_augmentation.js';

export type { Encoder } from './encoder_runner.js';

/** Images per encoder call: large enough to amortise kernel launches, small enough for memory. */
const EMBED_BATCH = 128;

/** One face found by a face model's preprocessing: where it is and its aligned pixels. */
export interface FoundFace {
  box: { x: number; y: number; width: number; height: number };
  score: number;
  pixels: Uint8Array;
}

/** What answers say about a face: its box in the image's pixels and the detector's confidence (0..1). */
export interface FaceJson {
  box: FoundFace['box'];
  score: number;
}

export function faceJson(face: FoundFace): FaceJson {
  return { box: face.box, score: Math.round(face.score * 1e4) / 1e4 };
}

/** Face detection, for models whose preprocessing finds faces (see applications/faces). */
export interface FaceFinder {
  /** Every face, largest first. */
  findFaces(img: Image, name: string): Promise<FoundFace[]>;
}

/** A trained model as "how similar are these images": embeds preprocessed images (batched) and scores pairs, higher = more similar. Build it with `fromModel`, `fromArtifacts`, or `loadScorer(dir)` of `fewshot/node`. */
export class SiameseScorer {
  private readonly distance: Distance | null;
  private constructor(
    readonly meta: ModelMetadata,
    readonly encoder: Encoder,
    private readonly head: tfl.LayersModel | null,
    /** Computes the encoder's forward pass (compiled native plan, ONNX Runtime or TF.js). */
    readonly runner: EncoderRunner,
    /** Test-time augmentation: embeddings are the mean over this many fixed jitters (1 = off). */
    readonly ttaViews = 1,
    /** Set for face models: their preprocessing detects and aligns a face (asynchronous). */
    readonly faces: FaceFinder | null = null,
  ) {
    this.distance = head ? null : createDistance(meta.distance ?? 'euclidean');
  }

  /**
   * Builds a scorer from a model's files held in memory (model.json, the weight bytes,
   * fewshot.json), e.g. fetched by a browser. In Node, `loadScorer(dir)` of `fewshot/node` reads
   * a model directory.
   */
  static async fromArtifacts(input: ModelArtifactsInput): Promise<SiameseScorer> {
    const { model, meta } = await modelFromArtifacts(input);
    return SiameseScorer.fromModel(model, meta, { frozen: true });
  }

  /** A model whose encoder is not a layers model (e.g. a frozen pretrained backbone): run by TF.js as it is. */
  static fromPretrainedEncoder(encoder: Encoder, meta: ModelMetadata): SiameseScorer {
    return new SiameseScorer(meta, encoder, null, new TfjsRunner(encoder));
  }

  /** A face model: `encoder` embeds aligned crops, `finder` produces them from photos. */
  static fromFaceEncoder(encoder: Encoder & { pipeline: { alignFaces(img: Image, opts: Partial<FaceDetectionConfig>): Promise<FoundFace[]> } }, meta: ModelMetadata): SiameseScorer {
    const detection = meta.preprocess.face ?? {};
    const finder: FaceFinder = { findFaces: async (img) => encoder.pipeline.alignFaces(img, detection) };
    return new SiameseScorer(meta, encoder, null, new TfjsRunner(encoder), 1, finder);
  }

  /**
   * Decoded images -> the model's input pixels. For face models the largest face of each image,
   * detected and aligned; an image without one rejects with "<name>: no face found".
   */
  async prepareImages(imgs: readonly Image[], names: readonly string[] = imgs.map((_, i) => `image ${i + 1}`)): Promise<Uint8Array[]> {
    return (await this.prepareWithFaces(imgs, names)).map((p) => p.pixels);
  }

  /** prepareImages, with the face each image was reduced to (null for models that take whole images). */
  async prepareWithFaces(imgs: readonly Image[], names: readonly string[] = imgs.map((_, i) => `image ${i + 1}`)): Promise<{ pixels: Uint8Array; face: FoundFace | null }[]> {
    if (!this.faces) {
      // Refusals (e.g. a blank page for a signature model) name the image they are about.
      return imgs.map((img, i) => {
        try {
          return { pixels: this.preprocessImage(img), face: null };
        } catch (err) {
          throw new Error(`${names[i]}: ${(err as Error).message}`, { cause: err });
        }
      });
    }
    const out: { pixels: Uint8Array; face: FoundFace | null }[] = [];
    for (let i = 0; i < imgs.length; i++) {
      const [face] = await this.faces.findFaces(imgs[i]!, names[i]!);
      if (!face) throw new NoFaceFoundError(names[i]!);
      out.push({ pixels: face.pixels, face });
    }
    return out;
  }

  /**
   * Wraps an in-memory model (the trainer validates this way). The scorer shares the model's
   * weights, so it always scores with their current values; `frozen: true` promises they will
   * not change, which lets it compile the encoder (native plan or ONNX Runtime, see
   * encoder_runner.ts) with a copy of them.
   */
  static fromModel(model: tfl.LayersModel, meta: ModelMetadata, opts: { frozen?: boolean } = {}): SiameseScorer {
    if (meta.score === 'pair-probability') {
      const { encoder, head } = splitPairModel(model);
      return new SiameseScorer(meta, encoder, head, createEncoderRunner(encoder, opts.frozen ?? false));
    }
    if (meta.score !== 'negative-distance') throw new Error(`unknown score '${String(meta.score)}' in model metadata`);
    return new SiameseScorer(meta, model, null, createEncoderRunner(model, opts.frozen ?? false));
  }

  /**
   * The same model (shared weights) whose embeddings average `views` fixed affine jitters of
   * each image (test_time_augmentation.ts); views = 1 is the plain scorer.
   */
  withTestTimeAugmentation(views: number): SiameseScorer {
    checkTtaViews(views);
    return new SiameseScorer(this.meta, this.encoder, this.head, this.runner, views, this.faces);
  }

  get inputShape(): [number, number, number] {
    return this.meta.inputShape;
  }

  /** Number of values in one preprocessed image. */
  get inputSize(): number {
    const [h, w, c] = this.meta.inputShape;
    return h * w * c;
  }

  /** Decoded images -> the model's input pixels (resize, grayscale, ink inversion...). */
  preprocessImage(img: Image): Uint8Array {
    return preprocess(img, this.meta.preprocess);
  }

  /** Embeddings of preprocessed images (uint8, h*w*c each, as preprocess() returns). */
  embed(pixels: readonly Uint8Array[]): Float32Array[] {
    const size = this.inputSize;
    pixels.forEach((p, i) => {
      if (!(p instanceof Uint8Array)) throw new Error(`image ${i}: expected preprocessed uint8 pixels`);
      if (p.length !== size) {
        throw new Error(`image ${i}: has ${p.length} values but the model expects ${this.meta.inputShape.join('x')} = ${size}`);
      }
    });
    const out: Float32Array[] = [];
    for (let start = 0; start < pixels.length; start += EMBED_BATCH) {
      const chunk = pixels.slice(start, start + EMBED_BATCH);
      out.push(...this.embedFlat(concatPixels(chunk, size), chunk.length));
    }
    return out;
  }

  /** Embeddings of `n` images stored contiguously (as ImageDataset.pixels is). */
  embedFlat(flat: Uint8Array, n: number): Float32Array[] {
    const [h, w, c] = this.meta.inputShape;
    if (flat.length !== n * h * w * c) throw new Error(`expected ${n} images of ${h}x${w}x${c}, got ${flat.length} values`);
    const views = this.ttaViews;
    const out: Float32Array[] = [];
    // With test-time augmentation a chunk holds fewer images, so a call still embeds about EMBED_BATCH.
    const perChunk = Math.max(1, Math.floor(EMBED_BATCH / views));
    for (let start = 0; start < n; start += perChunk) {
      const count = Math.min(perChunk, n - start);
      const chunk = flat.subarray(start * h * w * c, (start + count) * h * w * c);
      const input = views > 1 ? jitteredViews(chunk, count, h, w, c, views) : chunk;
      const raw = this.runner.run(toUnitFloats(input), views * count, [h, w, c]);
      const dim = raw.length / (views * count);
      const data = views > 1 ? meanOverViews(raw, views, count * dim) : raw;
      for (let i = 0; i < count; i++) {
        const e = data.slice(i * dim, (i + 1) * dim);
        if (e.some((v) => !Number.isFinite(v))) throw new Error(`the model produced a non-finite embedding (image ${start + i})`);
        out.push(e);
      }
    }
    return out;
  }

  /** Embeddings of decoded images. */
  embedImages(imgs: readonly Image[]): Float32Array[] {
    return this.embed(imgs.map((img) => this.preprocessImage(img)));
  }

  /** Similarity of `a` to each of `b` (higher = more similar). */
  similarity(a: Float32Array, b: readonly Float32Array[]): number[] {
    return this.similarityMatrix([a], b)[0]!;
  }

  /** similarity(a[i], b[j]) for every i, j. */
  similarityMatrix(a: readonly Float32Array[], b: readonly Float32Array[]): number[][] {
    if (a.length === 0 || b.length === 0) return a.map(() => []);
    const dim = a[0]!.length;
    for (const e of [...a, ...b]) {
      if (e.length !== dim) throw new Error(`embeddings of different sizes (${dim} and ${e.length})`);
      if (e.some((v) => Number.isNaN(v))) throw new Error('embedding contains NaN');
    }
    const values = this.head ? this.pairProbabilities(a, b, dim) : this.negativeDistances(a, b, dim);
    const rows: number[][] = [];
    for (let i = 0; i < a.length; i++) rows.push(Array.from(values.subarray(i * b.length, (i + 1) * b.length)));
    return rows;
  }

  private negativeDistances(a: readonly Float32Array[], b: readonly Float32Array[], dim: number): Float32Array {
    const scores = tf.tidy(() => {
      const x = tf.tensor2d(concatFloats(a, dim), [a.length, dim]);
      const y = tf.tensor2d(concatFloats(b, dim), [b.length, dim]);
      return tf.neg(this.distance!.pairwise(x, y));
    });
    // tidy keeps the tensor it returns alive: read it, then free it.
    const values = scores.dataSync() as Float32Array;
    scores.dispose();
    return values;
  }

  private pairProbabilities(a: readonly Float32Array[], b: readonly Float32Array[], dim: number): Float32Array {
    const head = this.head!;
    const out = new Float32Array(a.length * b.length);
    // Pairs go through the head in chunks so that many-vs-many never builds one giant tensor.
    const rowsPerChunk = Math.max(1, Math.floor(4096 / b.length));
    for (let i0 = 0; i0 < a.length; i0 += rowsPerChunk) {
      const i1 = Math.min(a.length, i0 + rowsPerChunk);
      const probs = tf.tidy(() => {
        const x = tf.tensor3d(concatFloats(a.slice(i0, i1), dim), [i1 - i0, 1, dim]);
        const y = tf.tensor3d(concatFloats(b, dim), [1, b.length, dim]);
        const diff = tf.reshape(tf.abs(tf.sub(x, y)), [(i1 - i0) * b.length, dim]);
        return tf.reshape(head.predict(diff) as tf.Tensor, [-1]);
      });
      out.set(probs.dataSync() as Float32Array, i0 * b.length);
      probs.dispose();
    }
    return out;
  }
}

/** A face model got an image in which it found no face. */
export class NoFaceFoundError extends Error {
  constructor(readonly imageName: string) {
    super(`${imageName}: no face found`);
    this.name = 'NoFaceFoundError';
  }
}

/** uint8 pixels -> float32 in [0, 1], the models' input convention. */
export function toUnitFloats(pixels: Uint8Array): Float32Array {
  const out = new Float32Array(pixels.length);
  for (let i = 0; i < pixels.length; i++) out[i] = pixels[i]! / 255;
  return out;
}

function concatPixels(chunk: readonly Uint8Array[], size: number): Uint8Array {
  const flat = new Uint8Array(chunk.length * size);
  chunk.forEach((p, i) => flat.set(p, i * size));
  return flat;
}

function concatFloats(rows: readonly Float32Array[], dim: number): Float32Array {
  const flat = new Float32Array(rows.length * dim);
  rows.forEach((r, i) => flat.set(r, i * dim));
  return flat;
}

/** Mean of `views` consecutive blocks of `size` values (the jittered views of a chunk of images). */
function meanOverViews(raw: Float32Array, views: number, size: number): Float32Array {
  const out = new Float32Array(size);
  for (let v = 0; v < views; v++) for (let i = 0; i < size; i++) out[i]! += raw[v * size + i]!;
  for (let i = 0; i < size; i++) out[i]! /= views;
  return out;
}
