/**
 * Trains the shipped face model (models/faces-scratch/: the from-scratch comparison row; models/faces is the pretrained pipeline) on AT&T people s1..s30 and measures it on
 * s31..s40, never seen in training:
 *   nice -n 10 npx tsx scripts/train-faces.ts [--steps N] [--out models/faces-scratch] [--data ZIP]
 *
 * Prototypical training (Snell et al. 2017) of a small conv4 encoder that standardises each
 * image itself (norm-conv4), on s1..s20 with s21..s30 for model selection and for calibrating
 * the verification threshold (EER) stored in fewshot.json. Then: 1-shot and 5-shot 10-way
 * identification, verification AUC / EER and open-set accuracy on s31..s40, written to
 * <out>/results.json.
 */
import { writeFileSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { parseArgs } from 'node:util';
import { selectBackend } from '../src/backend/select.js';
import { loadImageDataset } from '../src/data/dataset.js';
import { loadScorer } from '../src/inference/load.js';
import { trainModel, type TrainConfig } from '../src/training/trainer.js';
import { NORM_CONV4 } from '../src/applications/normalized_conv4.js';
import type { PreprocessConfig } from '../src/data/preprocess.js';
import { FACES_PREPROCESS, splitAttFaces, evaluateFaces } from '../src/applications/faces/att.js';
import { evaluatePairs } from '../src/verification/evaluate.js';
import { writeThreshold } from '../src/verification/calibration.js';
import { calibrateOpenSetThreshold } from '../src/verification/open_set.js';

const { values: args } = parseArgs({
  options: {
    data: { type: 'string', default: resolve('..', 'shared', 'data', 'faces', 'att_faces.zip') },
    out: { type: 'string', default: 'models/faces-scratch' },
    state: { type: 'string', default: join(tmpdir(), 'fewshot-faces-train') },
    steps: { type: 'string', default: '400' },
    seed: { type: 'string', default: '1' },
    backend: { type: 'string', default: 'auto' },
    encoder: { type: 'string', default: NORM_CONV4 },
    size: { type: 'string', default: '64' },
    'embedding-dim': { type: 'string', default: '64' },
    lr: { type: 'string', default: '0.001' },
    way: { type: 'string', default: '8' },
    shot: { type: 'string', default: '1' },
    query: { type: 'string', default: '3' },
    'eval-only': { type: 'boolean', default: false },
  },
});
const outDir = resolve(args.out!);
const seed = Number(args.seed);
const backend = await selectBackend(args.backend as 'auto');
const size = Number(args.size);
const preprocessCfg: PreprocessConfig = { ...FACES_PREPROCESS, height: size, width: size };
const ds = await loadImageDataset(args.data!, { layout: 'class-folders', preprocess: preprocessCfg });
const split = splitAttFaces(ds);
console.error(`faces: ${ds.size} images of ${ds.numClasses} people; train ${split.train.numClasses}, validation ${split.validation.numClasses}, test ${split.test.numClasses} (never seen)`);

if (!args['eval-only']) {
  const cfg: TrainConfig = {
    method: 'protonet',
    encoder: args.encoder!,
    inputShape: [size, size, 1],
    embeddingDim: Number(args['embedding-dim']),
    methodOptions: { batchSize: 32, way: Number(args.way), shot: Number(args.shot), query: Number(args.query), classesPerBatch: 8, m: 4, miner: 'none', distance: 'sqeuclidean' },
    optimizer: 'adam',
    lr: Number(args.lr),
    momentum: 0.9,
    schedule: 'cosine',
    warmupSteps: 20,
    steps: Number(args.steps),
    seed,
    augment: true,
    validation: { every: 50, episodes: 100, way: 10, alsoWays: [], shot: 1, query: 5, groups: 'any', seed: 7 },
    patience: 0,
    checkpointEvery: 100,
    logEvery: 10,
    outDir,
    // Checkpoints and the live log stay outside the repository; the model folder gets a copy of the log.
    stateDir: resolve(args.state!),
    resume: false,
    preprocess: preprocessCfg,
    notes: { data: 'AT&T faces s1..s20 (train), s21..s30 (validation); s31..s40 never seen', script: 'scripts/train-faces.ts' },
  };
  const r = await trainModel(split.train, split.validation, cfg);
  console.error(`trained ${r.steps} steps in ${r.elapsedSeconds.toFixed(0)} s; best ${(100 * r.bestAccuracy).toFixed(1)}% at step ${r.bestStep}`);
}

// Calibrate on the validation people (seen during model selection, never in the test).
let scorer = await loadScorer(outDir);
const val = evaluatePairs(scorer, split.validation, { seed, dataName: 'AT&T s21-s30' });
writeThreshold(outDir, val.calibration.threshold);
const openCal = calibrateOpenSetThreshold(scorer, scorer.embedFlat(split.validation.pixels, split.validation.size), split.validation.indicesByClass(),
  { way: 5, unknownWay: 5, shot: 5, query: 5, episodes: 200, seed }, 'eer', 'AT&T s21-s30');
scorer = await loadScorer(outDir);

const result = evaluateFaces(scorer, split.test, { seed, episodes: 300, dataName: 'AT&T s31-s40 (never seen)', openSetThreshold: openCal.threshold.value });
const summary = {
  model: outDir,
  backend,
  data: args.data,
  test: 'AT&T s31..s40 (never seen in training)',
  threshold: JSON.parse(readFileSync(join(outDir, 'fewshot.json'), 'utf8')).threshold,
  openSetThreshold: openCal.threshold,
  ...result,
};
writeFileSync(join(outDir, 'results.json'), JSON.stringify(summary, null, 2) + '\n');
console.log(JSON.stringify(summary, null, 2));
