/**
 * Does fine-tuning the frozen COCO backbone on the development writers beat the frozen features?
 * `models/signatures-pretrained` reads CenterNet's stride-16 node (`centernet-s16`, 160x320, 2x4
 * grid); here the last block(s) before that node are trained, with skilled forgeries as negatives
 * (SigNet-F's idea), and the number of steps is chosen by inner folds over the development persons.
 *
 *   FEWSHOT_NUM_THREADS=1 nice -n 5 npx tsx scripts/signature-finetune-backbone.ts --tune 9/project --lr 1e-3 [--out FILE]
 *   FEWSHOT_NUM_THREADS=1 nice -n 5 npx tsx scripts/signature-finetune-backbone.ts --tune 8,9 --lr 1e-4 [--out FILE]
 *
 * (about 30 CPU-minutes each; --tune 8,9 trains the depthwise layers too, which needs the native
 * depthwise gradients of 2026-12-01.)
 *
 * - The graph up to block 7 stays frozen and is computed once for every signature; the tuned
 *   weights (`--tune`: block numbers, or block/part such as 9/project) start from the pretrained ones.
 * - Loss, per step: 8 writers of the training persons, 3 genuine signatures and 2 skilled forgeries
 *   each. Every genuine signature is an anchor; its positives are the writer's other genuine ones,
 *   everything else in the batch (the writer's forgeries included) is negative: minus the log of
 *   the positives' share of softmax(-d^2 / tau) over the batch (NCA / supervised contrastive).
 * - Per outer fold (the 3-fold outer test of signature-frozen-features.ts, writerFolds seed 1): 4
 *   inner folds over the 20 development persons choose the step (distance-rule EER, K = 1..4
 *   pooled, on each inner fold's held-out persons, averaged); a model trained on all 20 for the
 *   chosen steps is scored on the 10 test persons with both decisions, beside the frozen features
 *   (step 0). The test EER of every step is printed for orientation only.
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { BACKBONES, PretrainedBackbone } from '../src/models/pretrained_backbone.js';
import { poolFeatureMap } from '../src/models/backbone_encoder.js';
import { writerFolds } from '../src/applications/signatures/layout.js';
import { Rng } from '../src/util/random.js';
import { aucEerSummary, aucEerTable, pct, type TestRow } from './lib/signature-cv.js';
import { DEFAULT_SIGNATURE_DATA, distanceEer, openFrozenOuterTest, outerTestRows, type FrozenConfig, type FrozenModel } from './lib/signature-backbone.js';

const { values: args } = parseArgs({
  options: {
    data: { type: 'string', default: DEFAULT_SIGNATURE_DATA },
    tune: { type: 'string', default: '9/project' },
    lr: { type: 'string', default: '1e-3' },
    tau: { type: 'string', default: '0.05' },
    steps: { type: 'string', default: '0,25,50,100,200,400' },
    writers: { type: 'string', default: '8' },
    folds: { type: 'string', default: '0,1,2' },
    inner: { type: 'string', default: '4' },
    out: { type: 'string' },
  },
});
const steps = args.steps!.split(',').map(Number);
if (steps[0] !== 0 || steps.some((s, i) => !Number.isInteger(s) || (i > 0 && s <= steps[i - 1]!))) throw new Error(`--steps: increasing integers from 0, got ${args.steps}`);
const lr = Number(args.lr), tau = Number(args.tau), writersPerBatch = Number(args.writers);

const CONFIG: FrozenConfig = { height: 160, width: 320, spec: 'centernet-s16', grid: [2, 4], darkOnWhite: true };
const PREFIX_NODE = 'tower_0/MobilenetV3/expanded_conv_7/add';
const tunedPrefixes = args.tune!.split(',').map((b) => `tower_0/MobilenetV3/expanded_conv_${b}/`);

const { cv, frozen, folds } = await openFrozenOuterTest(args.data!);
const base = await frozen.of(CONFIG);
const { set } = base;
const n = set.files.length;
const backbone = new PretrainedBackbone(BACKBONES[CONFIG.spec]!);
// the frozen prefix of every signature, shown as dark ink on white as the shipped encoder does
const prefix = tf.tidy(() => {
  const ink = tf.tensor4d(Float32Array.from(set.pixels, (v) => v / 255), [n, set.height, set.width, 1]);
  return backbone.intermediate(tf.tile(tf.sub(1, ink), [1, 1, 1, 3]) as tf.Tensor4D, PREFIX_NODE);
});
const embed = (p: tf.Tensor4D) => poolFeatureMap(backbone.featuresFrom({ [PREFIX_NODE]: p }), CONFIG.grid, 1e-8);
const embedAll = (): Float32Array[] => {
  const e = tf.tidy(() => embed(prefix));
  const values = e.dataSync() as Float32Array;
  const dim = e.shape[1];
  e.dispose();
  return Array.from({ length: n }, (_, i) => values.slice(i * dim, (i + 1) * dim));
};
const byWriter = new Map<string, { genuine: number[]; forged: number[] }>();
set.files.forEach((f, i) => {
  const e = byWriter.get(f.claimed) ?? { genuine: [], forged: [] };
  (f.genuine ? e.genuine : e.forged).push(i);
  byWriter.set(f.claimed, e);
});

/** The batch's loss: each genuine anchor, -log of its positives' share of softmax(-d^2 / tau). */
function ncaLoss(e: tf.Tensor2D, writer: number[], genuine: boolean[]): tf.Scalar {
  const b = writer.length;
  const others = new Float32Array(b * b), positive = new Float32Array(b * b);
  for (let i = 0; i < b; i++) {
    for (let j = 0; j < b; j++) {
      if (i === j) continue;
      others[i * b + j] = 1;
      if (genuine[i] && genuine[j] && writer[i] === writer[j]) positive[i * b + j] = 1;
    }
  }
  const d2 = tf.relu(tf.sub(2, tf.mul(2, tf.matMul(e, e, false, true)))); // unit vectors
  const logits = tf.div(tf.neg(d2), tau);
  const masked = (mask: Float32Array) => tf.add(logits, tf.mul(tf.sub(1, tf.tensor2d(mask, [b, b])), -1e9));
  const perAnchor = tf.sub(tf.logSumExp(masked(others), 1), tf.logSumExp(masked(positive), 1));
  const anchors = tf.tensor1d(genuine.map((g) => (g ? 1 : 0)));
  return tf.div(tf.sum(tf.mul(perAnchor, anchors)), tf.sum(anchors));
}

