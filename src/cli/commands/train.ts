/** `fewshot train`: train a Siamese / metric-learning model with validation on held-out groups. */
import { Command, InvalidArgumentError, Option } from 'commander';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { loadImageDatasetFromSource, type ImageDataset } from '../../data/dataset.js';
import { detectInk } from '../../data/ink.js';
import type { LayoutName } from '../../data/layout.js';
import { openSource, type FileSource } from '../../data/source.js';
import '../../applications/normalized_conv4.js'; // registers --encoder norm-conv4
import { omniglotValidationAlphabets, splitByClass, splitByGroup } from '../../data/split.js';
import { defaultInputShape, encoderNames } from '../../models/encoders/registry.js';
import { readMetadata } from '../../models/io.js';
import type { PreprocessConfig } from '../../data/preprocess.js';
import { METHOD_NAMES, MINER_NAMES, type MethodName, type MethodOptions } from '../../training/methods/method.js';
import { OPTIMIZER_NAMES, type OptimizerName } from '../../training/optimizer.js';
import { SCHEDULE_NAMES, type ScheduleName } from '../../training/schedule.js';
import { CHECKPOINT_FILE, trainModel, type TrainConfig } from '../../training/trainer.js';
import { TRAINING_PRECISIONS, type TrainingPrecision } from '../../backend/native/precision.js';
import { commandLineWith, invocation, shellQuote } from '../command_line.js';
import { withClassRotations } from '../../training/rotations.js';
import { addBackendOption, findOmniglotBackground, parseInteger, parseIntList, parseList, parseNumber, pct, printJson, useBackend } from '../options.js';

