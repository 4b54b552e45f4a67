/**
 * Are generic pretrained features enough for signatures? Frozen COCO features (the tracker's
 * vendored MobileNetV3 CenterNet backbone, models/backbones/centernet) read at a stride-8 or
 * stride-16 node, average-pooled over a coarse grid of the ink canvas, signed square root, L2
 * normalised: no training at all, so every one of the 30 writers is a test writer.
 *
 *   nice -n 15 npx tsx scripts/signature-frozen-features.ts --state /tmp/sig15n [--out FILE]
 *
 * 1. All 30 writers: EER (genuine vs skilled, K = 1..4) of every configuration (input size,
 *    node, grid, polarity), the `distance` rule. Printed for orientation only: choosing among
 *    them on these numbers would choose on the test writers.
 * 2. The outer 3-fold test of the signature cross-validation (writerFolds seed 1, the same test
 *    persons as nested-cv-signatures.ts): per fold the configuration is chosen on the 20
 *    development persons (distance rule, K = 1..4 pooled), then the 10 test persons are scored
 *    with both decisions (wd: rbf, l2 1, negatives the development persons' genuine signatures).
 *    Beside it: the same fold's `signet` dev model (<state>/signet/fold-F/dev/step-160, the
 *    shipped recipe; train-signatures.ts --phase cv --inner-folds 4 --recipes signet), a fixed
 *    configuration named before any number was seen (96x192, expanded_conv_5, 2x4 grid), and the
 *    concatenation of signet and frozen features (each L2-normalised, equal weight).
 */
import * as tf from '@tensorflow/tfjs-core';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { selectBackend } from '../src/backend/select.js';
import { SIGNATURES_PREPROCESS, loadSignatures, writerFolds } from '../src/applications/signatures/layout.js';
import { evaluateReferenceVerification } from '../src/applications/signatures/reference_verification.js';
import type { SimilarityScorer } from '../src/verification/verifier.js';
import { PretrainedBackbone } from '../src/tracking/backbone.js';
import { KS, SignatureFolds, eerOf, pct, pooled, tableLines, type FoldModel, type TestRow } from './lib/signature-cv.js';

const { values: args } = parseArgs({
  options: {
    data: { type: 'string', default: resolve('..', 'shared', 'data', 'signatures', 'handwritten_signatures.zip') },
    state: { type: 'string', default: '/tmp/sig15n' },
    step: { type: 'string', default: '160' },
    out: { type: 'string' },
  },
});
await selectBackend('native');
const data = args.data!;
const cv = await SignatureFolds.load(data);
const files = cv.all.files;

interface FrozenConfig { height: number; width: number; node: string; grid: [number, number]; inkBright: boolean }
const label = (c: FrozenConfig) => `${c.height}x${c.width} ${c.node} grid ${c.grid.join('x')}${c.inkBright ? ' ink-bright' : ''}`;
const CONFIGS: FrozenConfig[] = [];
for (const [height, width] of [[96, 192], [128, 256], [160, 320]] as const) {
  for (const node of ['expanded_conv_5/add', 'expanded_conv_9/add']) {
    for (const grid of [[2, 4], [3, 6]] as [number, number][]) {
      for (const inkBright of [false, true]) CONFIGS.push({ height, width, node, grid, inkBright });
    }
  }
}
const FIXED = CONFIGS.find((c) => c.height === 96 && c.node === 'expanded_conv_5/add' && c.grid[0] === 2 && !c.inkBright)!;

const normalised = (v: Float32Array) => {
  const norm = Math.hypot(...v) || 1;
  return v.map((x) => x / norm);
};
/** Distance rule on L2-normalised features: minus the squared Euclidean distance. */
const euclidean: SimilarityScorer = {
  meta: { threshold: null } as never,
  embed: () => { throw new Error('not a model'); },
  embedImages: () => { throw new Error('not a model'); },
  similarity: (a, b) => b.map((r) => -r.reduce((s, x, i) => s + (x - a[i]!) ** 2, 0)),
};

