/** `fewshot train`: train a Siamese / metric-learning model with validation on held-out groups. */
import { Command, Option } from 'commander';
import { loadImageDataset } from '../../data/dataset.js';
import type { ImageDataset } from '../../data/dataset.js';
import { omniglotValidationAlphabets, splitByClass, splitByGroup } from '../../data/split.js';
import { defaultInputShape, encoderNames } from '../../models/encoders/registry.js';
import { METHOD_NAMES, MINER_NAMES, type MethodName, type MethodOptions } from '../../training/methods/method.js';
import { OPTIMIZER_NAMES, type OptimizerName } from '../../training/optimizer.js';
import { SCHEDULE_NAMES, type ScheduleName } from '../../training/schedule.js';
import { trainModel, type TrainConfig } from '../../training/trainer.js';
import { withClassRotations } from '../../training/rotations.js';
import { addBackendOption, findOmniglotBackground, parseInteger, parseIntList, parseList, parseNumber, pct, printJson, useBackend } from '../options.js';

/** The method's own options (batch shape, margin, distance, miner) plus the run's. */
export interface TrainCliOptions extends MethodOptions {
  data?: string;
  out: string;
  method: MethodName;
  encoder: string;
  inputSize?: number;
  embeddingDim?: number;
  optimizer: OptimizerName;
  lr: number;
  momentum: number;
  schedule: ScheduleName;
  warmup: number;
  stepSize?: number;
  gamma?: number;
  steps: number;
  seed: number;
  augment: boolean;
  rotateClasses?: boolean;
  invert: boolean;
  withinGroupEpisodes: number;
  valGroups?: string[];
  valFraction: number;
  valEvery: number;
  valEpisodes: number;
  valWay: number;
  valAlsoWays: number[];
  valQuery: number;
  patience: number;
  checkpointEvery: number;
  logEvery: number;
  resume?: boolean;
  maxPerClass?: number;
  json?: boolean;
  backend: string;
}

export function register(program: Command): void {
  const cmd = trainCommand();
  program.addCommand(cmd);
  cmd.action(async (opts: TrainCliOptions) => {
    const backend = await useBackend(opts.backend);
    const result = await runTrainCommand(opts, backend);
    if (opts.json) printJson(result);
  });
}

