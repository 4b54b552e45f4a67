/**
 * Open-set few-shot evaluation: episodes whose queries come partly from classes that are NOT in
 * the support set. A correct answer for those is `unknown`, which FewShotClassifier gives when
 * the best class scores under the threshold. Also calibrates that threshold from the best-class
 * scores of known and unknown queries (the open-set analogue of genuine / impostor pairs).
 */
import * as tf from '@tensorflow/tfjs-core';
import { FewShotClassifier, UNKNOWN, type SupportMode } from '../inference/few_shot_classifier.js';
import type { SiameseScorer } from '../inference/embedder.js';
import { Rng } from '../util/random.js';
import { calibrateThreshold, type CalibrationTarget, type Calibration } from './threshold.js';

export interface OpenSetOptions {
  /** Classes in the support set. */
  way: number;
  shot: number;
  /** Classes whose queries have no support class (must be answered `unknown`). */
  unknownWay: number;
  /** Queries per class, for known and unknown classes alike. */
  query: number;
  episodes: number;
  seed: number;
  /** Similarity threshold (higher = same); undefined = the model's; null = never unknown. */
  threshold?: number | null;
  mode?: SupportMode;
}

export interface OpenSetResult {
  /** Fraction of all queries answered right: known -> their class, unknown -> 'unknown'. */
  openSetAccuracy: number;
  /** Known queries given their own class (a wrong 'unknown' counts as an error). */
  knownAccuracy: number;
  /** Unknown queries answered 'unknown'. */
  unknownRejection: number;
  /** Top-1 accuracy on known queries when nothing may be rejected (the closed-set number). */
  closedSetAccuracy: number;
  threshold: number | null;
  episodes: number;
  way: number;
  shot: number;
  unknownWay: number;
  query: number;
  /** Best-class similarity of every known and every unknown query, for calibration / plots. */
  knownBestScores: number[];
  unknownBestScores: number[];
}

/** One class per entry: the indices of its images (ImageDataset.indicesByClass()). */
export type ClassIndices = readonly (readonly number[])[];

/**
 * @param embeddings embedding of every dataset image (index = dataset index), e.g. from
 *   scorer.embedFlat(ds.pixels, ds.size).
 */
export function evaluateOpenSet(
  scorer: SiameseScorer,
  embeddings: readonly Float32Array[],
  classIndices: ClassIndices,
  opts: OpenSetOptions,
): OpenSetResult {
  for (const k of ['way', 'shot', 'unknownWay', 'query', 'episodes'] as const) {
    const v = opts[k];
    if (!Number.isInteger(v) || v < 1) throw new Error(`open-set ${k} must be a positive integer, got ${v}`);
  }
  const need = opts.shot + opts.query;
  const usable = classIndices.map((idx, c) => ({ idx, c })).filter((x) => x.idx.length >= opts.query);
  const supportable = usable.filter((x) => x.idx.length >= need);
  if (supportable.length < opts.way || usable.length < opts.way + opts.unknownWay) {
    throw new Error(
      `open-set ${opts.way}-way ${opts.shot}-shot with ${opts.unknownWay} unknown classes needs ${opts.way} classes with >= ${need} images ` +
      `and ${opts.unknownWay} more with >= ${opts.query}; the data have ${supportable.length} and ${usable.length} in all`,
    );
  }
  const classifier = new FewShotClassifier(scorer, { mode: opts.mode ?? 'auto', threshold: opts.threshold });
  const rng = new Rng(opts.seed);
  let knownRight = 0;
  let knownClosedRight = 0;
  let knownTotal = 0;
  let unknownRight = 0;
  let unknownTotal = 0;
  const knownBestScores: number[] = [];
  const unknownBestScores: number[] = [];
  for (let e = 0; e < opts.episodes; e++) {
    const known = rng.sample(supportable, opts.way);
    const knownSet = new Set(known.map((k) => k.c));
    const unknown = rng.sample(usable.filter((u) => !knownSet.has(u.c)), opts.unknownWay);
    const labels = known.map((k) => String(k.c));
    const support: Float32Array[][] = [];
    const queries: { emb: Float32Array; label: string }[] = [];
    for (const k of known) {
      const picked = rng.sample(k.idx, need);
      support.push(picked.slice(0, opts.shot).map((i) => embeddings[i]!));
      for (const i of picked.slice(opts.shot)) queries.push({ emb: embeddings[i]!, label: String(k.c) });
    }
    for (const u of unknown) {
      for (const i of rng.sample(u.idx, opts.query)) queries.push({ emb: embeddings[i]!, label: UNKNOWN });
    }
    classifier.fitEmbeddings(labels, support);
    // Predictions are plain objects: any tensor the scorer leaves behind is freed right here.
    const preds = freeingTensors(() => classifier.predictEmbeddings(queries.map((q) => q.emb)));
    preds.forEach((p, i) => {
      const truth = queries[i]!.label;
      if (truth === UNKNOWN) {
        unknownTotal++;
        unknownBestScores.push(p.score);
        if (p.unknown) unknownRight++;
      } else {
        knownTotal++;
        knownBestScores.push(p.score);
        if (p.label === truth) knownRight++;
        if (p.ranked[0]!.class === truth) knownClosedRight++;
      }
    });
  }
  return {
    openSetAccuracy: (knownRight + unknownRight) / (knownTotal + unknownTotal),
    knownAccuracy: knownRight / knownTotal,
    unknownRejection: unknownRight / unknownTotal,
    closedSetAccuracy: knownClosedRight / knownTotal,
    threshold: classifier.threshold,
    episodes: opts.episodes,
    way: opts.way,
    shot: opts.shot,
    unknownWay: opts.unknownWay,
    query: opts.query,
    knownBestScores,
    unknownBestScores,
  };
}

/**
 * An open-set threshold from validation episodes: the best-class scores of known queries play
 * the genuine role, those of unknown queries the impostor role (target 'eer' or a FAR, which
 * here is the fraction of unknown queries wrongly given a class).
 */
export function calibrateOpenSetThreshold(
  scorer: SiameseScorer,
  embeddings: readonly Float32Array[],
  classIndices: ClassIndices,
  opts: Omit<OpenSetOptions, 'threshold'>,
  target: CalibrationTarget,
  what: string,
): Calibration {
  const r = evaluateOpenSet(scorer, embeddings, classIndices, { ...opts, threshold: null });
  return calibrateThreshold(r.knownBestScores, r.unknownBestScores, target, `open-set ${opts.way}-way ${opts.shot}-shot episodes on ${what}`);
}

/** Runs `fn` (which returns no tensors) and frees every tensor it allocated and kept. */
function freeingTensors<T>(fn: () => T): T {
  const engine = tf.engine();
  engine.startScope();
  try {
    return fn();
  } finally {
    engine.endScope();
  }
}
