/**
 * The service's model, run in the page with TF.js for instant feedback: the same model.json and
 * weights the server uses, the same preprocessing code (src/data/preprocess.ts) and the same
 * scoring (pair head or negative distance), so page and server agree.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-webgl';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import type { Image } from '../src/data/image.js';
import { preprocess } from '../src/data/preprocess.js';
import { createDistance } from '../src/distances/create_distance.js';
import type { ModelMetadata } from '../src/models/metadata.js';
import '../src/models/layers/abs_difference.js';
import { splitPairModel } from '../src/models/siamese.js';

export interface ModelInfo {
  id: string;
  name: string;
  meta: ModelMetadata;
  threshold: number | null;
  /** The layers network (a face model's adapter, if it has one); null when there is none. */
  modelUrl: string | null;
  /** Face models: where face-api's weights are served (the page runs the face pipeline itself). */
  faceWeightsUrl: string | null;
  search: 'exact' | 'hnsw';
  writeNeedsToken: boolean;
  limits: { maxUploadBytes: number; maxImageSide: number; maxBatch: number; maxSnapshot: number };
}

// The wasm backend's binaries come from the fewshot server (GET /tfjs-wasm/<file>, out of its node_modules).
setWasmPaths('/tfjs-wasm/');

/**
 * Picks the requested backend, else WebGL when the browser has it, else wasm (XNNPACK: ~10x the
 * cpu backend on the face networks), else the CPU.
 */
export async function chooseBackend(requested: string | null): Promise<string> {
  const order = requested ? [requested] : ['webgl', 'wasm', 'cpu'];
  for (const name of order) {
    try {
      if (await tf.setBackend(name)) {
        await tf.ready();
        return tf.getBackend();
      }
    } catch {
      // try the next one
    }
  }
  throw new Error(`no TF.js backend among ${order.join(', ')} works in this browser`);
}

export class PageModel {
  private constructor(
    readonly info: ModelInfo,
    private readonly encoder: tfl.LayersModel,
    private readonly head: tfl.LayersModel | null,
  ) {}

  static async load(info: ModelInfo): Promise<PageModel> {
    if (!info.modelUrl) throw new Error(`model ${info.name} runs on the server only`);
    const model = await tfl.loadLayersModel(info.modelUrl);
    if (info.meta.score === 'pair-probability') {
      const { encoder, head } = splitPairModel(model);
      return new PageModel(info, encoder, head);
    }
    return new PageModel(info, model, null);
  }

  /** Embedding of one decoded image (same preprocessing as the server). */
  embed(img: Image): Float32Array {
    const [h, w, c] = this.info.meta.inputShape;
    const pixels = preprocess(img, this.info.meta.preprocess);
    const input = new Float32Array(pixels.length);
    for (let i = 0; i < pixels.length; i++) input[i] = pixels[i]! / 255;
    const out = tf.tidy(() => tf.reshape(this.encoder.predict(tf.tensor4d(input, [1, h, w, c])) as tf.Tensor, [-1]));
    const values = out.dataSync() as Float32Array;
    out.dispose();
    return Float32Array.from(values);
  }

  /** Similarity of `q` to each row of `gallery` (higher = more similar), as the server scores. */
  similarity(q: Float32Array, gallery: Float32Array[]): number[] {
    return similarity(this.info.meta, q, gallery, this.head);
  }
}

/** Scores of `q` against each gallery row as the server scores them: the pair head, else negative distance. */
export function similarity(meta: ModelMetadata, q: Float32Array, gallery: Float32Array[], head: tfl.LayersModel | null = null): number[] {
  if (gallery.length === 0) return [];
  const dim = q.length;
  const flat = new Float32Array(gallery.length * dim);
  gallery.forEach((g, i) => flat.set(g, i * dim));
  const scores = tf.tidy(() => {
    const x = tf.tensor2d(q, [1, dim]);
    const y = tf.tensor2d(flat, [gallery.length, dim]);
    if (head) return tf.reshape(head.predict(tf.abs(tf.sub(x, y))) as tf.Tensor, [-1]);
    return tf.reshape(tf.neg(createDistance(meta.distance ?? 'euclidean').pairwise(x, y)), [-1]);
  });
  const out = Array.from(scores.dataSync() as Float32Array);
  scores.dispose();
  return out;
}

/** RGBA pixels (canvas) -> RGB image with transparency composited onto white, as the server decodes PNGs. */
export function imageFromRgba(rgba: Uint8ClampedArray, width: number, height: number): Image {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0, j = 0; i < width * height; i++, j += 3) {
    const a = rgba[i * 4 + 3]!;
    for (let c = 0; c < 3; c++) data[j + c] = a === 255 ? rgba[i * 4 + c]! : Math.round((rgba[i * 4 + c]! * a + 255 * (255 - a)) / 255);
  }
  return { width, height, channels: 3, data };
}