/** The `train` command's options without an action (scripts/train-omniglot.ts reuses them). */
export function trainCommand(): Command {
  const cmd = new Command('train')
    .description('train a model (pair, contrastive, triplet or protonet) and save the best one by validation accuracy')
    .option('--data <path|url>', 'training images: directory or .zip, class folders or Omniglot layout (default: ../shared Omniglot background)')
    .option('--out <dir>', 'model directory (model.json, weights.bin, fewshot.json, training-log.jsonl); checkpoint in <dir>-train/', 'runs/model')
    .addOption(new Option('--method <name>', 'training method').choices([...METHOD_NAMES]).default('protonet'))
    .option('--encoder <name>', `encoder (${encoderNames().join(', ')}; 'face': an adapter on the pretrained face descriptors)`, 'conv4')
    .option('--input-size <px>', "square input size (default: the encoder's)", parseInteger(4))
    .option('--embedding-dim <n>', "embedding size (default: the encoder's)", parseInteger(1))
    .addOption(new Option('--optimizer <name>', 'optimizer').choices([...OPTIMIZER_NAMES]).default('adam'))
    .option('--lr <rate>', 'peak learning rate', parseNumber(0), 1e-3)
    .option('--momentum <m>', 'SGD momentum', parseNumber(0), 0.9)
    .addOption(new Option('--schedule <name>', 'learning-rate schedule').choices([...SCHEDULE_NAMES]).default('cosine'))
    .option('--warmup <steps>', 'linear warm-up steps', parseInteger(0), 0)
    .option('--step-size <steps>', "'step' schedule: decay every this many steps", parseInteger(1))
    .option('--gamma <g>', "'step' schedule: decay factor", parseNumber(0))
    .option('--steps <n>', 'optimisation steps', parseInteger(1), 2000)
    .option('--seed <s>', 'seed of initialisation, sampling and augmentation', parseInteger(0), 0)
    .option('--no-augment', 'switch off the random affine distortions (on by default)')
    .option('--rotate-classes', 'add 90/180/270-degree rotations of every training class as new classes')
    .option('--no-invert', 'images already have light ink on a dark background')
    .option('--batch-size <n>', 'pair/triplet methods: pairs or triplets per step', parseInteger(2), 64)
    .option('--way <n>', 'protonet: classes per training episode', parseInteger(2), 20)
    .option('--shot <k>', 'protonet: support images per class', parseInteger(1), 5)
    .option('--query <q>', 'protonet: query images per class', parseInteger(1), 5)
    .option('--classes-per-batch <n>', 'contrastive / mined triplet: classes per batch', parseInteger(2), 16)
    .option('--m <n>', 'contrastive / mined triplet: images per class in a batch', parseInteger(2), 4)
    .option('--margin <x>', 'contrastive / triplet margin', parseNumber(0))
    .addOption(new Option('--distance <name>', 'distance of the loss and of inference').choices(['euclidean', 'sqeuclidean', 'cosine']))
    .addOption(new Option('--miner <name>', 'triplet miner').choices([...MINER_NAMES]).default('semi-hard'))
    .option('--within-group-episodes <f>', 'protonet: fraction of training episodes drawn from one group (alphabet)', parseNumber(0), 0)
    .option('--val-groups <list>', 'comma-separated groups (alphabets) held out for validation', parseList)
    .option('--val-fraction <f>', 'otherwise hold out this fraction of the groups (or classes)', parseNumber(0), 0.2)
    .option('--val-every <steps>', 'validate every this many steps (0: only at the end)', parseInteger(0), 250)
    .option('--val-episodes <n>', 'validation episodes', parseInteger(1), 200)
    .option('--val-way <n>', 'validation N-way 1-shot (selects the best model)', parseInteger(2), 20)
    .option('--val-also-ways <list>', 'other ways to report', parseIntList, [5])
    .option('--val-query <q>', 'validation queries per class', parseInteger(1), 1)
    .option('--patience <n>', 'stop after n validations without improvement (0: never)', parseInteger(0), 0)
    .option('--checkpoint-every <steps>', 'write the resumable checkpoint every this many steps', parseInteger(1), 100)
    .option('--log-every <steps>', 'average the loss over this many steps per log line', parseInteger(1), 10)
    .option('--max-per-class <n>', 'use at most n images per class (quick runs)', parseInteger(1))
    .option('--resume', 'continue from <out>/checkpoint.bin if present')
    .option('--json', 'print the result as one JSON object on stdout');
  return addBackendOption(cmd);
}

