/**
 * Face models in the page: the same face pipeline as the server (src/applications/faces/pipeline.ts,
 * face-api's networks on the page's TF.js backend, weights served by the fewshot server) — detect,
 * 68 landmarks, align, 128-d descriptor — plus the model's trained adapter when it has one, so a
 * face embedded here lands where the server's embedding of it does.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { Image } from '../src/data/image.js';
import { ALIGNED_FACE_SIZE, FacePipeline, type AlignedFace, type DetectOptions } from '../src/applications/faces/pipeline.js';
import { setFaceApiWeightsUrl } from './face_api_browser.js';
import type { ModelInfo } from './page_model.js';

export class PageFaces {
  private constructor(
    readonly info: ModelInfo,
    private readonly pipeline: FacePipeline,
    private readonly adapter: tfl.LayersModel | null,
  ) {}

  static async load(info: ModelInfo): Promise<PageFaces> {
    if (!info.faceWeightsUrl) throw new Error(`model ${info.name} is not a face model`);
    setFaceApiWeightsUrl(info.faceWeightsUrl);
    const pipeline = await FacePipeline.load();
    // A face model's model.json, when it has one, is its adapter on the 128-d descriptors.
    const adapter = info.modelUrl ? await tfl.loadLayersModel(info.modelUrl) : null;
    return new PageFaces(info, pipeline, adapter);
  }

  /** Faces in the image, largest first, found as the model finds them (or as `opts` overrides). */
  find(img: Image, opts: DetectOptions = {}): Promise<AlignedFace[]> {
    return this.pipeline.alignFaces(img, { ...this.info.meta.preprocess.face, ...opts });
  }

  /** The embedding of an aligned face, as the server computes it. */
  embed(face: AlignedFace): Float32Array {
    const s = ALIGNED_FACE_SIZE;
    const out = tf.tidy(() => {
      const d = this.pipeline.describeTensor(tf.tensor4d(Float32Array.from(face.pixels), [1, s, s, 3]));
      return tf.reshape(this.adapter ? (this.adapter.predict(d) as tf.Tensor) : d, [-1]);
    });
    const values = Float32Array.from(out.dataSync() as Float32Array);
    out.dispose();
    return values;
  }
}