const INVERT_MODES = ['auto', 'yes', 'no'] as const;
type InvertMode = (typeof INVERT_MODES)[number];

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
  timeBudget?: number;
  budgetClock: 'wall' | 'cpu';
  precision: TrainingPrecision;
  seed: number;
  augment: boolean;
  rotateClasses?: boolean;
  /** 'auto' decides from the images; --no-invert gives false. */
  invert: InvertMode | false;
  layout: LayoutName;
  channels?: 1 | 3;
  force?: boolean;
  withinGroupEpisodes: number;
  valGroups?: string[];
  excludeGroups?: string[];
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
  initFrom?: string;
  encoderFrom?: string;
  freezeEncoder?: boolean;
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
    .description('train a model (pair, contrastive, triplet, protonet, or classifier pre-training) and save the best one by validation accuracy')
    .option('--data <path|url>', 'training images: directory or .zip, class folders or Omniglot layout (default: ../shared Omniglot background)')
    .option('--out <dir>', 'model directory (model.json, weights.bin, fewshot.json, training-log.jsonl); checkpoint in <dir>-train/', 'runs/model')
    .addOption(new Option('--method <name>', 'training method').choices([...METHOD_NAMES]).default('protonet'))
    .option('--encoder <name>', `encoder (${encoderNames().join(', ')}); norm-conv4 normalises brightness and contrast (faces, signatures); face: an adapter on the pretrained face descriptors`, 'conv4')
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
    .option('--time-budget <minutes>', 'stop after this much training time (resumes included); the schedule follows the spent fraction, --steps is the upper bound', parseNumber(0))
    .addOption(new Option('--budget-clock <clock>', "what --time-budget counts: wall-clock time, or this process's CPU time (fairer on a shared machine)").choices(['wall', 'cpu']).default('wall'))
    .addOption(new Option('--precision <p>', 'bf16: convolutions of training steps in bfloat16 with float32 accumulation (native backend on a CPU with AVX512-BF16 or AMX; weights, optimizer, batch norm and validation stay float32)').choices([...TRAINING_PRECISIONS]).default('fp32'))
    .option('--seed <s>', 'seed of initialisation, sampling and augmentation', parseInteger(0), 0)
    .option('--no-augment', 'switch off the random affine distortions (on by default)')
    .option('--rotate-classes', 'add 90/180/270-degree rotations of every training class as new classes')
    .addOption(new Option('--invert <mode>', 'invert the images: auto (dark marks on light paper, e.g. handwriting, are inverted; photos are not), yes or no').choices([...INVERT_MODES]).default('auto'))
    .option('--no-invert', 'same as --invert no')
    .addOption(new Option('--layout <name>', 'data layout: class-folders (<class>/<image>), omniglot (<alphabet>/<character>/<image>) or auto').choices(['auto', 'class-folders', 'omniglot']).default('auto'))
    .option('--channels <n>', "input channels: 1 (grayscale) or 3 (RGB) (default: the encoder's)", parseChannels)
    .option('--batch-size <n>', 'pair/triplet methods: pairs or triplets per step; classifier: images per step', parseInteger(2), 64)
    .option('--way <n>', 'protonet: classes per training episode', parseInteger(2), 20)
    .option('--shot <k>', 'protonet: support images per class', parseInteger(1), 5)
    .option('--query <q>', 'protonet: query images per class', parseInteger(1), 5)
    .option('--classes-per-batch <n>', 'contrastive / mined triplet: classes per batch', parseInteger(2), 16)
    .option('--m <n>', 'contrastive / mined triplet: images per class in a batch', parseInteger(2), 4)
    .option('--margin <x>', 'contrastive / triplet margin', parseNumber(0))
    .addOption(new Option('--distance <name>', 'distance of the loss and of inference').choices(['euclidean', 'sqeuclidean', 'cosine']))
    .addOption(new Option('--miner <name>', 'triplet miner').choices([...MINER_NAMES]).default('semi-hard'))
    .option('--within-group-episodes <f>', 'protonet / pair / triplet / contrastive: fraction of training episodes (batches) whose classes all come from one group (alphabet)', parseNumber(0), 0)
    .option('--val-groups <list>', 'comma-separated groups (alphabets) held out for validation', parseList)
    .option('--exclude-groups <list>', 'groups (alphabets) left out of training altogether, e.g. for a learning curve over how many alphabets it sees', parseList)
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
    .option('--resume', 'continue the run whose checkpoint is in <out>-train/ (after Ctrl-C or a crash)')
    .option('--force', 'start again even if --out already holds a model or a checkpoint (they are replaced)')
    .option('--init-from <dir>', "start from a saved model: its encoder (a pair run from a pair model: all weights); same encoder and input size")
    .option('--encoder-from <dir>', 'the encoder is this saved model, architecture and weights (e.g. an ensemble from build:ensemble; replaces --encoder); its input size and preprocessing; a pair head starts as its L1 distance')
    .option('--freeze-encoder', "train only the method's head (pair, classifier): the encoder's weights and batch-norm statistics stay as they are")
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
  const saved = opts.encoderFrom ? savedEncoderFacts(opts) : null;
  if (!saved && !encoderNames().includes(opts.encoder)) throw new Error(`--encoder ${opts.encoder}: unknown encoder (use ${encoderNames().join(', ')})`);
  refuseToOverwrite(opts);
  const baseShape = defaultInputShape(opts.encoder);
  const size = opts.inputSize;
  const inputShape: [number, number, number] = saved?.inputShape ?? [size ?? baseShape[0], size ?? baseShape[1], opts.channels ?? baseShape[2]];
  const encoderName = saved?.encoder ?? opts.encoder;
  const t0 = Date.now();
  const source = await openSource(data);
  // A saved encoder was trained on images preprocessed its way: its preprocessing, not --invert.
  const preprocess: PreprocessConfig = saved?.preprocess ?? { height: inputShape[0], width: inputShape[1], channels: inputShape[2] as 1 | 3, invert: decideInvert(source, opts) };
  const all = loadImageDatasetFromSource(source, { preprocess, layout: opts.layout, ...(opts.maxPerClass ? { maxPerClass: opts.maxPerClass } : {}) });
  const loadSeconds = (Date.now() - t0) / 1000;
  const { train: split, validation, validationGroups } = splitForTraining(all, opts);
  const train = opts.excludeGroups ? withoutGroups(split, opts.excludeGroups, validationGroups) : split;
  const trainSet = opts.rotateClasses ? withClassRotations(train) : train;
  process.stderr.write(
    `fewshot: ${all.size} images of ${all.numClasses} classes loaded in ${loadSeconds.toFixed(1)} s; training on ${trainSet.numClasses} classes` +
      (validation ? `, validating on ${validation.numClasses} classes (${validationGroups.length ? validationGroups.join(', ') : 'held-out classes'})` : '') +
      ` [backend ${backend}]\n`,
  );
  const cfg: TrainConfig = {
    method: opts.method,
    encoder: encoderName,
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
    ...(opts.timeBudget !== undefined ? { timeBudgetSeconds: opts.timeBudget * 60, budgetClock: opts.budgetClock } : {}),
    seed: opts.seed,
    augment: opts.augment,
    precision: opts.precision,
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
    ...(opts.initFrom ? { initFrom: opts.initFrom } : {}),
    ...(opts.encoderFrom ? { encoderFrom: opts.encoderFrom } : {}),
    ...(opts.freezeEncoder ? { freezeEncoder: true } : {}),
    preprocess,
    notes: {
      data,
      validationGroups,
      ...(opts.excludeGroups ? { excludedGroups: opts.excludeGroups } : {}),
      rotateClasses: Boolean(opts.rotateClasses),
      ...(opts.initFrom ? { initFrom: opts.initFrom } : {}),
      ...(opts.encoderFrom ? { encoderFrom: opts.encoderFrom } : {}),
      backend,
      // How to make this model again (a final model trained with no validation has no report that would say it).
      command: invocation().filter((w) => w !== '--resume').map(shellQuote).join(' '),
    },
  };
  if (opts.force) rmSync(join(`${opts.out.replace(/[\\/]+$/, '')}-train`, CHECKPOINT_FILE), { force: true });
  let interrupted = false;
  const onSigint = (): void => {
    if (interrupted) process.exit(130);
    interrupted = true;
    process.stderr.write('\nfewshot: stopping after this step (Ctrl-C again to quit at once)\n');
  };
  process.on('SIGINT', onSigint);
  try {
    const r = await trainModel(trainSet, validation, cfg, { shouldStop: () => interrupted });
    if (r.interrupted) {
      process.stderr.write(`fewshot: interrupted at step ${r.steps}; resume with: ${commandLineWith('--resume')}\n`);
      process.exitCode = 130;
      return { ...r, method: opts.method, encoder: encoderName, backend };
    }
    process.stderr.write(
      `fewshot: ${r.steps} steps in ${r.elapsedSeconds.toFixed(0)} s` +
        (r.bestAccuracy >= 0 ? `, best validation ${r.validationWay}-way 1-shot ${pct(r.bestAccuracy)} at step ${r.bestStep}` : '') +
        `; model in ${r.modelDir}\n`,
    );
    return { ...r, method: opts.method, encoder: encoderName, backend };
  } finally {
    process.off('SIGINT', onSigint);
  }
}

