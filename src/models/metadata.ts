/**
 * fewshot.json: what a saved model needs besides its weights to be used correctly — the encoder and
 * input size, the preprocessing its training data went through, how to score (pair probability or
 * negative distance, with which distance), and an optional decision threshold.
 */
import type { PreprocessConfig } from '../data/preprocess.js';
import { REFERENCE_DECISIONS, type ReferenceDecision, type WriterDependentSettings } from '../verification/writer_dependent.js';

export const METADATA_FORMAT = 'fewshot-model/1';
export const METADATA_FILE = 'fewshot.json';

/** fewshot.json: how to use a saved model (method, encoder, input shape, preprocessing, score and distance, threshold) and how it was trained. */
export interface ModelMetadata {
  format: 'fewshot-model/1';
  method: 'pair' | 'contrastive' | 'triplet' | 'protonet' | string;
  encoder: string;
  inputShape: [number, number, number];
  embeddingDim: number;
  preprocess: PreprocessConfig;
  score: 'pair-probability' | 'negative-distance';
  distance?: 'euclidean' | 'sqeuclidean' | 'cosine';
  threshold?: { value: number; source: string; far?: number };
  /** Writer-dependent decision (signatures): its calibrated threshold on the log-odds and penalty. */
  writerDependent?: WriterDependentSettings;
  /**
   * How a questioned example is decided against a class's references when the caller names no
   * decision (eval-signatures, the service's class verification): the one cross-validation chose
   * for this model. Absent: 'distance'.
   */
  decision?: ReferenceDecision;
  training?: Record<string, unknown>;
  /** Pretrained networks the model runs that are not in its own files (e.g. the face encoder's). */
  pretrained?: { package: string; version: string; license: string; networks: string[]; note?: string };
  /**
   * `encoder: "backbone"`: a frozen pretrained backbone as the embedding (models/backbone_encoder.ts;
   * `spec` a key of its BACKBONES, average pooling over `grid` cells, inputs inverted to dark on white).
   */
  backbone?: { spec: string; grid: [number, number]; darkOnWhite: boolean };
  createdAt: string;
}

const DISTANCES = ['euclidean', 'sqeuclidean', 'cosine'];

/** Checks an object read from fewshot.json; `source` (a path) names it in the error. */
export function validateMetadata(value: unknown, source: string): ModelMetadata {
  const fail = (what: string): never => {
    throw new Error(`invalid model metadata in ${source}: ${what}`);
  };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail('not a JSON object');
  const m = value as Record<string, unknown>;
  if (m.format !== METADATA_FORMAT) fail(`format must be '${METADATA_FORMAT}', got ${JSON.stringify(m.format)}`);
  for (const k of ['method', 'encoder', 'createdAt'] as const) {
    if (typeof m[k] !== 'string' || m[k] === '') fail(`'${k}' must be a non-empty string`);
  }
  const shape = m.inputShape;
  if (!Array.isArray(shape) || shape.length !== 3 || shape.some((d) => !Number.isInteger(d) || d < 1)) {
    fail(`'inputShape' must be [height, width, channels] of positive integers, got ${JSON.stringify(shape)}`);
  }
  if (!Number.isInteger(m.embeddingDim) || (m.embeddingDim as number) < 1) fail(`'embeddingDim' must be a positive integer`);
  const p = m.preprocess as Record<string, unknown> | undefined;
  if (typeof p !== 'object' || p === null) fail(`'preprocess' is missing`);
  if (p!.height !== (shape as number[])[0] || p!.width !== (shape as number[])[1] || p!.channels !== (shape as number[])[2]) {
    fail(`'preprocess' size ${p!.height}x${p!.width}x${p!.channels} does not match inputShape ${(shape as number[]).join('x')}`);
  }
  if (typeof p!.invert !== 'boolean') fail(`'preprocess.invert' must be true or false`);
  if (m.score !== 'pair-probability' && m.score !== 'negative-distance') {
    fail(`'score' must be 'pair-probability' or 'negative-distance', got ${JSON.stringify(m.score)}`);
  }
  if (m.distance !== undefined && !DISTANCES.includes(m.distance as string)) {
    fail(`'distance' must be one of ${DISTANCES.join(', ')}, got ${JSON.stringify(m.distance)}`);
  }
  if (m.score === 'negative-distance' && m.distance === undefined) fail(`'distance' is required when score is 'negative-distance'`);
  if (m.threshold !== undefined) {
    const t = m.threshold as Record<string, unknown>;
    if (typeof t !== 'object' || t === null || typeof t.value !== 'number' || !Number.isFinite(t.value) || typeof t.source !== 'string') {
      fail(`'threshold' must be { value: number, source: string, far?: number }`);
    }
    if (t.far !== undefined && typeof t.far !== 'number') fail(`'threshold.far' must be a number`);
  }
  if (m.writerDependent !== undefined) {
    const w = m.writerDependent as Record<string, unknown>;
    const t = w?.threshold as Record<string, unknown> | undefined;
    if (typeof w !== 'object' || w === null || (w.l2 !== undefined && !(typeof w.l2 === 'number' && w.l2 > 0)) ||
        (w.kernel !== undefined && w.kernel !== 'linear' && w.kernel !== 'rbf') ||
        (t !== undefined && (typeof t !== 'object' || t === null || typeof t.value !== 'number' || !Number.isFinite(t.value) || typeof t.source !== 'string'))) {
      fail(`'writerDependent' must be { threshold?: { value: number, source: string }, l2?: positive number, kernel?: 'linear' | 'rbf' }`);
    }
  }
  if (m.decision !== undefined && !(REFERENCE_DECISIONS as readonly unknown[]).includes(m.decision)) {
    fail(`'decision' must be one of ${REFERENCE_DECISIONS.join(', ')}, got ${JSON.stringify(m.decision)}`);
  }
  if (m.pretrained !== undefined) {
    const pt = m.pretrained as Record<string, unknown>;
    if (typeof pt !== 'object' || pt === null || typeof pt.package !== 'string' || typeof pt.version !== 'string' || !Array.isArray(pt.networks)) {
      fail(`'pretrained' must be { package, version, license, networks[] }`);
    }
  }
  if ((m.encoder === 'backbone') !== (m.backbone !== undefined)) fail(`'backbone' is required with encoder 'backbone', and only with it`);
  if (m.training !== undefined && (typeof m.training !== 'object' || m.training === null || Array.isArray(m.training))) {
    fail(`'training' must be an object`);
  }
  return m as unknown as ModelMetadata;
}

/** Metadata with `format` and `createdAt` filled in, validated. */
export function createMetadata(fields: Omit<ModelMetadata, 'format' | 'createdAt'> & { createdAt?: string }): ModelMetadata {
  // Through JSON so that the result equals what loadModel will read back (no undefined fields).
  const meta = JSON.parse(JSON.stringify({ format: METADATA_FORMAT, createdAt: new Date().toISOString(), ...fields }));
  return validateMetadata(meta, 'createMetadata');
}
