/**
 * A model in the standard TF.js layers format, in memory: serializing one to model.json + weight
 * bytes, and building one back from them with its fewshot.json metadata. No file system here, so
 * a browser can load a model it fetched (io.ts reads and writes model directories in Node).
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import './layers/abs_difference.js'; // registers the custom layers before any load
import './layers/l2_normalization.js';
import { METADATA_FILE, validateMetadata, type ModelMetadata } from './metadata.js';

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

/** What modelFromArtifacts needs: the parsed model.json, the concatenated weight files, fewshot.json. */
export interface ModelArtifactsInput {
  modelJson: tf.io.ModelJSON;
  /** The weight files of the manifest, concatenated in manifest order. */
  weightData: Uint8Array;
  /** The parsed fewshot.json (validated here). */
  meta: unknown;
  /** Names the model in error messages (a directory or URL). */
  where?: string;
  /**
   * Overrides the metadata's input shape when the saved network is not the whole model (a face
   * model's adapter takes 128-d descriptors, its metadata describes the 150x150x3 face crops).
   */
  inputShape?: number[];
}

/** Builds the model described by model.json, its weights and fewshot.json, checking that they agree. */
export async function modelFromArtifacts(input: ModelArtifactsInput): Promise<{ model: tfl.LayersModel; meta: ModelMetadata }> {
  const dir = input.where ?? 'the model';
  const meta = validateMetadata(input.meta, `${dir}/${METADATA_FILE}`);
  const modelJson = input.modelJson;
  if (!modelJson || !modelJson.modelTopology || !Array.isArray(modelJson.weightsManifest)) {
    throw new Error(`${dir}/${MODEL_JSON} is not a TF.js layers model (no modelTopology / weightsManifest)`);
  }
  const weightSpecs = modelJson.weightsManifest.flatMap((g) => g.weights);
  const bytes = input.weightData;
  const weightData = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
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
  const wanted = input.inputShape ?? meta.inputShape;
  if (shape.join('x') !== wanted.join('x')) {
    throw new Error(`model in ${dir} takes ${shape.join('x')} inputs but ${METADATA_FILE} says ${wanted.join('x')}`);
  }
  return { model, meta };
}

function bytesPerValue(dtype: string): number {
  if (dtype === 'float32' || dtype === 'int32') return 4;
  if (dtype === 'bool') return 1;
  throw new Error(`unsupported weight dtype '${dtype}'`);
}
