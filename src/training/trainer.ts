/**
 * The training loop shared by every method: optimizer + schedule, seeded sampling and
 * augmentation, validation by few-shot episodes on held-out classes, best-model saving,
 * periodic atomic checkpoints for `--resume`, early stopping, a JSONL log.
 *
 * Determinism: step s draws its batch and its augmentation from Rng(seed, s), so a run killed
 * and resumed from its last checkpoint replays exactly the steps it lost.
 */
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { toBatchTensor } from '../data/batch.js';
import type { ImageDataset } from '../data/dataset.js';
import type { PreprocessConfig } from '../data/preprocess.js';
import { EmbeddingCache } from '../evaluation/embedding_cache.js';
import { evaluateEpisodes, type EpisodeGrouping } from '../evaluation/episodes.js';
import { SiameseScorer } from '../inference/embedder.js';
import { createEncoder } from '../models/encoders/registry.js';
import { loadModel, saveModel } from '../models/io.js';
import { writeThreshold } from '../verification/calibration.js';
import { evaluatePairs } from '../verification/evaluate.js';
import { splitPairModel } from '../models/siamese.js';
import { loadSavedEncoder } from '../models/saved_encoder.js';
import type { ModelMetadata } from '../models/metadata.js';
import { trainClassDigests } from '../models/training_classes.js';
import { Rng } from '../util/random.js';
import { useTrainingPrecision, type TrainingPrecision } from '../backend/native/precision.js';
import { captureWeights, readCheckpoint, restoreWeights, writeCheckpoint, type TrainingProgress } from './checkpoint.js';
import { JsonlLog } from './jsonl_log.js';
import { checkTrainingPlan } from './preflight.js';
import { initPairHeadFromL1 } from './pair_head_init.js';
import { createMethod } from './methods/index.js';
import type { MethodName, MethodOptions, TrainingMethod } from './methods/method.js';
import { createOptimizer, getOptimizerState, setLearningRate, setOptimizerState, type OptimizerName } from './optimizer.js';
import { ProgressReporter } from './progress.js';
import { createSchedule, type ScheduleName } from './schedule.js';

export interface ValidationConfig {
  /** Validate every this many steps (and at the last step). 0 = only at the end. */
  every: number;
  episodes: number;
  /** The way whose accuracy selects the best model; `alsoWays` are logged as well. */
  way: number;
  alsoWays: number[];
  shot: number;
  query: number;
  groups: EpisodeGrouping;
  seed: number;
}

/** Everything a training run needs: model, method, optimizer and schedule, validation, checkpoints and output folder. */
export interface TrainConfig {
  method: MethodName;
  encoder: string;
  inputShape?: [number, number, number];
  embeddingDim?: number;
  methodOptions: MethodOptions;
  optimizer: OptimizerName;
  lr: number;
  momentum: number;
  schedule: ScheduleName;
  warmupSteps: number;
  stepSize?: number;
  gamma?: number;
  minLr?: number;
  steps: number;
  seed: number;
  augment: boolean;
  validation: ValidationConfig;
  /** Stop after this many validations without improvement (0 = never). */
  patience: number;
  checkpointEvery: number;
  logEvery: number;
  /**
   * Wall-clock budget of training in seconds (resumed runs count their earlier time): the run
   * ends when it is spent, and the schedule follows the spent fraction of it instead of the step
   * (step = fraction x steps), so runs of different speed get the same schedule shape.
   * For equal-compute comparisons; `steps` is then an upper bound.
   */
  timeBudgetSeconds?: number;
  /**
   * What the budget counts: 'wall' (wall-clock seconds) or 'cpu' (CPU seconds of this process,
   * all threads), the fairer measure when other jobs share the machine. Default 'wall'.
   */
  budgetClock?: 'wall' | 'cpu';
  /**
   * 'bf16': the convolutions of training passes run in bfloat16 with float32 accumulation
   * (native backend, CPUs with AVX512-BF16/AMX; src/backend/native/precision.ts); weights,
   * optimizer, batch norm, losses and validation stay float32. Default 'fp32'.
   */
  precision?: TrainingPrecision;
  /** The model directory (replaced as a whole by every best-model save). */
  outDir: string;
  /** Checkpoint and live log; default `<outDir>-train` (outside the model directory, which saveModel replaces). */
  stateDir?: string;
  resume: boolean;
  /** A saved model whose encoder weights start the run (ignored when resuming from a checkpoint). */
  initFrom?: string;
  /**
   * A saved model that IS the run's encoder, architecture and weights (an ensemble, or any
   * embedding model; models/saved_encoder.ts); `encoder` then only names it in the metadata.
   * A pair run's head starts as its L1 distance unless `initFrom` gives one.
   */
  encoderFrom?: string;
  /**
   * Train only the weights a method adds to the encoder (the pair head, the classifier's head):
   * the encoder is neither updated nor run in training mode (its batch-norm statistics stay).
   */
  freezeEncoder?: boolean;
  preprocess: PreprocessConfig;
  /** Extra facts for the model's metadata (data location, validation alphabets...). */
  notes?: Record<string, unknown>;
}

