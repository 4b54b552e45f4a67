/**
 * The page's stand-in for src/applications/faces/face_api.ts (app/build.mjs swaps it in): the same
 * two functions, for the browser. face-api's ESM build is bundled into the page with its tfjs
 * import sent to our tfjs-core (the same aliases Node's resolve hook applies), and its weights are
 * fetched from the fewshot server that serves the page (`/face-api/model/`, read there from
 * node_modules): nothing comes from anywhere else. So pipeline.ts runs unchanged in the page.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as FaceApiModule from '@vladmandic/face-api';

export type FaceApi = typeof FaceApiModule;

let weightsUrl = '/face-api/model/';
/** Where the weights are served (GET /api/model says: `faceWeightsUrl`). */
export function setFaceApiWeightsUrl(url: string): void {
  weightsUrl = url.endsWith('/') ? url : `${url}/`;
}

let loading: Promise<FaceApi> | null = null;
export function loadFaceApi(): Promise<FaceApi> {
  loading ??= import('@vladmandic/face-api/dist/face-api.esm-nobundle.js') as unknown as Promise<FaceApi>;
  return loading;
}

export async function readFaceApiWeights(modelName: string): Promise<tf.NamedTensorMap> {
  const res = await fetch(`${weightsUrl}${modelName}-weights_manifest.json`);
  if (!res.ok) throw new Error(`face weights ${modelName}: ${res.status} ${res.statusText}`);
  const manifest = (await res.json()) as tf.io.WeightsManifestConfig;
  return tf.io.loadWeights(manifest, weightsUrl);
}
