/**
 * Faces: the AT&T (ORL) layout `att_faces/s<N>/<k>.pgm` and the face model's protocol. People
 * s31..s40 are never seen in training; s1..s30 train it (s21..s30 held out for model
 * selection and threshold calibration, mirroring the 10-person test).
 */
import type { ImageDataset } from '../../data/dataset.js';
import type { PreprocessConfig } from '../../data/preprocess.js';
import type { SiameseScorer } from '../../inference/embedder.js';
import { evaluateEpisodes } from '../../evaluation/episodes.js';
import { EmbeddingCache } from '../../evaluation/embedding_cache.js';
import { evaluatePairs, pairEvaluationJson } from '../../verification/evaluate.js';
import { evaluateOpenSet } from '../../verification/open_set.js';

/**
 * The face model's own preprocessing: any size, grayscale or colour -> 64x64 grayscale (the
 * model then standardises brightness and contrast itself, see norm-conv4). Faces are not ink on
 * paper: no inversion, no crop.
 */
export const FACES_PREPROCESS: PreprocessConfig = { height: 64, width: 64, channels: 1, invert: false };

/** The person number of an AT&T class folder name ('s12' -> 12); throws on anything else. */
export function attPersonNumber(className: string): number {
  const m = /^s(\d+)$/.exec(className);
  if (!m) throw new Error(`'${className}' is not an AT&T person folder (expected s1..s40)`);
  return Number(m[1]);
}

/** Class indices whose person number is in [from, to]. */
export function attPeople(ds: ImageDataset, from: number, to: number): number[] {
  const idx = ds.classNames.map((n, c) => ({ n: attPersonNumber(n), c })).filter((x) => x.n >= from && x.n <= to).sort((a, b) => a.n - b.n).map((x) => x.c);
  if (idx.length === 0) throw new Error(`no AT&T person s${from}..s${to} in the data`);
  return idx;
}

export interface FaceSplit {
  train: ImageDataset;
  validation: ImageDataset;
  test: ImageDataset;
}

/** s1..s20 train, s21..s30 validation, s31..s40 test (never seen). */
export function splitAttFaces(ds: ImageDataset, opts: { trainTo?: number; validationTo?: number; testTo?: number } = {}): FaceSplit {
  const trainTo = opts.trainTo ?? 20;
  const validationTo = opts.validationTo ?? 30;
  const testTo = opts.testTo ?? 40;
  return {
    train: ds.subsetByClasses(attPeople(ds, 1, trainTo)),
    validation: ds.subsetByClasses(attPeople(ds, trainTo + 1, validationTo)),
    test: ds.subsetByClasses(attPeople(ds, validationTo + 1, testTo)),
  };
}

export interface FaceEvaluation {
  people: number;
  images: number;
  identification: { way: number; shot: number; query: number; episodes: number; accuracy: number; ci95: number }[];
  verification: Record<string, unknown>;
  openSet: Record<string, unknown> | null;
}

/**
 * 1-shot and 5-shot N-way identification (N = every test person), verification AUC / EER over
 * every pair, and open-set accuracy (half the people enrolled, half unknown).
 */
export function evaluateFaces(
  scorer: SiameseScorer,
  test: ImageDataset,
  opts: { seed: number; episodes?: number; dataName: string; openSetThreshold?: number },
): FaceEvaluation {
  const way = test.numClasses;
  const perClass = Math.min(...test.indicesByClass().map((i) => i.length));
  const cache = new EmbeddingCache(scorer, test);
  const identification = [1, 5].filter((shot) => shot < perClass).map((shot) => {
    const query = perClass - shot;
    const r = evaluateEpisodes(scorer, test, { way, shot, query, episodes: opts.episodes ?? 200, seed: opts.seed }, cache);
    return { way, shot, query, episodes: r.episodes, accuracy: r.accuracy, ci95: r.ci95 };
  });
  const pairs = evaluatePairs(scorer, test, { seed: opts.seed, dataName: opts.dataName });
  let openSet: Record<string, unknown> | null = null;
  const half = Math.floor(way / 2);
  const openThreshold = opts.openSetThreshold ?? scorer.meta.threshold?.value;
  if (half >= 2 && openThreshold !== undefined) {
    const shot = Math.min(5, perClass - 1);
    const r = evaluateOpenSet(scorer, cache.get(Array.from({ length: test.size }, (_, i) => i)), test.indicesByClass(), {
      way: half, unknownWay: way - half, shot, query: perClass - shot, episodes: opts.episodes ?? 200, seed: opts.seed,
      threshold: openThreshold,
    });
    const { knownBestScores: _k, unknownBestScores: _u, ...numbers } = r;
    openSet = numbers;
  }
  return { people: way, images: test.size, identification, verification: pairEvaluationJson(pairs), openSet };
}
