/**
 * Verification evaluation on a labelled image set (class folders): embed every image once,
 * score genuine and impostor pairs, summarise, and calibrate a threshold.
 */
import type { ImageDataset } from '../data/dataset.js';
import type { SiameseScorer } from '../inference/embedder.js';
import { summarize, statsAtThreshold, rocCurve, type VerificationSummary, type RocPoint, type ThresholdStats } from './metrics.js';
import { allPairs, sampledPairs, pairSimilarities, splitScores, type VerificationPairs } from './pairs.js';
import { calibrateThreshold, type CalibrationTarget, type Calibration } from './threshold.js';
import { scoreKindOf, directionOf, similarityToScore, type ScoreKind, type StoredThreshold } from './score_kind.js';

export interface PairEvaluationOptions {
  /** N genuine + N impostor sampled pairs; undefined = every pair (impostors capped). */
  pairs?: number;
  seed: number;
  /** What the calibrated threshold targets: 'eer' (default) or a false accept rate. */
  target?: CalibrationTarget;
  /** Names the data in the threshold's source string. */
  dataName: string;
}

/** The result of evaluatePairs: the pairs, their similarities, ROC and summary, the calibrated threshold and how the model's stored one does. */
export interface PairEvaluation {
  kind: ScoreKind;
  pairs: VerificationPairs;
  /** Similarity (higher = same) of every pair. */
  similarities: Float64Array;
  embeddings: Float32Array[];
  /** Metrics computed on similarities; thresholds inside are in similarity units. */
  summary: VerificationSummary;
  roc: RocPoint[];
  /** Threshold calibrated on these pairs for `target`. */
  calibration: Calibration;
  atCalibrated: ThresholdStats;
  /** The model's stored threshold and how it does here, when it has one. */
  modelThreshold: StoredThreshold | null;
  atModelThreshold: ThresholdStats | null;
}

/** Verification on a labelled dataset: every genuine pair and up to 100,000 impostor pairs (or `pairs` of each, sampled), ROC, AUC, EER, and a threshold calibrated for `target`. */
export function evaluatePairs(scorer: SiameseScorer, ds: ImageDataset, opts: PairEvaluationOptions): PairEvaluation {
  const kind = scoreKindOf(scorer.meta);
  const pairs = opts.pairs === undefined ? allPairs(ds.labels, opts.seed) : sampledPairs(ds.labels, opts.pairs, opts.seed);
  const embeddings = scorer.embedFlat(ds.pixels, ds.size);
  const similarities = pairSimilarities(embeddings, pairs, (a, b) => scorer.similarity(a, b));
  const { genuine, impostor } = splitScores(similarities, pairs.same);
  const scores = { genuine, impostor, direction: 'higher-is-same' as const };
  const calibration = calibrateThreshold(genuine, impostor, opts.target ?? 'eer', opts.dataName);
  const stored = scorer.meta.threshold;
  const modelThreshold = stored && Number.isFinite(stored.value) ? stored : null;
  return {
    kind,
    pairs,
    similarities,
    embeddings,
    summary: summarize(scores),
    roc: rocCurve(scores),
    calibration,
    atCalibrated: statsAtThreshold(scores, calibration.threshold.value),
    modelThreshold,
    atModelThreshold: modelThreshold ? statsAtThreshold(scores, modelThreshold.value) : null,
  };
}

/** The JSON that `fewshot eval-verify --json` prints: thresholds in the model's own units. */
export function pairEvaluationJson(e: PairEvaluation, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const u = (v: number) => similarityToScore(v, e.kind);
  const s = e.summary;
  return {
    ...extra,
    scoreKind: e.kind,
    direction: directionOf(e.kind),
    genuinePairs: s.genuinePairs,
    impostorPairs: s.impostorPairs,
    sampledPairs: e.pairs.sampled,
    auc: s.auc,
    eer: s.eer,
    tarAtFar1e2: s.tarAtFar1e2,
    tarAtFar1e3: s.tarAtFar1e3,
    farUnderResolved: s.farUnderResolved,
    threshold: u(e.calibration.threshold.value),
    thresholdSource: e.calibration.threshold.source,
    accuracyAtThreshold: e.atCalibrated.accuracy,
    balancedAccuracyAtThreshold: e.atCalibrated.balancedAccuracy,
    farAtThreshold: e.atCalibrated.far,
    frrAtThreshold: e.atCalibrated.frr,
    eerThreshold: u(s.eerThreshold),
    thresholdAtFar1e2: u(s.thresholdAtFar1e2),
    thresholdAtFar1e3: u(s.thresholdAtFar1e3),
    modelThreshold: e.modelThreshold ? u(e.modelThreshold.value) : null,
    modelThresholdSource: e.modelThreshold?.source ?? null,
    accuracyAtModelThreshold: e.atModelThreshold?.accuracy ?? null,
    farAtModelThreshold: e.atModelThreshold?.far ?? null,
    frrAtModelThreshold: e.atModelThreshold?.frr ?? null,
  };
}
