/**
 * A tracking model on disk: `model.json` + `weights.bin` (the standard TF.js layers format, so any
 * TF.js loader can read it once `CrossCorrelation` is registered) and `tracker.json` (the crop
 * geometry and search hyper-parameters the network was trained for, plus how it was trained).
 * A network with a fine-tuned backbone also has `backbone.bin`: the tuned graph weights, which
 * replace the vendored backbone's at load (their names and shapes are in tracker.json).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { MODEL_JSON, WEIGHTS_BIN, serializeModel } from '../models/io.js';
import './cross_correlation.js';
import { disposeModel, EncoderSiamNetwork, PretrainedSiamNetwork, type PretrainedSiamConfig, type SiamNetwork } from './siam_network.js';
import { BACKBONES } from '../models/pretrained_backbone.js';
import type { SiamFCConfig } from './siamfc_model.js';
import type { TrackerParams } from './tracker.js';

/**
 * A tracker of several networks whose score maps are fused (fused_scorer.ts): each member is a
 * tracking model folder inside this one, weighed by `weight`; loaded by loaded_tracker.ts.
 */
export interface FusedTrackerConfig {
  kind: 'fused';
  members: { dir: string; weight: number }[];
}

export interface TrackerMetadata {
  format: 'fewshot-tracker/1';
  /** The small from-scratch encoder (no `kind`), a pretrained backbone + trained head, or a fusion of such trackers. */
  network: SiamFCConfig | PretrainedSiamConfig | FusedTrackerConfig;
  /** Pretrained networks: where the backbone weights come from (package@version, licence). */
  backbone?: string;
  params: TrackerParams;
  /** Fine-tuned backbone weights in TUNED_BACKBONE_BIN (written by saveTrackingModel). */
  tunedBackbone?: tf.io.WeightsManifestEntry[];
  training?: Record<string, unknown>;
  createdAt: string;
}

export const TUNED_BACKBONE_BIN = 'backbone.bin';

/** `tunedBackbone`: the network's fine-tuned backbone weights (SiamNetwork.fineTuned), saved beside the head. */
export async function saveTrackingModel(
  dir: string,
  model: tfl.LayersModel,
  meta: TrackerMetadata,
  tunedBackbone?: Readonly<Record<string, tf.Tensor>>,
): Promise<void> {
  mkdirSync(dir, { recursive: true });
  if (isPretrained(meta.network)) meta = { ...meta, backbone: BACKBONES[meta.network.backbone]?.source };
  const { modelJson, weights } = await serializeModel(model);
  if (weights.byteLength === 0) throw new Error('saveTrackingModel: model has no weights');
  if (tunedBackbone && Object.keys(tunedBackbone).length > 0) {
    const { data, specs } = await tf.io.encodeWeights(tunedBackbone as tf.NamedTensorMap);
    writeFileSync(join(dir, TUNED_BACKBONE_BIN), new Uint8Array(data as ArrayBuffer));
    meta = { ...meta, tunedBackbone: specs };
  }
  writeFileSync(join(dir, WEIGHTS_BIN), weights);
  writeFileSync(join(dir, MODEL_JSON), JSON.stringify(modelJson));
  writeFileSync(join(dir, 'tracker.json'), JSON.stringify(meta, null, 2) + '\n');
}

export function isPretrained(network: TrackerMetadata['network']): network is PretrainedSiamConfig {
  return (network as PretrainedSiamConfig).kind === 'pretrained';
}

export function isFused(network: TrackerMetadata['network']): network is FusedTrackerConfig {
  return (network as FusedTrackerConfig).kind === 'fused';
}

/** tracker.json of a folder, checked for its format. */
export function readTrackerMetadata(dir: string): TrackerMetadata {
  const file = join(dir, 'tracker.json');
  if (!existsSync(file)) throw new Error(`${file}: missing (a tracking model folder holds tracker.json)`);
  let meta: TrackerMetadata;
  try {
    meta = JSON.parse(readFileSync(file, 'utf8')) as TrackerMetadata;
  } catch (e) {
    throw new Error(`${file}: not valid JSON (${(e as Error).message})`);
  }
  if (meta.format !== 'fewshot-tracker/1') throw new Error(`${file}: unknown format ${String(meta.format)}`);
  return meta;
}

/** One network's tracking model folder; a fused tracker's folder is loaded with loadTracker (loaded_tracker.ts). */
export async function loadTrackingModel(dir: string): Promise<{ network: SiamNetwork; meta: TrackerMetadata }> {
  // tracker.json first (when there is one): a fused folder has no model.json of its own.
  const found = existsSync(join(dir, 'tracker.json')) ? readTrackerMetadata(dir) : null;
  if (found && isFused(found.network)) throw new Error(`${dir}: a fused tracker (several networks): load it with loadTracker`);
  for (const f of ['model.json', 'weights.bin', 'tracker.json']) {
    if (!existsSync(join(dir, f))) throw new Error(`${join(dir, f)}: missing (a tracking model folder holds model.json, weights.bin, tracker.json)`);
  }
  const meta = found!;
  let json: { modelTopology: object; weightsManifest: { weights: tf.io.WeightsManifestEntry[] }[] };
  try {
    json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
  } catch (e) {
    throw new Error(`${dir}: unreadable model files (${(e as Error).message})`);
  }
  const weights = readFileSync(join(dir, 'weights.bin'));
  const model = await tfl.loadLayersModel(
    tf.io.fromMemory({
      modelTopology: json.modelTopology,
      weightSpecs: json.weightsManifest.flatMap((g) => g.weights),
      weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength),
    }),
  );
  let tuned: tf.NamedTensorMap | undefined;
  try {
    if (meta.tunedBackbone) {
      const file = join(dir, TUNED_BACKBONE_BIN);
      if (!existsSync(file)) throw new Error(`${TUNED_BACKBONE_BIN}: missing (tracker.json lists fine-tuned backbone weights)`);
      const bin = readFileSync(file);
      tuned = tf.io.decodeWeights(bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength), meta.tunedBackbone);
    }
    // Fails early with a clear message if it is some other model.
    const network = isPretrained(meta.network) ? new PretrainedSiamNetwork(model, meta.network, undefined, tuned) : new EncoderSiamNetwork(model);
    return { network, meta };
  } catch (e) {
    disposeModel(model);
    throw new Error(`${dir}: ${(e as Error).message}`);
  } finally {
    if (tuned) tf.dispose(tuned);
  }
}
