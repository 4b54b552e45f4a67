/**
 * Trains signature feature extractors (writer-independent, SigNet setting) in two phases:
 *
 *   nice -n 19 npx tsx scripts/train-signatures.ts --phase cv [--recipes pairs,random-only]
 *     Cross-validation over writers: the 30 claimed persons in 3 folds of 10 (seeded). For each
 *     recipe and fold, an encoder is trained on the other 20 persons (16 train, 4 validation
 *     persons that choose the recipe, the training length and the decision thresholds) and saved
 *     at every checkpoint step under <state>/<recipe>/fold-<i>/step-<n>/. Resumable: a fold whose
 *     last checkpoint is saved is skipped. Choosing and evaluating: scripts/report-signatures.ts.
 *     With --inner-folds 4 (nested cross-validation): per outer fold, one encoder per inner fold of
 *     its 20 development persons (15 train, 5 validation) under fold-<i>/inner-<j>/, and one on all
 *     20 under fold-<i>/dev/ (what the outer test persons measure). Choosing and evaluating:
 *     scripts/nested-cv-signatures.ts. With --writer-fraction F (learning curves, in another
 *     --state): every job trains on a seeded fraction of its training persons, the validation and
 *     test persons unchanged (scripts/signature-learning-curve.ts compares the sizes).
 *
 *   nice -n 19 npx tsx scripts/train-signatures.ts --phase final --from models/signatures/cv-results.json
 *     The shipped extractor: every writer trains, with the recipe and length the validation
 *     persons chose (read from the report's cv-results.json: same learning-rate schedule over
 *     --steps, stopped at the chosen step); saved to models/signatures with the decision thresholds
 *     of the cross-validation (the mean of the folds' validation thresholds) and the chosen
 *     writer-dependent classifier.
 *
 * Recipes: 'pairs' = contrastive loss on genuine pairs, genuine/skilled-forgery pairs and pairs of
 * different persons, the three kinds averaged separately; 'random-only' = the same without the
 * skilled forgeries (what a system with no forgeries to learn from gets); 'pairs-strong-aug' = 'pairs'
 * with Koch-strength affine augmentation (against overfitting 16 writers); 'pairs-mirrored' = 'pairs'
 * with every training writer's mirrored copies as further writers (4x the writers); 'signet' = SigNet
 * (Hafemann et al. 2017): writer classification (softmax over the training writers' genuine
 * signatures, cosine head) with strong augmentation, the embedding scored by cosine distance;
 * 'signet-mirrored' = 'signet' over every training writer and its three mirrored copies as further
 * classes (writer classification gains most per added writer: scripts/signature-learning-curve.ts);
 * 'signet-f' = SigNet-F: the same plus a genuine-vs-skilled-forgery output trained on the training
 * writers' forgeries (src/applications/signatures/writer_classification.ts); 'pairs-forgery' =
 * 'pairs-strong-aug' plus SigNet-F's genuine-vs-forgery output on the same embeddings.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { selectBackend } from '../src/backend/select.js';
import { createDistance } from '../src/distances/create_distance.js';
import { SiameseScorer } from '../src/inference/embedder.js';
import { loadScorer } from '../src/inference/load.js';
import { createEncoder } from '../src/models/encoders/registry.js';
import { saveModel } from '../src/models/io.js';
import type { ModelMetadata } from '../src/models/metadata.js';
import { createOptimizer, setLearningRate } from '../src/training/optimizer.js';
import { JsonlLog } from '../src/training/jsonl_log.js';
import { Rng } from '../src/util/random.js';
import { NORM_CONV4 } from '../src/applications/normalized_conv4.js';
import { SIGNATURES_PREPROCESS, loadSignatures, signaturePersons, splitByPerson, subsampleWriters, subset, writerFolds, type SignatureSet } from '../src/applications/signatures/layout.js';
import { evaluateReferenceVerification, type ReferenceTrial } from '../src/applications/signatures/reference_verification.js';
import { WriterClassificationHeads, sampleWriterBatch } from '../src/applications/signatures/writer_classification.js';
import { SIGNATURE_AFFINE, SIGNATURE_AFFINE_STRONG, withMirroredWriters, sampleSignatureBatch, signatureBatchLoss, signaturePairsLoss, signatureIndex, signatureTensor } from '../src/applications/signatures/train.js';
import { summarize } from '../src/verification/metrics.js';
import { writeThreshold, writeWriterDependentSettings } from '../src/verification/calibration.js';
import type { ReferenceDecision, WriterDependentSettings } from '../src/verification/writer_dependent.js';

export const SIGNATURE_RECIPES = ['pairs', 'random-only', 'pairs-strong-aug', 'pairs-mirrored', 'signet', 'signet-mirrored', 'signet-f', 'pairs-forgery'] as const;
type Recipe = (typeof SIGNATURE_RECIPES)[number];

const { values: args } = parseArgs({
  options: {
    phase: { type: 'string', default: 'cv' },
    data: { type: 'string', default: resolve('..', 'shared', 'data', 'signatures', 'handwritten_signatures.zip') },
    out: { type: 'string', default: 'models/signatures' },
    state: { type: 'string', default: join(tmpdir(), 'fewshot-signatures-cv') },
    recipes: { type: 'string', default: SIGNATURE_RECIPES.join(',') },
    recipe: { type: 'string', default: 'pairs' },
    folds: { type: 'string', default: '3' },
    'inner-folds': { type: 'string', default: '0' },
    steps: { type: 'string', default: '200' },
    checkpoints: { type: 'string', default: '20,40,60,80,120,160,200' },
    'stop-at': { type: 'string' },
    from: { type: 'string' },
    seed: { type: 'string', default: '1' },
    persons: { type: 'string', default: '8' },
    margin: { type: 'string', default: '1' },
    lr: { type: 'string', default: '0.001' },
    'validate-every': { type: 'string', default: '40' },
    backend: { type: 'string', default: 'auto' },
    size: { type: 'string', default: `${SIGNATURES_PREPROCESS.height}x${SIGNATURES_PREPROCESS.width}` },
    // signet / signet-f: images per batch and the weight of the forgery output's loss.
    genuine: { type: 'string', default: '32' },
    forgeries: { type: 'string', default: '16' },
    'forgery-weight': { type: 'string', default: '1' },
    // Learning curves: every cv job trains on this fraction of its training persons (seeded subsample;
    // validation and test persons unchanged), e.g. 0.67 = 10 of an inner fold's 15, 13 of the dev 20.
    'writer-fraction': { type: 'string', default: '1' },
    // The subsample's seed (default --seed, which also draws the folds): repeats of a learning curve.
    'writer-seed': { type: 'string' },
  },
});
/** What report-signatures.ts chose (cv-results.json): recipe, step, thresholds, classifier. */
interface CvChoice {
  chosen: { recipe: string; step: number; decision?: ReferenceDecision; wd: WriterDependentSettings };
  thresholds: { distance: { value: number; folds: number[] }; wd: { value: number; folds: number[] } };
}
const cv: CvChoice | null = args.from ? (JSON.parse(readFileSync(args.from, 'utf8')) as CvChoice) : null;
if (cv) {
  // The report names a recipe trained at another input size '<recipe>-<H>x<W>' (its folder).
  const sized = /^(.+)-(\d+x\d+)$/.exec(cv.chosen.recipe);
  args.recipe = sized ? sized[1]! : cv.chosen.recipe;
  if (sized) args.size = sized[2]!;
  args['stop-at'] = String(cv.chosen.step);
}
const seed = Number(args.seed);
const steps = Number(args.steps);
const checkpoints = args.phase === 'final'
  ? [Number(args['stop-at'] ?? steps)]
  : args.checkpoints!.split(',').map(Number);