/** Loads and splits the data, then trains; shared with scripts/train-omniglot.ts. */
export async function runTrainCommand(opts: TrainCliOptions, backend: string): Promise<Record<string, unknown>> {
  if (opts.encoder === 'face') {
    if (!opts.data) throw new Error("--encoder face needs --data: class folders of your people's photos (one folder per person)");
    const { runFaceAdapterTraining } = await import('../../applications/faces/train_command.js');
    return runFaceAdapterTraining(opts, backend);
  }
  const data = opts.data ?? findOmniglotBackground();
  if (!data) throw new Error('no --data given and ../shared/data/omniglot/images_background.zip not found');
  const baseShape = defaultInputShape(opts.encoder);
  const inputShape: [number, number, number] = opts.inputSize ? [opts.inputSize, opts.inputSize, baseShape[2]] : baseShape;
  const preprocess = { height: inputShape[0], width: inputShape[1], channels: inputShape[2] as 1 | 3, invert: opts.invert };
  const t0 = Date.now();
  const all = await loadImageDataset(data, { preprocess, ...(opts.maxPerClass ? { maxPerClass: opts.maxPerClass } : {}) });
  const loadSeconds = (Date.now() - t0) / 1000;
  const { train, validation, validationGroups } = splitForTraining(all, opts);
  const trainSet = opts.rotateClasses ? withClassRotations(train) : train;
  process.stderr.write(
    `fewshot: ${all.size} images of ${all.numClasses} classes loaded in ${loadSeconds.toFixed(1)} s; training on ${trainSet.numClasses} classes` +
      (validation ? `, validating on ${validation.numClasses} classes (${validationGroups.length ? validationGroups.join(', ') : 'held-out classes'})` : '') +
      ` [backend ${backend}]\n`,
  );
  const cfg: TrainConfig = {
    method: opts.method,
    encoder: opts.encoder,
    inputShape,
    ...(opts.embeddingDim ? { embeddingDim: opts.embeddingDim } : {}),
    methodOptions: {
      batchSize: opts.batchSize,
      way: opts.way,
      shot: opts.shot,
      query: opts.query,
      classesPerBatch: opts.classesPerBatch,
      m: opts.m,
      miner: opts.miner,
      withinGroupEpisodes: opts.withinGroupEpisodes,
      ...(opts.margin !== undefined ? { margin: opts.margin } : {}),
      ...(opts.distance ? { distance: opts.distance } : {}),
    },
    optimizer: opts.optimizer,
    lr: opts.lr,
    momentum: opts.momentum,
    schedule: opts.schedule,
    warmupSteps: opts.warmup,
    ...(opts.stepSize ? { stepSize: opts.stepSize } : {}),
    ...(opts.gamma !== undefined ? { gamma: opts.gamma } : {}),
    steps: opts.steps,
    seed: opts.seed,
    augment: opts.augment,
    validation: {
      every: opts.valEvery,
      episodes: opts.valEpisodes,
      way: opts.valWay,
      alsoWays: opts.valAlsoWays,
      shot: 1,
      query: opts.valQuery,
      groups: 'auto',
      seed: opts.seed + 1,
    },
    patience: opts.patience,
    checkpointEvery: opts.checkpointEvery,
    logEvery: opts.logEvery,
    outDir: opts.out,
    resume: Boolean(opts.resume),
    preprocess,
    notes: {
      data,
      validationGroups,
      rotateClasses: Boolean(opts.rotateClasses),
      backend,
    },
  };
  let interrupted = false;
  const onSigint = (): void => {
    if (interrupted) process.exit(130);
    interrupted = true;
    process.stderr.write('\nfewshot: stopping after this step (Ctrl-C again to quit at once)\n');
  };
  process.on('SIGINT', onSigint);
  try {
    const r = await trainModel(trainSet, validation, cfg, { shouldStop: () => interrupted });
    process.stderr.write(
      `fewshot: ${r.steps} steps in ${r.elapsedSeconds.toFixed(0)} s` +
        (r.bestAccuracy >= 0 ? `, best validation ${opts.valWay}-way 1-shot ${pct(r.bestAccuracy)} at step ${r.bestStep}` : '') +
        `; model in ${r.modelDir}\n`,
    );
    return { ...r, method: opts.method, encoder: opts.encoder, backend };
  } finally {
    process.off('SIGINT', onSigint);
  }
}

function splitForTraining(all: ImageDataset, opts: TrainCliOptions): { train: ImageDataset; validation: ImageDataset | null; validationGroups: string[] } {
  if (opts.valFraction === 0 && !opts.valGroups) return { train: all, validation: null, validationGroups: [] };
  const groups = all.groups();
  if (opts.valGroups) {
    const split = splitByGroup(all, { validationGroups: opts.valGroups, seed: opts.seed });
    return { ...split, validationGroups: opts.valGroups };
  }
  if (groups.length < all.numClasses && groups.length >= 2) {
    // Grouped data (Omniglot): hold out whole alphabets, the project's fixed ones when present.
    const fixed = omniglotValidationAlphabets();
    if (fixed.every((g) => groups.includes(g))) return { ...splitByGroup(all, { validationGroups: fixed, seed: opts.seed }), validationGroups: fixed };
    const split = splitByGroup(all, { validationFraction: opts.valFraction, seed: opts.seed });
    return { ...split, validationGroups: split.validation.groups() };
  }
  return { ...splitByClass(all, { validationFraction: opts.valFraction, seed: opts.seed }), validationGroups: [] };
}
