/**
 * Loads @vladmandic/face-api (MIT) on OUR TF.js instance, and its shipped weights from
 * node_modules (no download).
 *
 * The package's `dist/face-api.esm-nobundle.js` keeps TF.js external: it imports
 * `@tensorflow/tfjs/dist/index.js` (the full tfjs bundle) plus the webgl and wasm backends. It
 * only calls tfjs-core ops (conv2d, depthwiseConv2d, resizeBilinear, io.weightsLoaderFactory...),
 * so an import map sends the first to `@tensorflow/tfjs-core` (the same instance our backends,
 * native included, are registered on) and the two backends to an empty module (we register ours
 * ourselves). In Node the import map is a module resolve hook, registered once before the first
 * import; the browser bundle gets the same aliases from esbuild (app/build.mjs).
 */
import * as fs from 'node:fs';
import { createRequire, register } from 'node:module';
import * as path from 'node:path';
import { pathToFileURL, fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import type * as FaceApiModule from '@vladmandic/face-api';

export type FaceApi = typeof FaceApiModule;

export const FACE_API_PACKAGE = '@vladmandic/face-api';

/** Specifier -> URL, applied to imports made by face-api's files only. */
export function faceApiImportMap(): Record<string, string> {
  // The sibling module, as .ts under tsx and .js once compiled.
  const self = fileURLToPath(import.meta.url);
  const tfjs = pathToFileURL(path.join(path.dirname(self), `tfjs_for_face_api${path.extname(self)}`)).href;
  const empty = 'data:text/javascript,export{}';
  return {
    '@tensorflow/tfjs/dist/index.js': tfjs,
    '@tensorflow/tfjs-backend-webgl/dist/index.js': empty,
    '@tensorflow/tfjs-backend-wasm/dist/index.js': empty,
  };
}

const hooks = (map: Record<string, string>) => `
const map = ${JSON.stringify(map)};
export async function resolve(specifier, context, next) {
  const url = map[specifier];
  if (url !== undefined && context.parentURL && context.parentURL.includes('/@vladmandic/face-api/')) return url.startsWith('data:') ? { url, shortCircuit: true } : next(url, context);
  return next(specifier, context);
}`;

let loading: Promise<FaceApi> | null = null;

/** The face-api module, imported once on our tfjs-core. */
export function loadFaceApi(): Promise<FaceApi> {
  loading ??= (async () => {
    register(`data:text/javascript,${encodeURIComponent(hooks(faceApiImportMap()))}`);
    const entry = createRequire(import.meta.url).resolve(`${FACE_API_PACKAGE}/dist/face-api.esm-nobundle.js`);
    return (await import(entry)) as FaceApi;
  })();
  return loading;
}

/** The package's folder in node_modules (its model/ folder holds the weights). */
export function faceApiPackageDir(): string {
  const req = createRequire(import.meta.url);
  return path.dirname(req.resolve(`${FACE_API_PACKAGE}/package.json`));
}

/** name, version and licence of the installed package, as recorded in model metadata. */
export function faceApiPackageInfo(): { name: string; version: string; license: string } {
  const pkg = JSON.parse(fs.readFileSync(path.join(faceApiPackageDir(), 'package.json'), 'utf8')) as { version: string; license: string };
  return { name: FACE_API_PACKAGE, version: pkg.version, license: pkg.license };
}

/** The package's networks the face pipeline runs (and the only weight files the service serves). */
export const FACE_API_NETWORKS = ['ssd_mobilenetv1_model', 'tiny_face_detector_model', 'face_landmark_68_model', 'face_recognition_model'] as const;

/** The path of one of those networks' weight files (manifest or shard) by its name, or null. */
export function faceApiWeightsFile(name: string): string | null {
  const ok = FACE_API_NETWORKS.some((n) => name === `${n}-weights_manifest.json` || name === `${n}.bin`);
  return ok ? path.join(faceApiPackageDir(), 'model', name) : null;
}

/** The weight map of one of the package's models (e.g. 'ssd_mobilenetv1_model'), read from node_modules. */
export async function readFaceApiWeights(modelName: string): Promise<tf.NamedTensorMap> {
  const dir = path.join(faceApiPackageDir(), 'model');
  const manifestFile = path.join(dir, `${modelName}-weights_manifest.json`);
  if (!fs.existsSync(manifestFile)) throw new Error(`${FACE_API_PACKAGE}: weights manifest missing: ${manifestFile} (reinstall the package)`);
  const manifest = JSON.parse(fs.readFileSync(manifestFile, 'utf8')) as tf.io.WeightsManifestConfig;
  const load = tf.io.weightsLoaderFactory(async (paths) => paths.map((p) => {
    const b = fs.readFileSync(path.join(dir, path.basename(p)));
    return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
  }));
  return load(manifest, '');
}