if (checkpoints.some((c) => !(Number.isInteger(c) && c >= 1 && c <= steps))) throw new Error(`checkpoints must be steps in 1..${steps}, got ${checkpoints.join(',')}`);
const lastStep = Math.max(...checkpoints);
const writerFraction = Number(args['writer-fraction']);
const writerSeed = Number(args['writer-seed'] ?? seed);
if (!(writerFraction > 0 && writerFraction <= 1)) throw new Error(`--writer-fraction must be in (0, 1], got '${args['writer-fraction']}'`);
if (writerFraction < 1 && args.phase !== 'cv') throw new Error('--writer-fraction is for --phase cv (learning curves); the final model trains on every writer');
const backend = await selectBackend(args.backend as 'auto');
// Input size: the default canvas, or a larger one (--size HxW, e.g. 72x144) for the same recipe.
const size = /^(\d+)x(\d+)$/.exec(args.size!);
if (!size) throw new Error(`--size must be HEIGHTxWIDTH such as 72x144, got '${args.size}'`);
const PREPROCESS = { ...SIGNATURES_PREPROCESS, height: Number(size[1]), width: Number(size[2]) };
const defaultSize = PREPROCESS.height === SIGNATURES_PREPROCESS.height && PREPROCESS.width === SIGNATURES_PREPROCESS.width;
const all = await loadSignatures(args.data!, PREPROCESS);
const INPUT: [number, number, number] = [PREPROCESS.height, PREPROCESS.width, 1];