/** What a training run did: steps, the best validation accuracy and its step, where the model is, whether it was interrupted, the calibrated threshold. */
export interface TrainResult {
  steps: number;
  bestAccuracy: number;
  bestStep: number;
  stoppedEarly: boolean;
  elapsedSeconds: number;
  lastLoss: number;
  modelDir: string;
  stateDir: string;
  resumedFrom: number;
  /** True when `shouldStop` ended the run early (Ctrl-C): the checkpoint holds the last step. */
  interrupted: boolean;
  /** The validation way that selected the best model (lowered when the validation split is small); 0 without validation. */
  validationWay: number;
  /** The EER threshold stored in the model at the end (null without validation or when interrupted). */
  threshold: CalibratedThreshold | null;
}

/** Optional callbacks of a training run: progress output, per-step observation, graceful stop. */
export interface TrainHooks {
  progress?: ProgressReporter;
  /** Called after every step (tests use it to watch memory and losses). */
  onStep?(step: number, loss: number): void;
  /**
   * Stop gracefully after the current step (SIGINT handler). Checked after every step, once the
   * loop has yielded to the event loop, so that signal handlers get to run.
   */
  shouldStop?(): boolean;
  /**
   * The clocks a time budget reads, in seconds since the run (or its resumed part) started:
   * default wall-clock time and this process's CPU time. Tests pass a clock that advances per
   * step, so a budget means a known number of steps on a machine of any load.
   */
  clock?: { wallSeconds(): number; cpuSeconds(): number };
}

/** Wall-clock and CPU seconds (all threads of this process) since the call. */
function processClock(): { wallSeconds(): number; cpuSeconds(): number } {
  const started = Date.now();
  const cpuStart = process.cpuUsage();
  return {
    wallSeconds: () => (Date.now() - started) / 1000,
    cpuSeconds: () => {
      const used = process.cpuUsage(cpuStart);
      return (used.user + used.system) / 1e6;
    },
  };
}

export const CHECKPOINT_FILE = 'checkpoint.bin';
export const LOG_FILE = 'training-log.jsonl';

/** The Rng of one step, a pure function of (seed, step). */
export function stepRng(seed: number, step: number): Rng {
  return new Rng((Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(step + 1, 0x85ebca77)) >>> 0);
}

/** Builds the encoder a config describes (also used to learn its input shape before loading data). */
export function buildEncoder(cfg: Pick<TrainConfig, 'encoder' | 'inputShape' | 'embeddingDim' | 'seed'>): tfl.LayersModel {
  return createEncoder(cfg.encoder, {
    ...(cfg.inputShape ? { inputShape: cfg.inputShape } : {}),
    ...(cfg.embeddingDim ? { embeddingDim: cfg.embeddingDim } : {}),
    seed: cfg.seed,
  });
}

export function encoderInputShape(encoder: tfl.LayersModel): [number, number, number] {
  const shape = encoder.inputs[0]!.shape;
  if (shape.length !== 4) throw new Error(`encoder input must be [batch, h, w, c], got [${shape}]`);
  return [shape[1]!, shape[2]!, shape[3]!];
}

/**
 * `--init-from`: starts a run from a saved model. A pair model into a pair run gives all its
 * weights (encoder and head); otherwise the encoder weights of the saved model (an embedding
 * model, or the encoder inside a pair model) go into `encoder`. Architectures and input sizes
 * must match. Returns what was copied.
 */