/** --encoder-from: the saved model fixes the input and its preprocessing, so options that would change them are refused. */
function savedEncoderFacts(opts: TrainCliOptions): { encoder: string; inputShape: [number, number, number]; preprocess: PreprocessConfig } {
  const dir = opts.encoderFrom!;
  const clash = [opts.inputSize !== undefined && '--input-size', opts.channels !== undefined && '--channels', opts.embeddingDim !== undefined && '--embedding-dim'].filter(Boolean);
  if (clash.length) throw new Error(`--encoder-from ${dir} fixes the input size, channels and embedding; drop ${clash.join(', ')}`);
  const meta = readMetadata(dir);
  const [h, w, c] = meta.inputShape;
  return { encoder: meta.encoder, inputShape: [h!, w!, c!], preprocess: meta.preprocess };
}

function parseChannels(value: string): 1 | 3 {
  if (value !== '1' && value !== '3') throw new InvalidArgumentError(`expected 1 or 3, got '${value}'`);
  return Number(value) as 1 | 3;
}

/** A finished model or a checkpoint in the way: continue it (--resume) or replace it (--force), never silently. */
function refuseToOverwrite(opts: TrainCliOptions): void {
  if (opts.resume || opts.force) return;
  const stateDir = `${opts.out.replace(/[\\/]+$/, '')}-train`;
  const found = [join(opts.out, 'model.json'), join(stateDir, CHECKPOINT_FILE)].filter((p) => existsSync(p));
  if (found.length) {
    throw new Error(
      `--out ${opts.out} is taken (${found.join(', ')}): add --resume to continue that training, --force to start again and replace it, or choose another --out`,
    );
  }
}

/** --invert auto looks at the images; yes/no (or --no-invert) decide. */
function decideInvert(source: FileSource, opts: TrainCliOptions): boolean {
  if (opts.invert === false || opts.invert === 'no') return false;
  if (opts.invert === 'yes') return true;
  const d = detectInk(source, { layout: opts.layout });
  process.stderr.write(
    `fewshot: --invert auto: ${d.invert ? 'dark marks on light paper, inverting' : 'not dark marks on light paper, not inverting'} ` +
      `(${d.sampled} images: border ${d.borderMean.toFixed(0)}/255, mean ${d.mean.toFixed(0)}/255; --invert ${d.invert ? 'no' : 'yes'} to override)\n`,
  );
  return d.invert;
}

/** --exclude-groups: the training set without those groups; every name must be a training group (not a held-out one). */
function withoutGroups(train: ImageDataset, exclude: readonly string[], heldOut: readonly string[]): ImageDataset {
  const known = new Set(train.groups());
  const unknown = exclude.filter((g) => !known.has(g));
  if (unknown.length) {
    const why = unknown.some((g) => heldOut.includes(g)) ? ' (held out for validation already)' : '';
    throw new Error(`--exclude-groups: ${unknown.join(', ')} ${unknown.length > 1 ? 'are not training groups' : 'is not a training group'}${why}; training groups: ${[...known].join(', ')}`);
  }
  const drop = new Set(exclude);
  const keep = train.classGroups.flatMap((g, c) => (drop.has(g) ? [] : [c]));
  if (keep.length < 2) throw new Error(`--exclude-groups leaves ${keep.length} training classes; at least 2 are needed`);
  return train.subsetByClasses(keep);
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