function parseRecipe(r: string): Recipe {
  if (!(SIGNATURE_RECIPES as readonly string[]).includes(r)) throw new Error(`unknown recipe '${r}': one of ${SIGNATURE_RECIPES.join(', ')}`);
  return r as Recipe;
}

const isSignet = (recipe: Recipe) => recipe === 'signet' || recipe === 'signet-mirrored' || recipe === 'signet-f';

function metadata(recipe: Recipe, training: Record<string, unknown>): ModelMetadata {
  const signet = isSignet(recipe);
  return {
    format: 'fewshot-model/1',
    method: signet ? 'classifier' : 'contrastive',
    encoder: NORM_CONV4,
    inputShape: INPUT,
    embeddingDim: 64,
    preprocess: PREPROCESS,
    score: 'negative-distance',
    // The cosine head compares directions, so a SigNet embedding is scored by cosine distance.
    distance: signet ? 'cosine' : 'euclidean',
    // The shipped model carries the decision its cross-validation chose (the CLI's and service's default).
    ...(args.phase === 'final' && cv?.chosen.decision ? { decision: cv.chosen.decision } : {}),
    training: {
      script: 'scripts/train-signatures.ts', recipe, steps, seed, lr: Number(args.lr), backend,
      ...(signet
        ? { genuinePerBatch: Number(args.genuine), forgeriesPerBatch: recipe === 'signet-f' ? Number(args.forgeries) : 0, forgeryWeight: Number(args['forgery-weight']) }
        : { margin: Number(args.margin), personsPerBatch: Number(args.persons), ...(recipe === 'pairs-forgery' ? { forgeryWeight: Number(args['forgery-weight']) } : {}) }),
      ...training,
    },
    createdAt: new Date().toISOString(),
  };
}

/** Genuine vs skilled EER with 1..3 references pooled (distance decision), for the log. */
function validationEer(encoder: tfl.LayersModel, meta: ModelMetadata, set: SignatureSet): { eer: number; auc: number } {
  const scorer = SiameseScorer.fromModel(encoder, meta);
  const emb = scorer.embedFlat(set.pixels, set.files.length);
  const trials: ReferenceTrial[] = [];
  for (let k = 1; k <= 3; k++) trials.push(...evaluateReferenceVerification(scorer, set, emb, { references: k, seed: 100 + k, skipShortWriters: true }).trials);
  const s = summarize({ genuine: trials.filter((t) => t.kind === 'genuine').map((t) => t.similarity), impostor: trials.filter((t) => t.kind === 'skilled').map((t) => t.similarity), direction: 'higher-is-same' });
  return { eer: s.eer, auc: s.auc };
}

/**
 * Trains one encoder on `train`, saving it at every checkpoint step to <outDir>/step-<n>/ (the
 * final phase: to outDir itself). The validation EER is logged.
 */