export async function initFromSavedModel(modelDir: string, trained: tfl.LayersModel, encoder: tfl.LayersModel, method: MethodName): Promise<'pair model' | 'encoder'> {
  const { model, meta } = await loadModel(modelDir);
  try {
    const pairIntoPair = meta.score === 'pair-probability' && method === 'pair';
    const source = pairIntoPair ? model : meta.score === 'pair-probability' ? splitPairModel(model).encoder : model;
    const target = pairIntoPair ? trained : encoder;
    const from = source.weights;
    const to = target.weights;
    const mismatch =
      from.length !== to.length ? `${from.length} weight tensors, not ${to.length}` : from.findIndex((w, i) => w.shape.join('x') !== to[i]!.shape.join('x'));
    if (typeof mismatch === 'string' || mismatch >= 0) {
      const what = typeof mismatch === 'string' ? mismatch : `weight ${from[mismatch]!.originalName} is [${from[mismatch]!.shape}], not [${to[mismatch]!.shape}]`;
      throw new Error(`--init-from ${modelDir}: its ${pairIntoPair ? 'pair model' : 'encoder'} '${meta.encoder}' (${meta.inputShape.join('x')}) does not fit this run's: ${what}`);
    }
    target.setWeights(from.map((w) => w.read()));
    return pairIntoPair ? 'pair model' : 'encoder';
  } finally {
    model.dispose();
  }
}

/** The settings that must match for `--resume` to continue a run. */
function identity(cfg: TrainConfig, inputShape: number[]): Record<string, unknown> {
  return { method: cfg.method, encoder: cfg.encoder, inputShape, embeddingDim: cfg.embeddingDim ?? null, seed: cfg.seed, optimizer: cfg.optimizer };
}

/** Trains `cfg.method` on `train`, validating on `validation` by few-shot episodes: keeps the best model in `cfg.outDir`, a resumable checkpoint and the live log in `<outDir>-train/`, stops early after `patience` validations without improvement, and ends by storing an EER threshold calibrated on the validation classes. Checks the plan against the data before step 1. Resuming (`cfg.resume`) a killed run ends with the same weights as an uninterrupted one. */
export async function trainModel(
  train: ImageDataset,
  validation: ImageDataset | null,
  cfg: TrainConfig,
  hooks: TrainHooks = {},
): Promise<TrainResult> {
  if (!Number.isInteger(cfg.steps) || cfg.steps < 1) throw new Error(`steps must be a positive integer, got ${cfg.steps}`);
  // Checked before anything is written; set for the loop below and undone when it ends.
  const restorePrecision = useTrainingPrecision(cfg.precision ?? 'fp32');
  try {
    return await runTraining(train, validation, cfg, hooks);
  } finally {
    restorePrecision();
  }
}

