import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../../src/backend/select.js';
import { splitByGroup } from '../../src/data/split.js';
import { loadModel } from '../../src/models/io.js';
import { ensembleMembers } from '../../src/models/ensemble.js';
import { saveEnsembleOfModelDirs } from '../../src/models/ensemble_dirs.js';
import { SiameseScorer } from '../../src/inference/embedder.js';
import { readCheckpoint } from '../../src/training/checkpoint.js';
import { LOGIT_LAYER, splitPairModel } from '../../src/models/siamese.js';
import { readJsonl } from '../../src/training/jsonl_log.js';
import type { MethodName } from '../../src/training/methods/method.js';
import { formatSeconds, ProgressReporter } from '../../src/training/progress.js';
import { CHECKPOINT_FILE, LOG_FILE, trainModel, type TrainConfig, type TrainHooks } from '../../src/training/trainer.js';
import { loadNativeAddon } from '../../src/backend/native/addon.js';
import { trainingPrecision } from '../../src/backend/native/precision.js';
import { syntheticDataset } from './synthetic_omniglot.js';

await selectBackend('cpu', { quiet: true });
const quiet = () => ({ progress: new ProgressReporter(process.stderr, 1000, true) });
const all = syntheticDataset({ alphabets: 4, charactersPerAlphabet: 6, drawers: 6 });
const { train, validation } = splitByGroup(all, { validationGroups: ['A3'], seed: 0 });

function config(dir: string, over: Partial<TrainConfig> = {}): TrainConfig {
  return {
    method: 'protonet',
    encoder: 'tiny',
    methodOptions: { batchSize: 16, way: 5, shot: 2, query: 2, classesPerBatch: 6, m: 3, miner: 'batch-all' },
    optimizer: 'adam',
    lr: 0.01,
    momentum: 0.9,
    schedule: 'constant',
    warmupSteps: 0,
    steps: 12,
    seed: 3,
    augment: true,
    validation: { every: 6, episodes: 10, way: 5, alsoWays: [3], shot: 1, query: 1, groups: 'auto', seed: 1 },
    patience: 0,
    checkpointEvery: 4,
    logEvery: 2,
    outDir: join(dir, 'model'),
    resume: false,
    preprocess: { height: 28, width: 28, channels: 1, invert: true },
    ...over,
  };
}

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'fewshot-trainer-'));
}