async function trainEncoder(train: SignatureSet, validation: SignatureSet | null, recipe: Recipe, outDir: string, training: Record<string, unknown>): Promise<void> {
  const encoder = createEncoder(NORM_CONV4, { inputShape: INPUT, embeddingDim: 64, seed });
  const distance = createDistance('euclidean');
  if (recipe === 'pairs-mirrored' || recipe === 'signet-mirrored') train = withMirroredWriters(train);
  const index = signatureIndex(train);
  const heads = isSignet(recipe) || recipe === 'pairs-forgery' ? new WriterClassificationHeads(encoder, index.persons.length, seed) : null;
  const optimizer = createOptimizer({ name: 'adam', lr: Number(args.lr) });
  mkdirSync(outDir, { recursive: true });
  const log = new JsonlLog(join(outDir, 'training-log.partial.jsonl'));
  log.startAt(0);
  // pairs-forgery trains the forgery output only (the writer head gets no gradient).
  const trainable = !heads ? encoder.trainableWeights : isSignet(recipe) ? heads.trained.trainableWeights : [...encoder.trainableWeights, ...heads.forgery.trainableWeights];
  const vars = trainable.map((w) => w.read() as tf.Variable);
  const rng = new Rng(seed);
  const started = Date.now();
  const tensorsAtStart = tf.memory().numTensors;
  let lossSum = 0, lossCount = 0;
  for (let step = 1; step <= lastStep; step++) {
    // Cosine decay over --steps to 5% of the initial rate.
    const lr = Number(args.lr) * (0.05 + 0.95 * 0.5 * (1 + Math.cos((Math.PI * (step - 1)) / steps)));
    setLearningRate(optimizer, lr);
    let x: tf.Tensor4D;
    let cost: tf.Scalar;
    if (heads && recipe === 'pairs-forgery') {
      const batch = sampleSignatureBatch(index, Number(args.persons), rng, true);
      x = signatureTensor(train, batch.images, rng, SIGNATURE_AFFINE_STRONG);
      const genuine = batch.images.length - batch.kind.filter((k) => k === 1).length;
      cost = optimizer.minimize(() => {
        const emb = encoder.apply(x, { training: true }) as tf.Tensor2D;
        return tf.add(signaturePairsLoss(emb, batch, distance, Number(args.margin)), tf.mul(heads.forgeryLoss(emb, genuine), Number(args['forgery-weight'])));
      }, true, vars)!;
    } else if (heads) {
      const batch = sampleWriterBatch(index, Number(args.genuine), recipe === 'signet-f' ? Number(args.forgeries) : 0, rng);
      x = signatureTensor(train, batch.images, rng, SIGNATURE_AFFINE_STRONG);
      cost = optimizer.minimize(() => heads.loss(encoder, x, batch, Number(args['forgery-weight'])), true, vars)!;
    } else {
      const batch = sampleSignatureBatch(index, Number(args.persons), rng, recipe !== 'random-only');
      x = signatureTensor(train, batch.images, rng, recipe === 'pairs-strong-aug' ? SIGNATURE_AFFINE_STRONG : SIGNATURE_AFFINE);
      cost = optimizer.minimize(() => signatureBatchLoss(encoder, x, batch, distance, Number(args.margin)), true, vars)!;
    }
    const loss = (await cost.data())[0]!;
    cost.dispose();
    x.dispose();
    if (!Number.isFinite(loss)) throw new Error(`loss became ${loss} at step ${step}: lower --lr`);
    lossSum += loss;
    lossCount++;
    const checkpoint = checkpoints.includes(step);
    if (step % 10 === 0 || checkpoint) {
      const record: Record<string, unknown> = { step, loss: lossSum / lossCount, lr, tensors: tf.memory().numTensors - tensorsAtStart };
      lossSum = 0;
      lossCount = 0;
      let line = `  step ${step}: loss ${(record.loss as number).toFixed(4)}`;
      if (checkpoint && validation) {
        const v = validationEer(encoder, metadata(recipe, training), validation);
        record.valEer = v.eer;
        record.valAuc = v.auc;
        line += ` validation EER ${(100 * v.eer).toFixed(1)}% AUC ${v.auc.toFixed(3)}`;
      }
      log.append({ ...record, elapsed: (Date.now() - started) / 1000 } as never);
      if (checkpoint) {
        const dir = args.phase === 'final' ? outDir : join(outDir, `step-${step}`);
        await saveAtomically(dir, encoder, metadata(recipe, { ...training, stoppedAt: step }), log.path);
        line += ` (saved ${dir})`;
      }
      console.error(`${line} [${((Date.now() - started) / 1000).toFixed(0)} s]`);
    }
  }
  renameSync(log.path, join(outDir, 'training-log.jsonl'));
  heads?.dispose();
  encoder.dispose();
  optimizer.dispose();
}

/** The model appears complete or not at all (model.json last: 'model.json exists' means done). */
async function saveAtomically(dir: string, encoder: tfl.LayersModel, meta: ModelMetadata, logPath: string): Promise<void> {
  const tmpDir = `${dir}.partial`;
  rmSync(tmpDir, { recursive: true, force: true });
  await saveModel(tmpDir, encoder, meta);
  copyFileSync(logPath, join(tmpDir, 'training-log.jsonl'));
  mkdirSync(dir, { recursive: true });
  const files = readdirSync(tmpDir).sort((a, b) => Number(a === 'model.json') - Number(b === 'model.json'));
  for (const file of files) renameSync(join(tmpDir, file), join(dir, file));
  rmSync(tmpDir, { recursive: true, force: true });
}

