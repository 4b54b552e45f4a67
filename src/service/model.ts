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
import { SiameseScorer, type FoundFace } from '../inference/embedder.js';
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
  /** Content hash of the model files (16 hex digits): names the gallery folder. */
  id: string;
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
  // A pretrained face model without an adapter is its fewshot.json alone (the networks live in node_modules).
  if (!existsSync(modelJson) && isFaceModelDir(dir)) return ['fewshot.json'];
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

function isFaceModelDir(dir: string): boolean {
  try {
    return (JSON.parse(readFileSync(join(dir, 'fewshot.json'), 'utf8')) as { encoder?: unknown }).encoder === 'face';
  } catch {
    return false;
  }
}

/** Hash of the model's files: same weights and metadata => same gallery. */
export function modelFingerprint(dir: string): string {
  const h = createHash('sha256');
  for (const f of modelFiles(dir)) {
    h.update(f);
    h.update(readFileSync(join(dir, f)));
  }
  return h.digest('hex').slice(0, 16);
}

export async function loadServedModel(dir: string): Promise<ServedModel> {
  const abs = resolve(dir);
  const files = modelFiles(abs);
  return { id: modelFingerprint(abs), name: basename(abs), dir: abs, files, scorer: leakProof(await SiameseScorer.load(abs)) };
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
