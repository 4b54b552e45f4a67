/**
 * Which way a model's score points. Inside fewshot every scorer returns a *similarity* (higher =
 * more alike: a pair head's probability, or minus an embedding distance, see
 * ModelMetadata.score). People, though, read distances as distances, so what a user sees is the
 * model's natural score: a probability (higher = same) or a distance (lower = same). This module
 * is the one place that converts between the two, so no caller flips a sign by hand.
 */
import type { ScoreDirection } from './metrics.js';
import type { WriterDependentSettings } from './writer_dependent.js';

/** 'probability' for pair-head models, 'distance' for embedding models. */
export type ScoreKind = 'probability' | 'distance';

/** The parts of a model's metadata (fewshot.json) that decide how its scores read. */
export interface ScoreMeta {
  score: string;
  distance?: string;
  threshold?: StoredThreshold;
  /** Settings of the writer-dependent decision (signature models). */
  writerDependent?: WriterDependentSettings;
}

/**
 * A calibrated decision threshold as stored in fewshot.json. `value` is in the model's
 * similarity units (ModelMetadata.score: a probability, or minus a distance), so that every
 * consumer can test `similarity >= value` without knowing the model kind.
 */
export interface StoredThreshold {
  value: number;
  /** How it was obtained, e.g. 'eer on att_faces s31-s40 (450 genuine / 4500 impostor pairs)'. */
  source: string;
  /** The false accept rate it was calibrated for (or measured at, for an EER threshold). */
  far?: number;
}

/** 'probability' for pair-head models, 'distance' for embedding models. */
export function scoreKindOf(meta: ScoreMeta): ScoreKind {
  if (meta.score === 'pair-probability') return 'probability';
  if (meta.score === 'negative-distance') return 'distance';
  throw new Error(`model metadata has an unknown score type '${meta.score}' (expected 'pair-probability' or 'negative-distance')`);
}

export function directionOf(kind: ScoreKind): ScoreDirection {
  return kind === 'probability' ? 'higher-is-same' : 'lower-is-same';
}

/** A similarity (higher = same) as the user-facing score of this kind. */
export function similarityToScore(similarity: number, kind: ScoreKind): number {
  // `0 - x` rather than `-x`: keeps 0 as 0 instead of -0 in JSON output.
  return kind === 'probability' ? similarity : 0 - similarity;
}

/** The inverse of similarityToScore. */
export function scoreToSimilarity(score: number, kind: ScoreKind): number {
  return kind === 'probability' ? score : 0 - score;
}

/** A short human sentence saying how to read the score. */
export function describeScore(kind: ScoreKind, distanceName?: string): string {
  return kind === 'probability'
    ? 'probability that both images show the same identity (higher = same)'
    : `${distanceName ?? 'embedding'} distance (lower = same)`;
}