/** Trains from the pretrained weights on `persons`; every signature's embeddings at each of `steps`. */
function train(persons: readonly string[], seed: number): Map<number, Float32Array[]> {
  const rng = new Rng(seed);
  const variables = backbone.fineTune(tunedPrefixes);
  const optimizer = tf.train.adam(lr);
  const out = new Map<number, Float32Array[]>();
  for (let step = 0; ; step++) {
    if (steps.includes(step)) out.set(step, embedAll());
    if (step === steps.at(-1)) break;
    const idx: number[] = [], writer: number[] = [], genuine: boolean[] = [];
    rng.shuffle([...persons]).slice(0, writersPerBatch).forEach((w, k) => {
      const e = byWriter.get(w)!;
      for (const i of rng.shuffle([...e.genuine]).slice(0, 3)) { idx.push(i); writer.push(k); genuine.push(true); }
      for (const i of rng.shuffle([...e.forged]).slice(0, 2)) { idx.push(i); writer.push(k); genuine.push(false); }
    });
    optimizer.minimize(() => ncaLoss(embed(tf.gather(prefix, idx) as tf.Tensor4D), writer, genuine), false, variables);
  }
  optimizer.dispose();
  backbone.dispose();
  return out;
}

const asModel = (embeddings: Float32Array[]): FrozenModel => ({ ...base, embeddings });
const rows: TestRow[] = [];
const perFold: { fold: number; innerEer: [number, number][]; chosen: number; testEerByStep: [number, number][] }[] = [];
for (const f of args.folds!.split(',').map(Number)) {
  const dev = folds.flatMap((p, g) => (g === f ? [] : p)).sort();
  const inner = writerFolds(set.files.filter((x) => dev.includes(x.claimed)), Number(args.inner), 7 + f);
  const innerEer = new Map<number, number[]>();
  inner.forEach((held, i) => {
    for (const [s, e] of train(dev.filter((p) => !held.includes(p)), 100 * f + i)) innerEer.set(s, [...(innerEer.get(s) ?? []), distanceEer(asModel(e), held)]);
  });
  const meanEer = [...innerEer].map(([s, v]) => [s, v.reduce((a, b) => a + b, 0) / v.length] as [number, number]);
  const chosen = meanEer.reduce((a, b) => (b[1] < a[1] ? b : a))[0];
  const byStep = train(dev, 1000 + f);
  const testEerByStep = [...byStep].map(([s, e]) => [s, distanceEer(asModel(e), folds[f]!)] as [number, number]);
  console.log(`fold ${f}: inner EER by step ${meanEer.map(([s, v]) => `${s}:${pct(v)}`).join(' ')} -> ${chosen}; test (orientation) ${testEerByStep.map(([s, v]) => `${s}:${pct(v)}`).join(' ')}; tensors ${tf.memory().numTensors}`);
  perFold.push({ fold: f, innerEer: meanEer, chosen, testEerByStep });
  rows.push(...outerTestRows(cv, folds, f, 'fine-tuned, steps chosen', base.scorer, byStep.get(chosen)!));
  rows.push(...outerTestRows(cv, folds, f, 'frozen (step 0)', base.scorer, byStep.get(0)!));
}
console.log(aucEerTable(rows));
if (args.out) {
  const test = aucEerSummary(rows);
  writeFileSync(args.out, JSON.stringify({ args, config: CONFIG, prefixNode: PREFIX_NODE, folds, perFold, test }, null, 2) + '\n');
}
