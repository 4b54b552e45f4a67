/**
 * What the frozen-backbone signature scripts share (signature-frozen-features.ts measures,
 * build-signature-backbone-model.ts ships): the configurations compared, every signature
 * embedded under one of them (src/models/backbone_encoder.ts, the shipped code path), and the
 * rule that chooses among them on a set of persons.
 */
import * as tf from '@tensorflow/tfjs-core';
import { SIGNATURES_PREPROCESS, loadSignatures, subset, type SignatureSet } from '../../src/applications/signatures/layout.js';
import { evaluateReferenceVerification } from '../../src/applications/signatures/reference_verification.js';
import { backboneEncoder, type BackboneEncoderConfig } from '../../src/models/backbone_encoder.js';
import type { SimilarityScorer } from '../../src/verification/verifier.js';
import { KS, eerOf } from './signature-cv.js';

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

/** The distance rule on L2-normalised embeddings: minus the squared Euclidean distance (fewshot.json distance 'sqeuclidean'). */
export const sqEuclideanScorer: SimilarityScorer = {
  meta: { threshold: null } as never,
  embed: () => { throw new Error('not a model'); },
  embedImages: () => { throw new Error('not a model'); },
  similarity: (a, b) => b.map((r) => -r.reduce((s, x, i) => s + (x - a[i]!) ** 2, 0)),
};

/** Every signature of `data` embedded under each configuration asked for (cached per configuration). */
export class FrozenEmbeddings {
  private readonly cache = new Map<string, Float32Array[]>();
  private readonly sets = new Map<string, SignatureSet>();
  constructor(readonly data: string) {}

  async of(c: FrozenConfig): Promise<{ set: SignatureSet; embeddings: Float32Array[] }> {
    const sizeKey = `${c.height}x${c.width}`;
    if (!this.sets.has(sizeKey)) this.sets.set(sizeKey, await loadSignatures(this.data, { ...SIGNATURES_PREPROCESS, height: c.height, width: c.width }));
    const set = this.sets.get(sizeKey)!;
    const cached = this.cache.get(frozenLabel(c));
    if (cached) return { set, embeddings: cached };
    const encoder = backboneEncoder(c);
    const size = c.height * c.width;
    const embeddings: Float32Array[] = [];
    for (let start = 0; start < set.files.length; start += 32) {
      const m = Math.min(32, set.files.length - start);
      const e = tf.tidy(() => encoder.predict(tf.div(tf.tensor4d(Float32Array.from(set.pixels.subarray(start * size, (start + m) * size)), [m, c.height, c.width, 1]), 255)) as tf.Tensor2D);
      for (const row of e.arraySync()) embeddings.push(Float32Array.from(row));
      e.dispose();
    }
    this.cache.set(frozenLabel(c), embeddings);
    return { set, embeddings };
  }
}

/** Genuine-vs-skilled EER of the distance rule on `persons`, K = 1..4 pooled (seeds 100 + K, as the inner folds). */
export function distanceEer(set: SignatureSet, embeddings: readonly Float32Array[], persons: readonly string[]): number {
  const idx = set.files.map((f, i) => (persons.includes(f.claimed) ? i : -1)).filter((i) => i >= 0);
  const part = subset(set, (f) => persons.includes(f.claimed));
  return eerOf(KS.flatMap((k) => evaluateReferenceVerification(sqEuclideanScorer, part, idx.map((i) => embeddings[i]!), {
    references: k, seed: 100 + k, threshold: 0, skipShortWriters: true, randomPerPerson: 0,
  }).trials));
}

/** The rule: the configuration with the lowest distance-rule EER on `persons` (first wins ties). */
export async function chooseFrozenConfig(frozen: FrozenEmbeddings, persons: readonly string[]): Promise<{ config: FrozenConfig; eer: number }> {
  let best = { config: FROZEN_CONFIGS[0]!, eer: Infinity };
  for (const config of FROZEN_CONFIGS) {
    const { set, embeddings } = await frozen.of(config);
    const eer = distanceEer(set, embeddings, persons);
    if (eer < best.eer) best = { config, eer };
  }
  return best;
}