const featureCache = new Map<string, Float32Array[]>();
/** Every signature's frozen feature vector under configuration `c`. */
async function frozenFeatures(c: FrozenConfig): Promise<Float32Array[]> {
  const cached = featureCache.get(label(c));
  if (cached) return cached;
  const set = await loadSignatures(data, { ...SIGNATURES_PREPROCESS, height: c.height, width: c.width });
  const backbone = new PretrainedBackbone({ model: 'centernet', node: `tower_0/MobilenetV3/${c.node}`, stride: 8, inputScale: 255, source: 'centernet' });
  const size = c.height * c.width;
  const out: Float32Array[] = [];
  for (let start = 0; start < files.length; start += 32) {
    const m = Math.min(32, files.length - start);
    const pooledFeatures = tf.tidy(() => {
      // The canvas holds ink as bright on 0; photographs (COCO) show dark ink on white paper.
      const ink = tf.div(tf.tensor4d(Float32Array.from(set.pixels.subarray(start * size, (start + m) * size)), [m, c.height, c.width, 1]), 255);
      const map = backbone.features(tf.tile(c.inkBright ? ink : tf.sub(1, ink), [1, 1, 1, 3]) as tf.Tensor4D);
      const [, fh, fw, ch] = map.shape;
      const [gh, gw] = c.grid;
      const ph = Math.floor(fh / gh);
      const pw = Math.floor(fw / gw);
      const cells = tf.avgPool(tf.slice(map, [0, 0, 0, 0], [m, ph * gh, pw * gw, ch]), [ph, pw], [ph, pw], 'valid');
      const flat = tf.reshape(cells, [m, -1]);
      return tf.mul(tf.sign(flat), tf.sqrt(tf.abs(flat))); // power normalisation: tames a few large activations
    });
    for (const row of pooledFeatures.arraySync() as number[][]) out.push(normalised(Float32Array.from(row)));
    pooledFeatures.dispose();
  }
  featureCache.set(label(c), out);
  return out;
}

function eerForPersons(embeddings: Float32Array[], persons: readonly string[], seedBase: number): number {
  const idx = files.map((f, i) => (persons.includes(f.claimed) ? i : -1)).filter((i) => i >= 0);
  const { set } = cv.part({ embeddings } as FoldModel, persons);
  const trials = KS.flatMap((k) => evaluateReferenceVerification(euclidean, set, idx.map((i) => embeddings[i]!), {
    references: k, seed: seedBase + k, threshold: 0, skipShortWriters: true, randomPerPerson: 0,
  }).trials);
  return eerOf(trials);
}

// 1. every configuration on all 30 writers (orientation only)
const allWriters = [...new Set(files.map((f) => f.claimed))];
const orientation: { config: string; eer: number[] }[] = [];
for (const c of CONFIGS) {
  const emb = await frozenFeatures(c);
  const idx = files.map((_, i) => i);
  const eer = KS.map((k) => evaluateReferenceVerification(euclidean, cv.all, idx.map((i) => emb[i]!), { references: k, seed: k, threshold: 0, skipShortWriters: true }).eer);
  orientation.push({ config: label(c), eer });
  console.log(`all ${allWriters.length} writers, ${label(c)}: EER K=1..4 ${eer.map(pct).join(' / ')}`);
}

// 2. the outer 3-fold test
const folds = writerFolds(files, 3, 1);
const rows: TestRow[] = [];
const chosen: string[] = [];
const concat = (a: Float32Array[], b: Float32Array[]) => a.map((x, i) => {
  const o = new Float32Array(x.length + b[i]!.length);
  o.set(x.map((v) => v / Math.SQRT2));
  o.set(b[i]!.map((v) => v / Math.SQRT2), x.length);
  return o;
});
for (let f = 0; f < folds.length; f++) {
  const test = folds[f]!;
  const dev = folds.flatMap((p, g) => (g === f ? [] : p));
  let best = CONFIGS[0]!;
  let bestEer = Infinity;
  for (const c of CONFIGS) {
    const e = eerForPersons(await frozenFeatures(c), dev, 100);
    if (e < bestEer) [best, bestEer] = [c, e];
  }
  chosen.push(label(best));
  console.log(`fold ${f}: chosen on the development persons: ${label(best)} (EER ${pct(bestEer)})`);
  const signet = await cv.loadModel(join(args.state!, 'signet', `fold-${f}`, 'dev', `step-${args.step}`), test);
  const signetEmb = signet.embeddings.map(normalised);
  const fixedEmb = await frozenFeatures(FIXED);
  const chosenEmb = await frozenFeatures(best);
  const variants: [string, Float32Array[]][] = [
    ['signet', signetEmb], ['frozen, fixed', fixedEmb], ['frozen, chosen', chosenEmb],
    ['signet + frozen fixed', concat(signetEmb, fixedEmb)], ['signet + frozen chosen', concat(signetEmb, chosenEmb)],
  ];
  for (const [name, embeddings] of variants) {
    const m: FoldModel = { dir: name, scorer: euclidean as never, embeddings, testPersons: test, validationPersons: [], trainPersons: dev };
    for (const decision of ['distance', 'wd'] as const) {
      for (const r of cv.testRows(m, f, decision, { kernel: 'rbf', l2: 1 }, 0)) rows.push({ ...r, decision: `${name}: ${decision}` as never });
    }
  }
}
// FAR / FRR at threshold 0 mean nothing here: only AUC and EER are printed.
const table = tableLines(pooled(rows)).map((line) => line.split('|').slice(0, 5).join('|') + '|');
console.log(table.join('\n'));
if (args.out) writeFileSync(args.out, JSON.stringify({ data, folds, chosen, fixed: label(FIXED), orientation, test: pooled(rows).map(({ decision, references, auc, aucSd, eer, eerSd }) => ({ decision, references, auc, aucSd, eer, eerSd })) }, null, 2) + '\n');
