/**
 * Same-or-different decisions for two images, on top of a SiameseScorer (the trainer helper's
 * inference class) or anything with the same shape. Works for pair-head models (probability,
 * higher = same) and embedding models (distance, lower = same); the answer always says which.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Image } from '../data/image.js';
import {
  type ScoreKind, type ScoreMeta, type StoredThreshold,
  scoreKindOf, directionOf, similarityToScore, scoreToSimilarity, describeScore,
} from './score_kind.js';
import type { ScoreDirection } from './metrics.js';

/** What the verifier needs from a scorer: SiameseScorer satisfies it. */
export interface SimilarityScorer {
  readonly meta: ScoreMeta;
  /** Embeddings of already preprocessed images (model input size, uint8). */
  embed(pixels: Uint8Array[]): Float32Array[];
  /** Embeddings of raw images: the scorer applies the model's own preprocessing. */
  embedImages(images: Image[]): Float32Array[];
  /** Similarity of `a` to each of `b` (higher = more similar). */
  similarity(a: Float32Array, b: Float32Array[]): number[];
}

/** A same/different answer with its score, threshold and their units. */
export interface VerificationResult {
  /** The model's natural score: a probability or a distance, see `scoreKind`. */
  score: number;
  scoreKind: ScoreKind;
  direction: ScoreDirection;
  /** The threshold in the same units as `score`; null when the model has none. */
  threshold: number | null;
  thresholdSource: string | null;
  /** The decision at the threshold; null when there is no threshold to decide with. */
  same: boolean | null;
  /** How to read `score`, in words. */
  meaning: string;
}

/** Where the verifier's threshold comes from when the model does not store one. */
export const DEFAULT_PROBABILITY_THRESHOLD: StoredThreshold = {
  value: 0.5,
  source: 'default 0.5 for a sigmoid pair head (not calibrated)',
};

/** Same-or-different decisions for two images at the model's calibrated threshold; scores are reported in the model's own units (a probability, or a distance). */
export class Verifier {
  readonly kind: ScoreKind;
  readonly direction: ScoreDirection;
  /** Threshold in similarity units (higher = same), or null. */
  readonly threshold: StoredThreshold | null;

  /**
   * @param opts.threshold overrides the model's stored threshold; given in the model's natural score
   *   units (a probability, or a distance), as a user would type it.
   */
  constructor(readonly scorer: SimilarityScorer, opts: { threshold?: number } = {}) {
    this.kind = scoreKindOf(scorer.meta);
    this.direction = directionOf(this.kind);
    if (opts.threshold !== undefined) {
      if (!Number.isFinite(opts.threshold)) throw new Error(`threshold must be a finite number, got ${opts.threshold}`);
      this.threshold = { value: scoreToSimilarity(opts.threshold, this.kind), source: 'given by the caller' };
    } else if (scorer.meta.threshold && Number.isFinite(scorer.meta.threshold.value)) {
      this.threshold = scorer.meta.threshold;
    } else {
      this.threshold = this.kind === 'probability' ? DEFAULT_PROBABILITY_THRESHOLD : null;
    }
  }

  /** Verdict for a similarity already computed (higher = same). */
  decide(similarity: number): VerificationResult {
    if (!Number.isFinite(similarity)) throw new Error(`the model produced a non-finite score (${similarity})`);
    const t = this.threshold;
    return {
      score: similarityToScore(similarity, this.kind),
      scoreKind: this.kind,
      direction: this.direction,
      threshold: t ? similarityToScore(t.value, this.kind) : null,
      thresholdSource: t ? t.source : null,
      same: t ? similarity >= t.value : null,
      meaning: describeScore(this.kind, this.scorer.meta.distance),
    };
  }

  /** Compares two raw images (any size, grayscale or colour: the model preprocesses them). */
  verifyImages(a: Image, b: Image): VerificationResult {
    const [ea, eb] = this.scorer.embedImages([a, b]);
    return this.verifyEmbeddings(ea!, eb!);
  }

  /** Compares two embeddings produced by this verifier's scorer. */
  verifyEmbeddings(a: Float32Array, b: Float32Array): VerificationResult {
    return this.decide(tf.tidy(() => this.scorer.similarity(a, [b]))[0]!);
  }
}
