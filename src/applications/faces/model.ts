/**
 * A face model directory: fewshot.json naming the pretrained face-api networks (package, version,
 * licence), plus, for a trained adapter, model.json/weights.bin of a small network on the 128-d
 * descriptors. Its "encoder" runs on aligned 150x150 crops (what its preprocessing, i.e. face
 * detection + alignment, produces): descriptor network -> L2-normalise -> adapter (if any).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { writeDirectoryAtomically } from '../../models/atomic_dir.js';
import { loadModel, MODEL_JSON, readMetadata, saveModel } from '../../models/io.js';
import { createMetadata, METADATA_FILE, type ModelMetadata } from '../../models/metadata.js';
import { faceApiPackageInfo } from './face_api.js';
import type { FaceDetectionConfig } from '../../data/preprocess.js';
import { ALIGNED_FACE_SIZE, DEFAULT_MIN_CONFIDENCE, DEFAULT_TINY_INPUT_SIZE, DESCRIPTOR_DIM, FacePipeline } from './pipeline.js';

/** The `encoder` name face models carry in fewshot.json. */
export const FACE_ENCODER = 'face';

export const FACE_NETWORKS = ['ssd_mobilenetv1 (face detector)', 'face_landmark_68 (68 landmarks)', 'face_recognition (ResNet, 128-d descriptor)'];
const TINY_NETWORKS = ['tiny_face_detector (face detector)', ...FACE_NETWORKS.slice(1)];

export function isFaceModel(meta: Pick<ModelMetadata, 'encoder'>): boolean {
  return meta.encoder === FACE_ENCODER;
}

/** What SiameseScorer calls: aligned crops scaled to [0, 1] -> embeddings. */
export interface FaceEncoder {
  predict(x: tf.Tensor): tf.Tensor;
  readonly pipeline: FacePipeline;
  readonly adapter: tfl.LayersModel | null;
}

export function faceEncoder(pipeline: FacePipeline, adapter: tfl.LayersModel | null): FaceEncoder {
  return {
    pipeline,
    adapter,
    predict: (x) => tf.tidy(() => {
      const descriptors = pipeline.describeTensor(tf.mul(x, 255) as tf.Tensor4D);
      return adapter ? (adapter.predict(descriptors) as tf.Tensor) : descriptors;
    }),
  };
}

/** The encoder of a face model directory (its adapter, if it has one, loaded from model.json). */
export async function loadFaceEncoder(dir: string): Promise<{ encoder: FaceEncoder; meta: ModelMetadata }> {
  const pipeline = await FacePipeline.load();
  if (!fs.existsSync(path.join(dir, MODEL_JSON))) {
    return { encoder: faceEncoder(pipeline, null), meta: readMetadata(dir) };
  }
  const { model, meta } = await loadModel(dir, { inputShape: [DESCRIPTOR_DIM] });
  return { encoder: faceEncoder(pipeline, model), meta };
}

/** fewshot.json of a face model; `embeddingDim` and `training` describe an adapter when there is one. */
export function faceModelMetadata(fields: { embeddingDim?: number; method?: string; distance?: ModelMetadata['distance']; training?: Record<string, unknown>; threshold?: ModelMetadata['threshold'] } & Partial<FaceDetectionConfig> = {}): ModelMetadata {
  const pkg = faceApiPackageInfo();
  const s = ALIGNED_FACE_SIZE;
  return createMetadata({
    method: fields.method ?? 'pretrained',
    encoder: FACE_ENCODER,
    inputShape: [s, s, 3],
    embeddingDim: fields.embeddingDim ?? DESCRIPTOR_DIM,
    preprocess: {
      height: s, width: s, channels: 3, invert: false,
      face: {
        minConfidence: fields.minConfidence ?? DEFAULT_MIN_CONFIDENCE,
        ...(fields.detector && fields.detector !== 'ssd-mobilenet-v1' ? { detector: fields.detector, inputSize: fields.inputSize ?? DEFAULT_TINY_INPUT_SIZE } : {}),
      },
    },
    score: 'negative-distance',
    distance: fields.distance ?? 'euclidean',
    pretrained: {
      package: pkg.name, version: pkg.version, license: pkg.license, networks: fields.detector === 'tiny-face-detector' ? TINY_NETWORKS : FACE_NETWORKS,
      note: 'weights read from the package\'s model/ folder in node_modules; nothing is downloaded',
    },
    ...(fields.training ? { training: fields.training } : {}),
    ...(fields.threshold ? { threshold: fields.threshold } : {}),
  });
}

/** Writes a face model directory: fewshot.json, plus the adapter's model.json/weights.bin when there is one. */
export async function saveFaceModel(dir: string, meta: ModelMetadata, adapter: tfl.LayersModel | null = null): Promise<void> {
  if (!isFaceModel(meta)) throw new Error(`saveFaceModel: encoder must be '${FACE_ENCODER}', got '${meta.encoder}'`);
  if (adapter) await saveModel(dir, adapter, meta);
  else writeDirectoryAtomically(dir, { [METADATA_FILE]: JSON.stringify(meta, null, 2) + '\n' });
}