for (const method of ['pair', 'contrastive', 'triplet', 'protonet', 'classifier'] as MethodName[]) {
  test(`${method}: the loss decreases on a tiny problem and the best model is saved`, async () => {
    const dir = tmp();
    try {
      const losses: number[] = [];
      const r = await trainModel(train, validation, config(dir, { method, steps: 30, lr: 0.01, augment: false, validation: { every: 0, episodes: 10, way: 5, alsoWays: [], shot: 1, query: 1, groups: 'any', seed: 1 } }), {
        ...quiet(),
        onStep: (_s, l) => losses.push(l),
      });
      assert.equal(r.steps, 30);
      const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
      const first = mean(losses.slice(0, 8));
      const last = mean(losses.slice(-8));
      assert.ok(last < first * 0.9, `${method}: mean loss went from ${first.toFixed(4)} to ${last.toFixed(4)}`);
      const { meta } = await loadModel(join(dir, 'model'));
      assert.equal(meta.method, method);
      assert.equal(meta.score, method === 'pair' ? 'pair-probability' : 'negative-distance');
      assert.ok(existsSync(join(dir, 'model', LOG_FILE)));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test('classifier pre-training: the head is trained and checkpointed but not saved; resumes; flat memory; protonet starts from it', async () => {
  const dir = tmp();
  try {
    const cfg = (over: Partial<TrainConfig> = {}) => config(dir, { method: 'classifier', steps: 8, ...over });
    const counts: number[] = [];
    await assert.rejects(
      trainModel(train, validation, cfg({ outDir: join(dir, 'killed') }), { ...quiet(), onStep: (s) => { if (s === 5) throw new Error('killed'); } }),
      /killed/,
    );
    const resumed = await trainModel(train, validation, cfg({ outDir: join(dir, 'killed'), resume: true }), { ...quiet(), onStep: () => counts.push(tf.memory().numTensors) });
    assert.equal(resumed.resumedFrom, 4);
    assert.ok(counts.slice(1).every((c) => c === counts[1]), `tensor counts per step: ${counts.join(' ')}`);
    const whole = await trainModel(train, validation, cfg(), quiet());
    assert.equal(whole.steps, 8);
    const a = readCheckpoint(join(dir, 'model-train', CHECKPOINT_FILE));
    const b = readCheckpoint(join(dir, 'killed-train', CHECKPOINT_FILE));
    a.weights.forEach((w, i) => assert.deepEqual(b.weights[i]!.values, w.values, `weight ${w.name}`));
    // The checkpoint holds the head (one weight vector per training class, and the scale)...
    const kernel = a.weights.find((w) => /cosine_classifier/.test(w.name) && w.shape.length === 2);
    assert.deepEqual(kernel?.shape.slice(-1), [train.numClasses]);
    // ...the saved model is the encoder alone, an embedding model scored by cosine distance.
    const { model, meta } = await loadModel(join(dir, 'model'));
    assert.equal(meta.method, 'classifier');
    assert.equal(meta.distance, 'cosine');
    assert.ok(!model.layers.some((l) => l.getClassName() === 'CosineClassifier'));
    assert.equal(model.weights.length, a.weights.length - 2);
    // Episodic fine-tuning starts from its encoder.
    const ft = await trainModel(train, validation, config(dir, { steps: 1, outDir: join(dir, 'ft'), initFrom: join(dir, 'model') }), quiet());
    assert.equal(ft.steps, 1);
    model.dispose();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('tf.memory().numTensors stays flat across steps, validations and checkpoints', async () => {
  const dir = tmp();
  try {
    const counts: number[] = [];
    await trainModel(train, validation, config(dir, { method: 'pair', steps: 14, validation: { every: 3, episodes: 5, way: 5, alsoWays: [3], shot: 1, query: 1, groups: 'auto', seed: 1 }, checkpointEvery: 2 }), {
      ...quiet(),
      onStep: () => counts.push(tf.memory().numTensors),
    });
    // Step 1 creates the optimizer's slots; from then on nothing may accumulate.
    assert.ok(counts.slice(1).every((c) => c === counts[1]), `tensor counts per step: ${counts.join(' ')}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--resume after a kill continues from the checkpoint and ends where an uninterrupted run ends', async () => {
  const dirA = tmp();
  const dirB = tmp();
  try {
    await trainModel(train, validation, config(dirA), quiet());
    // A "kill" during step 7: the last checkpoint is the one of step 6 (validation), so step 7 is redone.
    await assert.rejects(
      trainModel(train, validation, config(dirB), { ...quiet(), onStep: (s) => { if (s === 7) throw new Error('killed'); } }),
      /killed/,
    );
    const resumed = await trainModel(train, validation, config(dirB, { resume: true }), quiet());
    assert.equal(resumed.resumedFrom, 6);
    assert.equal(resumed.steps, 12);
    // The final weights and optimizer slots (the last step's checkpoint, not the best-by-validation model).
    const a = readCheckpoint(join(dirA, 'model-train', CHECKPOINT_FILE));
    const b = readCheckpoint(join(dirB, 'model-train', CHECKPOINT_FILE));
    assert.equal(b.progress.step, a.progress.step);
    a.weights.forEach((w, i) => assert.deepEqual(b.weights[i]!.values, w.values, `weight ${w.name}`));
    a.optimizer.values.forEach((v, i) => assert.deepEqual(b.optimizer.values[i], v, `optimizer slot ${a.optimizer.names[i]}`));
    // The log lists every step once, in order, like the uninterrupted run's.
    const stepsA = readJsonl(join(dirA, 'model-train', LOG_FILE)).map((r) => r.step);
    const stepsB = readJsonl(join(dirB, 'model-train', LOG_FILE)).map((r) => r.step);
    assert.deepEqual(stepsB, stepsA);
    assert.ok(existsSync(join(dirB, 'model-train', CHECKPOINT_FILE)));
  } finally {
    rmSync(dirA, { recursive: true, force: true });
    rmSync(dirB, { recursive: true, force: true });
  }
});

test('early stopping ends the run after `patience` validations without improvement', async () => {
  const dir = tmp();
  try {
    // A zero learning rate cannot improve on the first validation.
    const r = await trainModel(train, validation, config(dir, { lr: 1e-12, steps: 40, patience: 2, validation: { every: 2, episodes: 5, way: 5, alsoWays: [], shot: 1, query: 1, groups: 'any', seed: 1 } }), quiet());
    assert.equal(r.stoppedEarly, true);
    assert.equal(r.steps, 6);
    const log = readFileSync(join(dir, 'model', LOG_FILE), 'utf8');
    assert.match(log, /"valAccuracy"/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('resume refuses a checkpoint of another configuration', async () => {
  const dir = tmp();
  try {
    await trainModel(train, validation, config(dir, { steps: 4 }), quiet());
    await assert.rejects(trainModel(train, validation, config(dir, { steps: 8, method: 'triplet', resume: true }), quiet()), /cannot resume.*method/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--precision bf16: refused before anything is written where it cannot run (cpu backend)', async () => {
  const dir = tmp();
  try {
    await assert.rejects(trainModel(train, validation, config(dir, { precision: 'bf16' }), quiet()), /--precision bf16 needs the native backend \(active: cpu\)/);
    assert.ok(!existsSync(join(dir, 'model')) && !existsSync(join(dir, 'model-train')), 'nothing may be written');
    assert.equal(trainingPrecision(), 'fp32');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

const bf16Skip = !loadNativeAddon().addon ? 'native addon not built' : !loadNativeAddon().addon!.bf16Supported() ? 'no AVX512-BF16/AMX on this CPU' : false;
test('--precision bf16 on native: a conv4 run trains, records its precision in the model, and leaves fp32 set afterwards', { skip: bf16Skip }, async () => {
  const dir = tmp();
  await selectBackend('native', { quiet: true });
  try {
    const losses: number[] = [];
    const r = await trainModel(train, validation, config(dir, { encoder: 'conv4', precision: 'bf16', steps: 6, augment: false }), { ...quiet(), onStep: (_s, l) => losses.push(l) });
    assert.equal(r.steps, 6);
    assert.ok(losses.every(Number.isFinite), `losses ${losses}`);
    assert.equal(trainingPrecision(), 'fp32');
    assert.equal((await loadModel(join(dir, 'model'))).meta.training?.['precision'], 'bf16');
  } finally {
    await selectBackend('cpu', { quiet: true });
    rmSync(dir, { recursive: true, force: true });
  }
});

test('progress times round as a whole: 179.6 s is 3m00s, not 2m60s', () => {
  assert.equal(formatSeconds(179.6), '3m00s');
  assert.equal(formatSeconds(59.4), '59s');
  assert.equal(formatSeconds(3725), '1h02m');
  assert.equal(formatSeconds(NaN), '?');
});

test('--init-from: a pair run starts from a saved embedding model\'s encoder, with the head as its L1 distance', async () => {
  const dir = tmp();
  try {
    await trainModel(train, validation, config(dir, { steps: 6, validation: { every: 0, episodes: 10, way: 5, alsoWays: [], shot: 1, query: 1, groups: 'any', seed: 1 } }), quiet());
    const source = (await loadModel(join(dir, 'model'))).model;
    const pairDir = join(dir, 'pair');
    // lr 1e-9: the saved pair model keeps its initial weights (to float precision).
    await trainModel(train, validation, config(dir, { method: 'pair', steps: 1, lr: 1e-9, outDir: pairDir, initFrom: join(dir, 'model'), validation: { every: 0, episodes: 10, way: 5, alsoWays: [], shot: 1, query: 1, groups: 'any', seed: 1 } }), quiet());
    const { model: pair } = await loadModel(pairDir);
    const { encoder } = splitPairModel(pair);
    // Batch-norm moving averages move during the training step; the trainable weights do not.
    encoder.trainableWeights.forEach((w, i) => {
      const want = source.trainableWeights[i]!.read().dataSync();
      const got = w.read().dataSync();
      assert.equal(got.length, want.length);
      got.forEach((v, j) => assert.ok(Math.abs(v - want[j]!) < 1e-6, `${w.originalName}[${j}]: ${v} vs ${want[j]}`));
    });
    const [kernel, bias] = pair.getLayer(LOGIT_LAYER).getWeights();
    const k = Array.from(kernel!.dataSync());
    assert.ok(k[0]! < 0 && k.every((v) => v === k[0]), 'every head weight is the same negative number');
    assert.ok(Number.isFinite(bias!.dataSync()[0]!));
    // A model of another encoder is refused.
    await assert.rejects(
      trainModel(train, validation, config(dir, { method: 'pair', encoder: 'conv4', steps: 1, outDir: join(dir, 'x'), initFrom: join(dir, 'model') }), quiet()),
      /--init-from .*its encoder 'tiny' \(28x28x1\) does not fit this run's/,
    );
    // A pair model into a pair run: every weight, the head included, is copied.
    const again = join(dir, 'pair-again');
    await trainModel(train, validation, config(dir, { method: 'pair', steps: 1, lr: 1e-9, outDir: again, initFrom: pairDir, validation: { every: 0, episodes: 10, way: 5, alsoWays: [], shot: 1, query: 1, groups: 'any', seed: 1 } }), quiet());
    const [kernel2] = (await loadModel(again)).model.getLayer(LOGIT_LAYER).getWeights();
    Array.from(kernel2!.dataSync()).forEach((v, j) => assert.ok(Math.abs(v - k[j]!) < 1e-6));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--encoder-from an ensemble with --freeze-encoder: a pair head is trained on the saved encoder, which does not change', async () => {
  const dir = tmp();
  try {
    const noVal = { every: 0, episodes: 10, way: 5, alsoWays: [], shot: 1, query: 1, groups: 'any' as const, seed: 1 };
    await trainModel(train, validation, config(dir, { steps: 6, validation: noVal }), quiet());
    await trainModel(train, validation, config(dir, { steps: 6, seed: 4, outDir: join(dir, 'second'), validation: noVal }), quiet());
    const ensDir = join(dir, 'ensemble');
    await saveEnsembleOfModelDirs([join(dir, 'model'), join(dir, 'second')], ensDir);
    const source = (await loadModel(ensDir)).model;
    const pairDir = join(dir, 'pair');
    const cfg = config(dir, { method: 'pair', encoder: 'ensemble(tiny+tiny)', steps: 8, lr: 0.01, outDir: pairDir, encoderFrom: ensDir, freezeEncoder: true, validation: noVal });
    const counts: number[] = [];
    await trainModel(train, validation, cfg, { ...quiet(), onStep: () => counts.push(tf.memory().numTensors) });
    assert.ok(counts.slice(1).every((c) => c === counts[1]), `tensor counts per step: ${counts.join(' ')}`);
    const { model: pair, meta } = await loadModel(pairDir);
    assert.equal(meta.encoder, 'ensemble(tiny+tiny)');
    assert.equal(meta.score, 'pair-probability');
    const { encoder } = splitPairModel(pair);
    assert.equal(ensembleMembers(encoder)?.length, 2, 'the encoder is still the two-member ensemble');
    // Frozen: every encoder weight, batch-norm statistics included, is the saved ensemble's.
    assert.equal(encoder.weights.length, source.weights.length);
    encoder.weights.forEach((w, i) => {
      const want = source.weights[i]!.read().dataSync();
      w.read().dataSync().forEach((v, j) => assert.equal(v, want[j], `${w.originalName}[${j}]`));
    });
    // The head started as the L1 distance (all weights equal) and was trained away from it.
    const k = Array.from(pair.getLayer(LOGIT_LAYER).getWeights()[0]!.dataSync());
    assert.ok(k.some((v) => v !== k[0]), 'the head was trained');
    // The saved pair model scores by its head's probability.
    const scorer = SiameseScorer.fromModel(pair, meta, { frozen: true });
    const [a, b] = scorer.embed([validation.imagePixels(0), validation.imagePixels(1)]);
    const [p] = scorer.similarity(a!, [b!]);
    assert.ok(p! > 0 && p! < 1, `probability ${p}`);
    // The encoder under a saved pair model can start another run.
    await trainModel(train, validation, { ...cfg, steps: 1, outDir: join(dir, 'from-pair'), encoderFrom: pairDir }, quiet());
    assert.equal(ensembleMembers(splitPairModel((await loadModel(join(dir, 'from-pair'))).model).encoder)?.length, 2);
    // A method whose only weights are the encoder's cannot train with it frozen.
    await assert.rejects(trainModel(train, validation, { ...cfg, method: 'protonet', outDir: join(dir, 'x') }, quiet()), /--freeze-encoder: method 'protonet' has no weights besides the encoder's/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--time-budget: the run stops when its training time is spent, validates and saves at that step', async () => {
  const dir = tmp();
  try {
    // A clock that advances 0.1 s per step: the 1.5 s budget is 15 steps on a machine of any load.
    const steppingClock = (): Pick<TrainHooks, 'clock' | 'onStep'> => {
      let steps = 0;
      const t = (): number => steps / 10;
      return { clock: { wallSeconds: t, cpuSeconds: t }, onStep: () => { steps++; } };
    };
    const r = await trainModel(train, validation, config(dir, { steps: 100000, timeBudgetSeconds: 1.5, schedule: 'cosine', checkpointEvery: 1000 }), { ...quiet(), ...steppingClock() });
    assert.equal(r.steps, 15);
    assert.ok(r.elapsedSeconds >= 1.5);
    const log = readJsonl(join(dir, 'model-train', LOG_FILE)) as unknown as { step: number; lr: number; valAccuracy?: number }[];
    const lastLine = log[log.length - 1]!;
    assert.equal(lastLine.step, r.steps);
    assert.equal(typeof lastLine.valAccuracy, 'number');
    // The cosine schedule follows the spent time: the learning rate has decayed by the end.
    const lrs = log.map((l) => l.lr);
    assert.ok(lrs[lrs.length - 1]! < 0.5 * 0.01, `last lr ${lrs[lrs.length - 1]}`);
    await assert.rejects(trainModel(train, validation, config(join(dir, 'b'), { timeBudgetSeconds: 0 }), quiet()), /time budget must be a positive/);
    // A CPU-time budget: the log records the process's CPU seconds, and the run stops once they reach it.
    const cpu = await trainModel(train, validation, config(join(dir, 'c'), { steps: 100000, timeBudgetSeconds: 1, budgetClock: 'cpu', checkpointEvery: 1000 }), { ...quiet(), ...steppingClock() });
    assert.equal(cpu.steps, 10);
    const cpuLog = readJsonl(join(dir, 'c', 'model-train', LOG_FILE)) as unknown as { cpu: number }[];
    assert.ok(cpuLog[cpuLog.length - 1]!.cpu >= 1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a saturated validation (100%) keeps the latest perfect step and says why selection stops meaning much', async () => {
  const dir = tmp();
  try {
    // Every drawer draws the same image: 2-way 1-shot validation is perfect from the start.
    const easy = syntheticDataset({ alphabets: 2, charactersPerAlphabet: 6, drawers: 4, jitter: 0 });
    const split = splitByGroup(easy, { validationGroups: ['A1'], seed: 0 });
    const lines: string[] = [];
    const stream = { isTTY: false, write: (t: string) => { lines.push(t); return true; } } as unknown as NodeJS.WriteStream;
    const r = await trainModel(split.train, split.validation, config(dir, {
      steps: 6, augment: false, methodOptions: { ...config(dir).methodOptions, way: 3, shot: 1, query: 1 },
      validation: { every: 2, episodes: 5, way: 2, alsoWays: [], shot: 1, query: 1, groups: 'any', seed: 1 },
    }), { progress: new ProgressReporter(stream, 1000) });
    assert.equal(r.bestAccuracy, 1);
    assert.equal(r.bestStep, 6, 'the last perfect validation is kept');
    assert.equal(lines.filter((l) => /warning: validation is at 100%/.test(l)).length, 1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
