/**
 * Saving and loading models in Node with plain fs (no tfjs-node): a directory holding
 *   model.json   standard TF.js layers-model topology + weights manifest,
 *   weights.bin  the weights (loadable by tf.loadLayersModel in a browser too),
 *   fewshot.json ModelMetadata.
 * For method 'pair' the saved model is the pair model, otherwise the encoder.
 *
 * Writes are atomic at the directory level: everything goes to a fresh temporary sibling
 * directory, which is fsynced and then renamed over the target, so a kill during a save leaves
 * either the previous complete model or the new complete one, never a half-written mix.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { METADATA_FILE, validateMetadata, type ModelMetadata } from './metadata.js';
import { writeDirectoryAtomically } from './atomic_dir.js';
import { MODEL_JSON, WEIGHTS_BIN, modelFromArtifacts, serializeModel } from './serialize.js';

export { MODEL_JSON, WEIGHTS_BIN, serializeModel, modelFromArtifacts, type ModelArtifactsInput } from './serialize.js';

/** Writes a model directory (model.json, weights.bin, fewshot.json) atomically: a crash leaves the previous model or the new one. */
export async function saveModel(dir: string, model: tfl.LayersModel, meta: ModelMetadata): Promise<void> {
  validateMetadata(meta, `the metadata given to saveModel for ${dir}`);
  const { modelJson, weights } = await serializeModel(model);
  writeDirectoryAtomically(dir, {
    [MODEL_JSON]: JSON.stringify(modelJson),
    [WEIGHTS_BIN]: weights,
    [METADATA_FILE]: JSON.stringify(meta, null, 2) + '\n',
  });
}

/** fewshot.json's `encoder` of a folder, or null when it has no readable one. */
function encoderName(dir: string): unknown {
  try {
    return (JSON.parse(fs.readFileSync(path.join(dir, METADATA_FILE), 'utf8')) as { encoder?: unknown }).encoder ?? null;
  } catch {
    return null;
  }
}

/**
 * A pretrained face model (fewshot.json's encoder is 'face'): it may be fewshot.json alone, since
 * its networks load from node_modules. False for any other folder, readable or not.
 */
export function isFaceModelDir(dir: string): boolean {
  return encoderName(dir) === 'face';
}

/** A frozen-backbone model (encoder 'backbone', models/backbone_encoder.ts): fewshot.json alone. */
export function isBackboneModelDir(dir: string): boolean {
  return encoderName(dir) === 'backbone';
}

/** A model whose networks are not in its folder (face or backbone): fewshot.json may be all it has. */
export function isPretrainedOnlyModelDir(dir: string): boolean {
  const encoder = encoderName(dir);
  return encoder === 'face' || encoder === 'backbone';
}

/** Reads and validates fewshot.json of a model directory. */
export function readMetadata(dir: string): ModelMetadata {
  const file = path.join(dir, METADATA_FILE);
  return validateMetadata(readJson(file, 'model metadata'), file);
}

/**
 * `inputShape` overrides the metadata's when the saved network is not the whole model (a face
 * model's adapter takes 128-d descriptors, its metadata describes the 150x150x3 face crops).
 */
export async function loadModel(dir: string, opts: { inputShape?: number[] } = {}): Promise<{ model: tfl.LayersModel; meta: ModelMetadata }> {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new Error(`model directory not found: ${dir}`);
  const meta = readMetadata(dir);
  const jsonFile = path.join(dir, MODEL_JSON);
  const modelJson = readJson(jsonFile, 'model topology') as tf.io.ModelJSON;
  if (!modelJson.modelTopology || !Array.isArray(modelJson.weightsManifest)) {
    throw new Error(`${jsonFile} is not a TF.js layers model (no modelTopology / weightsManifest)`);
  }
  const chunks = modelJson.weightsManifest.flatMap((g) =>
    g.paths.map((p) => {
      const file = path.join(dir, p);
      if (!fs.existsSync(file)) throw new Error(`weights file missing: ${file}`);
      return fs.readFileSync(file);
    }),
  );
  return modelFromArtifacts({ modelJson, weightData: new Uint8Array(Buffer.concat(chunks)), meta, where: dir, ...(opts.inputShape ? { inputShape: opts.inputShape } : {}) });
}

function readJson(file: string, what: string): unknown {
  if (!fs.existsSync(file)) throw new Error(`${what} file missing: ${file}`);
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`${what} file ${file} is not valid JSON: ${(e as Error).message}`);
  }
}