async function runTraining(train: ImageDataset, validation: ImageDataset | null, cfg: TrainConfig, hooks: TrainHooks): Promise<TrainResult> {
  const stateDir = cfg.stateDir ?? `${cfg.outDir.replace(/[\\/]+$/, '')}-train`;
  mkdirSync(stateDir, { recursive: true });
  const encoder = cfg.encoderFrom ? (await loadSavedEncoder(cfg.encoderFrom)).encoder : buildEncoder(cfg);
  const inputShape = encoderInputShape(encoder);
  if (train.height !== inputShape[0] || train.width !== inputShape[1] || train.channels !== inputShape[2]) {
    throw new Error(`training images are ${train.height}x${train.width}x${train.channels} but encoder '${cfg.encoder}' expects ${inputShape.join('x')}`);
  }
  const plan = checkTrainingPlan(train, validation, {
    method: cfg.method,
    methodOptions: cfg.methodOptions,
    validation: validation ? cfg.validation : null,
  });
  const valCfg: ValidationConfig = { ...cfg.validation, way: plan.validationWay || cfg.validation.way, alsoWays: plan.validationAlsoWays };
  const method: TrainingMethod = createMethod(cfg.method, encoder, {
    ...cfg.methodOptions,
    numClasses: train.numClasses,
    seed: cfg.seed,
    ...(cfg.freezeEncoder ? { frozenEncoder: true } : {}),
  });
  const model = method.model;
  // What the optimiser updates and the checkpoint holds (the classifier's head too); `model` is what is saved.
  const trained = method.trained ?? model;
  const trainedVariables = (): tf.Variable[] => {
    const frozen = new Set(cfg.freezeEncoder ? encoder.weights.map((w) => w.id) : []);
    return trained.trainableWeights.filter((w) => !frozen.has(w.id)).map((w) => w.read() as tf.Variable);
  };
  if (cfg.freezeEncoder && trainedVariables().length === 0) {
    throw new Error(`--freeze-encoder: method '${cfg.method}' has no weights besides the encoder's to train (use it with pair or classifier)`);
  }
  const optimizer = createOptimizer({ name: cfg.optimizer, lr: cfg.lr, momentum: cfg.momentum });
  const schedule = createSchedule({
    name: cfg.schedule,
    lr: cfg.lr,
    totalSteps: cfg.steps,
    warmupSteps: cfg.warmupSteps,
    ...(cfg.stepSize !== undefined ? { stepSize: cfg.stepSize } : {}),
    ...(cfg.gamma !== undefined ? { gamma: cfg.gamma } : {}),
    ...(cfg.minLr !== undefined ? { minLr: cfg.minLr } : {}),
  });
  const progressOut = hooks.progress ?? new ProgressReporter();
  for (const w of plan.warnings) progressOut.message(`warning: ${w}`);
  const ckptPath = join(stateDir, CHECKPOINT_FILE);
  const log = new JsonlLog(join(stateDir, LOG_FILE));
  const id = identity(cfg, inputShape);

  let progress: TrainingProgress = { step: 0, bestAccuracy: -1, bestStep: -1, stale: 0, elapsedSeconds: 0 };
  let stoppedEarly = false;
  if (cfg.resume && existsSync(ckptPath)) {
    const ckpt = readCheckpoint(ckptPath);
    for (const [k, v] of Object.entries(id)) {
      if (JSON.stringify(ckpt.config[k]) !== JSON.stringify(v)) {
        throw new Error(`cannot resume: the checkpoint in ${cfg.outDir} was trained with ${k}=${JSON.stringify(ckpt.config[k])}, not ${JSON.stringify(v)}`);
      }
    }
    restoreWeights(trained, ckpt.weights);
    if (ckpt.optimizer.names.length > 0) await setOptimizerState(optimizer, ckpt.optimizer, trainedVariables());
    progress = ckpt.progress;
    stoppedEarly = Boolean(ckpt.config['stoppedEarly']);
    progressOut.message(`resuming from step ${progress.step} (${ckptPath})`);
  } else if (cfg.resume) {
    progressOut.message(`--resume: no checkpoint at ${ckptPath} yet: starting from step 0`);
  }
  if ((cfg.initFrom || cfg.encoderFrom) && progress.step === 0) {
    const copied = cfg.initFrom ? await initFromSavedModel(cfg.initFrom, model, encoder, cfg.method) : 'encoder';
    progressOut.message(cfg.initFrom ? `${copied} initialised from ${cfg.initFrom}` : `encoder: the saved model ${cfg.encoderFrom}`);
    if (cfg.method === 'pair' && copied === 'encoder') {
      const fit = initPairHeadFromL1(model, encoder, train, cfg.seed);
      progressOut.message(`pair head initialised as the L1 distance: logit = ${fit.bias.toFixed(3)} - ${fit.scale.toFixed(4)} * |e1 - e2|_1 (${fit.pairs} training pairs)`);
    }
  }
  const resumedFrom = progress.step;
  log.startAt(progress.step);

  const embeddingDim = (model === encoder ? encoder : encoder).outputs[0]!.shape.slice(1).reduce((a: number, b) => a * (b ?? 1), 1);
  const meta = (extra: Record<string, unknown>): ModelMetadata => ({
    format: 'fewshot-model/1',
    method: cfg.method,
    encoder: cfg.encoder,
    inputShape,
    embeddingDim,
    preprocess: cfg.preprocess,
    score: method.score,
    ...(method.distance ? { distance: method.distance } : {}),
    training: {
      ...method.settings,
      optimizer: cfg.optimizer,
      lr: cfg.lr,
      schedule: cfg.schedule,
      steps: cfg.steps,
      seed: cfg.seed,
      augment: cfg.augment,
      precision: cfg.precision ?? 'fp32',
      ...(cfg.freezeEncoder ? { frozenEncoder: true } : {}),
      trainClasses: train.numClasses,
      trainImages: train.size,
      trainClassDigests: trainClassDigests(train.classNames),
      ...cfg.notes,
      ...extra,
    },
    createdAt: new Date().toISOString(),
  });

  const scorer = validation ? SiameseScorer.fromModel(model, meta({})) : null;
  const validate = (): { accuracy: number; ci95: number; byWay: Record<string, number> } => {
    const v = valCfg;
    const cache = new EmbeddingCache(scorer!, validation!);
    const byWay: Record<string, number> = {};
    let primary = { accuracy: 0, ci95: 0 };
    for (const way of [v.way, ...v.alsoWays.filter((w) => w !== v.way)]) {
      const r = evaluateEpisodes(scorer!, validation!, { way, shot: v.shot, query: v.query, episodes: v.episodes, seed: v.seed, groups: v.groups }, cache);
      byWay[`val${way}way`] = r.accuracy;
      if (way === v.way) primary = r;
    }
    return { ...primary, byWay };
  };

  const vars = trainedVariables();
  const classIndices = train.indicesByClass();
  const clock = hooks.clock ?? processClock();
  const elapsed = (): number => progress.elapsedSeconds + clock.wallSeconds();
  const cpuSeconds = (): number => (progress.cpuSeconds ?? 0) + clock.cpuSeconds();
  let lossSum = 0;
  let lossCount = 0;
  let lastLoss = NaN;
  let modelSaved = false;
  let interrupted = false;
  let warnedSaturated = false;
  let threshold: CalibratedThreshold | null = null;
  const copyLog = (): void => {
    if (existsSync(join(cfg.outDir, 'model.json'))) copyFileSync(log.path, join(cfg.outDir, LOG_FILE));
    modelSaved = false;
  };
  const saveCheckpoint = async (): Promise<void> => {
    writeCheckpoint(ckptPath, {
      progress: { ...progress, elapsedSeconds: elapsed(), cpuSeconds: cpuSeconds() },
      config: { ...id, stoppedEarly },
      weights: await captureWeights(trained),
      optimizer: progress.step > 0 ? await getOptimizerState(optimizer) : { names: [], shapes: [], dtypes: [], values: [] },
    });
  };

  try {
    const budget = cfg.timeBudgetSeconds;
    if (budget !== undefined && !(budget > 0)) throw new Error(`the time budget must be a positive number of seconds, got ${budget}`);
    const spent = (): number => (cfg.budgetClock === 'cpu' ? cpuSeconds() : elapsed());
    const budgetSpent = (): boolean => budget !== undefined && spent() >= budget;
    while (progress.step < cfg.steps && !stoppedEarly && !budgetSpent()) {
      const step = progress.step;
      const rng = stepRng(cfg.seed, step);
      const sampleRng = rng.fork();
      const augmentRng = rng.fork();
      const lr = schedule(budget !== undefined ? Math.min(cfg.steps - 1, Math.floor((spent() / budget) * cfg.steps)) : step);
      setLearningRate(optimizer, lr);
      const batch = method.sample(classIndices, sampleRng, train.classGroups);
      const images = (idx: Int32Array): tf.Tensor4D => toBatchTensor(train, idx, { augment: cfg.augment, rng: augmentRng });
      const cost = optimizer.minimize(() => method.loss(batch, images), true, vars)!;
      const loss = (await cost.data())[0]!;
      cost.dispose();
      if (!Number.isFinite(loss)) throw new Error(`the loss became ${loss} at step ${step + 1}: lower the learning rate (--lr)`);
      lastLoss = loss;
      lossSum += loss;
      lossCount++;
      progress.step = step + 1;
      hooks.onStep?.(progress.step, loss);
      progressOut.update({ step: progress.step, totalSteps: cfg.steps, loss, lr, elapsedSeconds: elapsed(), ...(progress.bestAccuracy >= 0 ? { valAccuracy: progress.bestAccuracy } : {}) });

      const last = progress.step === cfg.steps || budgetSpent();
      const validateNow = validation !== null && (last || (valCfg.every > 0 && progress.step % valCfg.every === 0));
      const record: Record<string, unknown> = {};
      if (validateNow) {
        const v = validate();
        Object.assign(record, { valAccuracy: v.accuracy, valCi95: v.ci95, ...v.byWay });
        // A perfect score cannot be beaten, so a later perfect step replaces an earlier one (it has
        // trained longer at no measurable cost) instead of freezing the selection at the first.
        const saturated = v.accuracy >= 1 && progress.bestAccuracy >= 1;
        if (saturated && !warnedSaturated) {
          warnedSaturated = true;
          progressOut.message(
            `warning: validation is at 100% (${valCfg.way}-way on ${validation!.numClasses} classes): it can no longer tell steps apart; ` +
              `hold out more classes, or raise --val-way / --val-query`,
          );
        }
        if (v.accuracy > progress.bestAccuracy || saturated) {
          progress.bestAccuracy = v.accuracy;
          progress.bestStep = progress.step;
          progress.stale = 0;
          await saveModel(cfg.outDir, model, meta({ bestStep: progress.step, valAccuracy: v.accuracy, valCi95: v.ci95, ...v.byWay, elapsedSeconds: elapsed() }));
          modelSaved = true;
          record['best'] = true;
        } else {
          progress.stale++;
          if (cfg.patience > 0 && progress.stale >= cfg.patience) stoppedEarly = true;
        }
        progressOut.message(
          `step ${progress.step}: validation ${valCfg.way}-way ${valCfg.shot}-shot ${(100 * v.accuracy).toFixed(2)}% ` +
            `+- ${(100 * v.ci95).toFixed(2)}` +
            Object.entries(v.byWay).filter(([k]) => k !== `val${valCfg.way}way`).map(([k, a]) => ` ${k} ${(100 * a).toFixed(1)}%`).join('') +
            (record['best'] ? ' (best, saved)' : '') + (stoppedEarly ? ` - no improvement in ${cfg.patience} validations, stopping` : ''),
        );
      } else if (validation === null && last) {
        await saveModel(cfg.outDir, model, meta({ finalStep: progress.step, elapsedSeconds: elapsed() }));
        modelSaved = true;
      }
      // Log lines sit on multiples of logEvery (not every logEvery steps since start) so a resumed log matches.
      if (validateNow || progress.step % cfg.logEvery === 0 || last) {
        log.append({ step: progress.step, loss: lossSum / Math.max(1, lossCount), lr, ...record, elapsed: Number(elapsed().toFixed(2)), cpu: Number(cpuSeconds().toFixed(1)) });
        lossSum = 0;
        lossCount = 0;
      }
      // The model directory keeps a copy of the log up to its latest save (and the full log at the end).
      if (modelSaved || last) copyLog();
      // The step's awaits resolve at once on the cpu/native backends, so without this yield the
      // loop never lets the event loop run and Ctrl-C (SIGINT) would wait for the end of training.
      await yieldToEventLoop();
      const stopNow = !last && Boolean(hooks.shouldStop?.());
      if (stopNow || last || stoppedEarly || validateNow || progress.step % cfg.checkpointEvery === 0) await saveCheckpoint();
      if (stopNow) {
        interrupted = true;
        break;
      }
    }
    if (stoppedEarly) copyLog();
    if (!interrupted && validation && progress.bestStep > 0 && existsSync(join(cfg.outDir, 'model.json'))) {
      threshold = await calibrateSavedModel(cfg.outDir, validation, cfg.validation.seed);
      progressOut.message(
        `threshold calibrated at the equal error rate of the validation classes: EER ${(100 * threshold.eer).toFixed(2)}% ` +
          `(${threshold.source}), stored in ${join(cfg.outDir, 'fewshot.json')}`,
      );
    }
  } finally {
    progressOut.finish();
    optimizer.dispose();
  }
  return {
    steps: progress.step,
    bestAccuracy: progress.bestAccuracy,
    bestStep: progress.bestStep,
    stoppedEarly,
    elapsedSeconds: elapsed(),
    lastLoss,
    modelDir: cfg.outDir,
    stateDir,
    resumedFrom,
    interrupted,
    validationWay: validation ? valCfg.way : 0,
    threshold,
  };
}

export interface CalibratedThreshold {
  /** In similarity units (higher = same), as fewshot.json stores it. */
  value: number;
  source: string;
  eer: number;
}

/**
 * Stores in the saved (best) model an EER threshold calibrated on the validation classes, so
 * that `verify` and `predict` can decide without calibrating on test data. Every genuine pair
 * and up to 100,000 impostor pairs of the validation images.
 */
async function calibrateSavedModel(modelDir: string, validation: ImageDataset, seed: number): Promise<CalibratedThreshold> {
  const { model, meta } = await loadModel(modelDir);
  try {
    const scorer = SiameseScorer.fromModel(model, meta);
    const e = evaluatePairs(scorer, validation, { seed, dataName: `the ${validation.numClasses} validation classes`, target: 'eer' });
    writeThreshold(modelDir, e.calibration.threshold);
    return { value: e.calibration.threshold.value, source: e.calibration.threshold.source, eer: e.summary.eer };
  } finally {
    model.dispose();
  }
}

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
