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
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import './layers/abs_difference.js'; // registers the custom layer before any load
import { METADATA_FILE, validateMetadata, type ModelMetadata } from './metadata.js';
import { writeDirectoryAtomically } from './atomic_dir.js';

export const MODEL_JSON = 'model.json';
export const WEIGHTS_BIN = 'weights.bin';

/** The model.json content and weight bytes of a model, in the standard TF.js layers format. */
export async function serializeModel(model: tfl.LayersModel): Promise<{ modelJson: tf.io.ModelJSON; weights: Uint8Array }> {
  let captured: tf.io.ModelArtifacts | null = null;
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      captured = artifacts;
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    }),
  );
  const artifacts = captured as tf.io.ModelArtifacts | null;
  if (!artifacts) throw new Error(`saving model '${model.name}' produced no artifacts`);
  const weights = artifacts.weightData ? new Uint8Array(tf.io.CompositeArrayBuffer.join(artifacts.weightData)) : new Uint8Array(0);
  const modelJson: tf.io.ModelJSON = {
    modelTopology: artifacts.modelTopology as tf.io.ModelJSON['modelTopology'],
    format: artifacts.format ?? 'layers-model',
    generatedBy: artifacts.generatedBy ?? '',
    convertedBy: artifacts.convertedBy ?? null,
    weightsManifest: [{ paths: [`./${WEIGHTS_BIN}`], weights: artifacts.weightSpecs ?? [] }],
  };
  if (artifacts.trainingConfig) modelJson.trainingConfig = artifacts.trainingConfig;
  return { modelJson, weights };
}

export async function saveModel(dir: string, model: tfl.LayersModel, meta: ModelMetadata): Promise<void> {
  validateMetadata(meta, `the metadata given to saveModel for ${dir}`);
  const { modelJson, weights } = await serializeModel(model);
  writeDirectoryAtomically(dir, {
    [MODEL_JSON]: JSON.stringify(modelJson),
    [WEIGHTS_BIN]: weights,
    [METADATA_FILE]: JSON.stringify(meta, null, 2) + '\n',
  });
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
  const weightSpecs = modelJson.weightsManifest.flatMap((g) => g.weights);
  const chunks = modelJson.weightsManifest.flatMap((g) =>
    g.paths.map((p) => {
      const file = path.join(dir, p);
      if (!fs.existsSync(file)) throw new Error(`weights file missing: ${file}`);
      return fs.readFileSync(file);
    }),
  );
  const weightData = new Uint8Array(Buffer.concat(chunks)).buffer;
  const expected = weightSpecs.reduce((sum, s) => sum + s.shape.reduce((a, b) => a * b, 1) * bytesPerValue(s.dtype), 0);
  if (weightData.byteLength !== expected) {
    throw new Error(`weights in ${dir} have ${weightData.byteLength} bytes but ${MODEL_JSON} describes ${expected}: truncated or mismatched files`);
  }
  let model: tfl.LayersModel;
  try {
    model = await tfl.loadLayersModel(tf.io.fromMemory({ modelTopology: modelJson.modelTopology, weightSpecs, weightData }));
  } catch (e) {
    throw new Error(`cannot load the model in ${dir}: ${(e as Error).message}`);
  }
  const shape = model.inputs[0]!.shape.slice(1);
  const wanted = opts.inputShape ?? meta.inputShape;
  if (shape.join('x') !== wanted.join('x')) {
    throw new Error(`model in ${dir} takes ${shape.join('x')} inputs but ${METADATA_FILE} says ${wanted.join('x')}`);
  }
  return { model, meta };
}

function readJson(file: string, what: string): unknown {
  if (!fs.existsSync(file)) throw new Error(`${what} file missing: ${file}`);
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`${what} file ${file} is not valid JSON: ${(e as Error).message}`);
  }
}

function bytesPerValue(dtype: string): number {
  if (dtype === 'float32' || dtype === 'int32') return 4;
  if (dtype === 'bool') return 1;
  throw new Error(`unsupported weight dtype '${dtype}'`);
}
