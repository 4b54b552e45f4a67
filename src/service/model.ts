/**
 * The model as the service sees it: a scorer (embed images, compare embeddings) plus an identity
 * that keys its gallery. Embeddings from different models are not comparable, so every gallery
 * belongs to exactly one model, named by a hash of the model's files.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { Image } from '../data/image.js';
import { loadScorer } from '../inference/load.js';
import { isPretrainedOnlyModelDir } from '../models/io.js';
import type { FoundFace, SiameseScorer } from '../inference/embedder.js';
import type { ModelMetadata } from '../models/metadata.js';
import type { Metric } from './vector_index.js';

/** What the service needs from a model (SiameseScorer provides it). */
export interface EmbeddingModel {
  readonly meta: ModelMetadata;
  embedImages(imgs: readonly Image[]): Float32Array[];
  /** Similarity of `a` to each of `b`, higher = more similar. */
  similarity(a: Float32Array, b: readonly Float32Array[]): number[];
  /** Face models only: every face of an image (largest first), and embeddings of their aligned crops. */
  faces?: {
    find(img: Image, name: string): Promise<FoundFace[]>;
    embed(crops: readonly Uint8Array[]): Float32Array[];
  };
}

export interface ServedModel {
  /** Hash of architecture, weights and preprocessing (16 hex digits): names the gallery folder. */
  id: string;
  /** The id earlier versions gave this model (galleries found under it are adopted). */
  legacyId?: string;
  /** Folder name, for people. */
  name: string;
  /** Folder holding model.json, its weight files and fewshot.json (served to the browser app). */
  dir: string;
  /** model.json and its weight files: the only model files the HTTP server serves. */
  files: string[];
  scorer: EmbeddingModel;
}

/** model.json, the weight files it names and fewshot.json, in a fixed order. */
export function modelFiles(dir: string): string[] {
  const modelJson = join(dir, 'model.json');
  // A pretrained face model without an adapter, or a frozen backbone, is its fewshot.json alone.
  if (!existsSync(modelJson) && isPretrainedOnlyModelDir(dir)) return ['fewshot.json'];
  if (!existsSync(modelJson)) throw new Error(`no model.json in ${dir}: not a saved fewshot model`);
  let manifest: { weightsManifest?: { paths?: string[] }[] };
  try {
    manifest = JSON.parse(readFileSync(modelJson, 'utf8'));
  } catch (e) {
    throw new Error(`${modelJson}: not valid JSON (${(e as Error).message})`);
  }
  // TF.js writes weight paths relative to model.json ('./weights.bin'); only plain sibling files are served.
  const weights = (manifest.weightsManifest ?? []).flatMap((g) => g.paths ?? []).map((p) => p.replace(/^\.\//, ''));
  for (const w of weights) if (!/^[A-Za-z0-9_.-]+$/.test(w) || w.startsWith('.')) throw new Error(`${modelJson}: weight path '${w}' is not a file next to model.json`);
  return ['model.json', ...weights, 'fewshot.json'].filter((f) => f === 'model.json' || existsSync(join(dir, f)));
}


/** The metadata that changes what an embedding means (not the threshold, training notes or dates). */
// `pretrained` names the package and version of a pretrained encoder (face models); `backbone` the
// frozen backbone's node and pooling (absent, and so not hashed, for every other model).
const EMBEDDING_META = ['inputShape', 'embeddingDim', 'preprocess', 'score', 'distance', 'pretrained', 'backbone'] as const;

/** JSON with object keys sorted, so that key order in a file never changes a hash. */
function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v)
      .sort()
      .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

/**
 * The identity of what a model's embeddings mean: its architecture (model.json's topology and
 * weight specs), its weights, and the preprocessing and distance from fewshot.json. The decision
 * threshold is not part of it, so recalibrating (`eval-verify --calibrate`) keeps the gallery.
 */
export function modelFingerprint(dir: string): string {
  const h = createHash('sha256');
  h.update('fewshot-model-id/2\0');
  // A pretrained face model without an adapter has no model.json: its identity is fewshot.json's `pretrained`.
  const manifestFile = join(dir, 'model.json');
  const manifest = (existsSync(manifestFile) ? JSON.parse(readFileSync(manifestFile, 'utf8')) : {}) as { modelTopology?: unknown; weightsManifest?: { weights?: unknown }[] };
  h.update(canonicalJson(manifest.modelTopology ?? null));
  h.update(canonicalJson((manifest.weightsManifest ?? []).map((g) => g.weights ?? null)));
  for (const f of modelFiles(dir)) {
    if (f === 'model.json' || f === 'fewshot.json') continue;
    h.update(`\0${f}\0`);
    h.update(readFileSync(join(dir, f)));
  }
  const metaFile = join(dir, 'fewshot.json');
  const meta = existsSync(metaFile) ? (JSON.parse(readFileSync(metaFile, 'utf8')) as Record<string, unknown>) : {};
  h.update(canonicalJson(Object.fromEntries(EMBEDDING_META.map((k) => [k, meta[k]]))));
  return h.digest('hex').slice(0, 16);
}

/**
 * The id galleries were keyed by before: a hash of every model file, fewshot.json included (so a
 * recalibration orphaned the gallery). The service adopts a gallery found under it.
 */
export function legacyModelFingerprint(dir: string): string {
  const h = createHash('sha256');
  for (const f of modelFiles(dir)) {
    h.update(f);
    h.update(readFileSync(join(dir, f)));
  }
  return h.digest('hex').slice(0, 16);
}

/** Loads the model a service serves, with its fingerprint (so a gallery is never used with another model's embeddings). */
export async function loadServedModel(dir: string): Promise<ServedModel> {
  const abs = resolve(dir);
  const files = modelFiles(abs);
  return { id: modelFingerprint(abs), legacyId: legacyModelFingerprint(abs), name: basename(abs), dir: abs, files, scorer: leakProof(await loadScorer(abs)) };
}

/**
 * Runs every scorer call inside tf.tidy, so that a long-running server keeps its tensor count
 * flat even if a scoring path forgets to dispose an intermediate (the service test checks it).
 */
export function leakProof(scorer: SiameseScorer): EmbeddingModel {
  const finder = scorer.faces;
  return {
    meta: scorer.meta,
    embedImages: (imgs) => tf.tidy(() => scorer.embedImages(imgs)),
    similarity: (a, b) => tf.tidy(() => scorer.similarity(a, b)),
    ...(finder ? { faces: { find: (img: Image, name: string) => finder.findFaces(img, name), embed: (crops: readonly Uint8Array[]) => tf.tidy(() => scorer.embed(crops)) } } : {}),
  };
}

/**
 * The metric the nearest-neighbour index ranks by. Cosine models are searched by cosine; every
 * other model by Euclidean distance (for pair models the head then re-scores the candidates).
 */
export function retrievalMetric(meta: ModelMetadata): Metric {
  return meta.distance === 'cosine' ? 'cosine' : 'l2';
}

/**
 * The score below which a prediction is `unknown`: an explicit override, else the model's own
 * calibrated threshold, else 0.5 for pair probabilities. Distance models without a calibrated
 * threshold have no natural one, so they never answer unknown (null).
 */
export function decisionThreshold(meta: ModelMetadata, override?: number): number | null {
  if (override !== undefined) {
    if (!Number.isFinite(override)) throw new Error(`threshold must be a finite number, got ${override}`);
    return override;
  }
  if (meta.threshold && Number.isFinite(meta.threshold.value)) return meta.threshold.value;
  return meta.score === 'pair-probability' ? 0.5 : null;
}
