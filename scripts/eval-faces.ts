/**
 * Builds and measures the shipped face model (models/faces/): face-api's pretrained detector,
 * landmarks and descriptor (see src/applications/faces), with thresholds calibrated here.
 *   nice -n 10 npx tsx scripts/eval-faces.ts [--out models/faces] [--backend native]
 *     [--detector ssd-mobilenet-v1|tiny-face-detector --input-size 416]
 *
 * 1. writes <out>/fewshot.json (pretrained face encoder, package, version, licence);
 * 2. calibrates on AT&T people s1..s30 only: the verification threshold (EER) stored in
 *    fewshot.json, and the open-set threshold (5 known + 5 unknown episodes);
 * 3. measures on AT&T s31..s40 (never used for calibration): 10-way 1-shot / 5-shot
 *    identification, verification AUC / EER / TAR@FAR, open-set accuracy; and on the Caltech
 *    1999 photos (448x296, cluttered): faces found, 14-way 1-shot identification, verification;
 * 4. writes <out>/results.json.
 * Aligned crops are cached in --cache (default: the OS temp dir), keyed by the data file's size and mtime.
 */
import { writeFileSync } from 'node:fs';
import { cachedFaceDataset } from './face-crops.js';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { selectBackend, type BackendName } from '../src/backend/select.js';
import type { FaceDetectorName } from '../src/data/preprocess.js';
import { loadScorer } from '../src/inference/load.js';
import { faceModelMetadata, saveFaceModel } from '../src/applications/faces/model.js';
import { attPeople, evaluateFaces } from '../src/applications/faces/att.js';
import { evaluateEpisodes } from '../src/evaluation/episodes.js';
import { EmbeddingCache } from '../src/evaluation/embedding_cache.js';
import { evaluatePairs, pairEvaluationJson } from '../src/verification/evaluate.js';
import { writeThreshold } from '../src/verification/calibration.js';
import { calibrateOpenSetThreshold } from '../src/verification/open_set.js';

const { values: args } = parseArgs({
  options: {
    out: { type: 'string', default: 'models/faces' },
    att: { type: 'string', default: resolve('..', 'shared', 'data', 'faces', 'att_faces.zip') },
    caltech: { type: 'string', default: resolve('..', 'shared', 'data', 'faces', 'caltech_faces_1999.zip') },
    cache: { type: 'string', default: join(tmpdir(), 'fewshot-face-crops') },
    backend: { type: 'string', default: 'auto' },
    seed: { type: 'string', default: '1' },
    detector: { type: 'string', default: 'ssd-mobilenet-v1' },
    'input-size': { type: 'string' },
  },
});
const seed = Number(args.seed);
const outDir = resolve(args.out!);
const backend = await selectBackend(args.backend as BackendName);
const detection = { detector: args.detector as FaceDetectorName, ...(args['input-size'] ? { inputSize: Number(args['input-size']) } : {}) };
await saveFaceModel(outDir, faceModelMetadata(detection));
let scorer = await loadScorer(outDir);

const faceDataset = (file: string) => cachedFaceDataset(file, scorer.meta.preprocess, args.cache!);
const att = await faceDataset(args.att!);
const calibration = att.subsetByClasses(attPeople(att, 1, 30));
const test = att.subsetByClasses(attPeople(att, 31, 40));
const cal = evaluatePairs(scorer, calibration, { seed, dataName: 'AT&T s1-s30' });
writeThreshold(outDir, cal.calibration.threshold);
const openCal = calibrateOpenSetThreshold(scorer, scorer.embedFlat(calibration.pixels, calibration.size), calibration.indicesByClass(),
  { way: 5, unknownWay: 5, shot: 5, query: 5, episodes: 200, seed }, 'eer', 'AT&T s1-s30');
scorer = await loadScorer(outDir);
const attResult = evaluateFaces(scorer, test, { seed, episodes: 300, dataName: 'AT&T s31-s40 (never used for calibration)', openSetThreshold: openCal.threshold.value });

const caltech = await faceDataset(args.caltech!);
const perClass = Math.min(...caltech.indicesByClass().map((i) => i.length));
const cache = new EmbeddingCache(scorer, caltech);
const caltech1shot = evaluateEpisodes(scorer, caltech, { way: caltech.numClasses, shot: 1, query: perClass - 1, episodes: 1000, seed }, cache);
const caltechPairs = evaluatePairs(scorer, caltech, { seed, dataName: 'Caltech faces 1999' });

const summary = {
  model: args.out,
  backend,
  pretrained: scorer.meta.pretrained,
  threshold: scorer.meta.threshold,
  openSetThreshold: openCal.threshold,
  att: {
    data: basename(args.att!),
    facesFound: `${att.size} of ${att.size + att.skipped.length}`,
    skipped: att.skipped,
    calibration: { set: 's1-s30', verification: pairEvaluationJson(cal) },
    test: { set: 's31-s40 (never used for calibration)', ...attResult },
  },
  caltech: {
    data: basename(args.caltech!),
    facesFound: `${caltech.size} of ${caltech.size + caltech.skipped.length}`,
    skipped: caltech.skipped,
    people: caltech.numClasses,
    identification1shot: { way: caltech.numClasses, shot: 1, query: perClass - 1, episodes: 1000, accuracy: caltech1shot.accuracy, ci95: caltech1shot.ci95 },
    verification: pairEvaluationJson(caltechPairs),
  },
  date: new Date().toISOString(),
};
writeFileSync(join(outDir, 'results.json'), JSON.stringify(summary, null, 2) + '\n');
const core = (v: Record<string, unknown>) => ({ auc: v.auc, eer: v.eer, tarAtFar1e2: v.tarAtFar1e2, tarAtFar1e3: v.tarAtFar1e3, farAtModelThreshold: v.farAtModelThreshold, frrAtModelThreshold: v.frrAtModelThreshold });
console.log(JSON.stringify({
  att: { facesFound: summary.att.facesFound, ...attResult, verification: core(attResult.verification) },
  caltech: { ...summary.caltech, verification: core(summary.caltech.verification as Record<string, unknown>) },
}, null, 2));