if (args.phase === 'cv') {
  const folds = writerFolds(all.files, Number(args.folds), seed);
  const innerFolds = Number(args['inner-folds']);
  if (!(Number.isInteger(innerFolds) && (innerFolds === 0 || innerFolds >= 2))) throw new Error(`--inner-folds must be 0 (one 16/4 split) or at least 2, got '${args['inner-folds']}'`);
  for (const recipe of args.recipes!.split(',').map(parseRecipe)) {
    for (let f = 0; f < folds.length; f++) {
      const foldDir = resolve(args.state!, defaultSize ? recipe : `${recipe}-${args.size}`, `fold-${f}`);
      const testPersons = folds[f]!;
      const rest = subset(all, (file) => !testPersons.includes(file.claimed));
      // Jobs of this outer fold: one 16/4 split, or (nested cross-validation) one encoder per inner
      // fold of the 20 development persons plus one on all 20 (what the outer test measures).
      const jobs: { dir: string; train: SignatureSet; validation: SignatureSet | null; validationPersons: string[]; trainPersons: string[]; innerFold?: number }[] = [];
      if (innerFolds === 0) {
        const inner = splitByPerson(rest, { testFraction: 0.2, seed: seed + 1 + f });
        jobs.push({ dir: foldDir, train: inner.train, validation: inner.test, validationPersons: inner.testPersons, trainPersons: inner.trainPersons });
      } else {
        const groups = writerFolds(rest.files, innerFolds, seed + 1 + f);
        groups.forEach((validationPersons, j) => {
          const split = splitByPerson(rest, { testPersons: validationPersons });
          jobs.push({ dir: join(foldDir, `inner-${j}`), train: split.train, validation: split.test, validationPersons, trainPersons: split.trainPersons, innerFold: j });
        });
        jobs.push({ dir: join(foldDir, 'dev'), train: rest, validation: null, validationPersons: [], trainPersons: signaturePersons(rest.files) });
      }
      if (writerFraction < 1) {
        for (const job of jobs) {
          const sub = subsampleWriters(job.train, writerFraction, writerSeed * 1000 + 10 * f + (job.innerFold ?? 9));
          job.train = sub.set;
          job.trainPersons = sub.persons;
        }
      }
      for (const job of jobs) {
        const name = `${recipe} fold ${f}${job.innerFold !== undefined ? ` inner ${job.innerFold}` : innerFolds ? ' dev' : ''}`;
        if (existsSync(join(job.dir, `step-${lastStep}`, 'model.json'))) {
          console.error(`${name}: done already (${job.dir})`);
          continue;
        }
        console.error(`${name}: test ${testPersons.join(',')}; validation ${job.validationPersons.join(',') || 'none'}; train ${job.trainPersons.length} persons`);
        await trainEncoder(job.train, job.validation, recipe, job.dir, {
          protocol: innerFolds
            ? `nested cross-validation over writers: outer fold ${f} of ${folds.length}, ${job.innerFold !== undefined ? `inner fold ${job.innerFold} of ${innerFolds}` : 'all development persons'}`
            : `cross-validation fold ${f} of ${folds.length} over writers`,
          fold: f, ...(job.innerFold !== undefined ? { innerFold: job.innerFold, innerFolds } : {}),
          testPersons, validationPersons: job.validationPersons, trainPersons: job.trainPersons,
          ...(writerFraction < 1 ? { writerFraction, writerSeed } : {}),
        });
      }
    }
  }
} else if (args.phase === 'final') {
  const recipe = parseRecipe(args.recipe!);
  const outDir = resolve(args.out!);
  const persons = [...new Set(all.files.map((f) => f.claimed))].sort();
  console.error(`final ${recipe}: ${persons.length} persons, ${lastStep} steps (schedule over ${steps}) -> ${outDir}`);
  await trainEncoder(all, null, recipe, outDir, {
    protocol: `every writer of ${args.data}${cv ? ` (recipe, steps, decision and thresholds from the cross-validation report ${args.from})` : ''}`,
    trainPersons: persons,
    ...(cv ? { chosenBy: args.from } : {}),
  });
  if (cv) {
    const src = (d: 'distance' | 'wd') =>
      `mean of the ${cv.thresholds[d].folds.length} cross-validation folds' EER thresholds on their validation persons (genuine vs skilled forgeries, 1-4 references pooled; folds: ${cv.thresholds[d].folds.map((v) => v.toFixed(3)).join(', ')})`;
    writeThreshold(outDir, { value: cv.thresholds.distance.value, source: src('distance') });
    writeWriterDependentSettings(outDir, { ...cv.chosen.wd, threshold: { value: cv.thresholds.wd.value, source: src('wd') } });
    console.error(`thresholds from ${args.from}: distance ${cv.thresholds.distance.value.toFixed(4)}, wd ${cv.thresholds.wd.value.toFixed(4)}`);
  }
} else {
  throw new Error(`--phase must be cv or final, got '${args.phase}'`);
}
