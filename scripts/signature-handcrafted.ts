/**
 * Features that need no signature training, other than the frozen COCO backbone: are any of them
 * better, or do they add to it? On the outer 3-fold test of signature-frozen-nodes.ts (writerFolds
 * seed 1; per fold a configuration is chosen on the 20 development persons, then scored on the 10
 * test persons with both decisions).
 *
 *   FEWSHOT_NUM_THREADS=1 nice -n 5 npx tsx scripts/signature-handcrafted.ts --family hog|lbp|geometry|omniglot [--out FILE]    # 5-25 minutes on one core
 *
 * - hog / lbp (scripts/lib/handcrafted-features.ts): a grid of settings, each alone and
 *   concatenated with equal weight to the shipped CNN features (160x320, centernet-s16, 2x4); both
 *   sets of configurations are chosen among separately.
 * - geometry: the CNN features with the ink's global shape appended (inkGeometry, each value
 *   divided by its pooled within-writer SD over the development persons' genuine signatures, times
 *   sqrt(w)), so that the squared distance is d_cnn + w * d_geometry; w is chosen per fold.
 * - omniglot: an Omniglot encoder of this project (default the long conv4-128 protonet), its
 *   convolutional part applied to the whole canvas, the map pooled as the backbone's
 *   (poolFeatureMap: grid average, signed square root, L2).
 *
 * Per configuration: EER on all 30 writers, distance rule, K = 1..4 (orientation only: choosing on it
 * would choose on the test writers), then pooled K = 1..4 on each fold's development and test
 * persons.
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { SIGNATURES_PREPROCESS, loadSignatures, type SignatureSet } from '../src/applications/signatures/layout.js';
import { evaluateReferenceVerification } from '../src/applications/signatures/reference_verification.js';
import { poolFeatureMap } from '../src/models/backbone_encoder.js';
import { loadModel } from '../src/models/io.js';
import { INK_GEOMETRY_NAMES, hog, inkGeometry, lbp } from './lib/handcrafted-features.js';
import { aucEerSummary, aucEerTable, KS, pct, type TestRow } from './lib/signature-cv.js';
import { DEFAULT_SIGNATURE_DATA, concatEqualWeight, distanceEer, openFrozenOuterTest, outerTestRows } from './lib/signature-backbone.js';

const { values: args } = parseArgs({
  options: {
    data: { type: 'string', default: DEFAULT_SIGNATURE_DATA },
    family: { type: 'string' },
    omniglot: { type: 'string', default: 'checkpoints/omniglot/long-protonet-conv4-128' },
    out: { type: 'string' },
  },
});
const FAMILIES = ['hog', 'lbp', 'geometry', 'omniglot'];
if (!FAMILIES.includes(args.family ?? '')) throw new Error(`--family must be one of ${FAMILIES.join(', ')}`);

const { cv, frozen, folds } = await openFrozenOuterTest(args.data!);
const cnn = await frozen.of({ height: 160, width: 320, spec: 'centernet-s16', grid: [2, 4], darkOnWhite: true });
const devOf = (f: number) => folds.flatMap((p, g) => (g === f ? [] : p));
const sets = new Map<string, SignatureSet>();
async function canvas(height: number, width: number): Promise<{ set: SignatureSet; pixels: (i: number) => Uint8Array }> {
  const key = `${height}x${width}`;
  if (!sets.has(key)) sets.set(key, await loadSignatures(args.data!, { ...SIGNATURES_PREPROCESS, height, width }));
  const set = sets.get(key)!;
  return { set, pixels: (i) => set.pixels.subarray(i * height * width, (i + 1) * height * width) };
}
const unit = (v: Float32Array) => {
  const n = Math.hypot(...v) || 1;
  return v.map((t) => t / n);
};
const signedSqrt = (v: Float32Array) => v.map((t) => Math.sign(t) * Math.sqrt(Math.abs(t)));
/** Every signature's features under one configuration, for a fold (or 'all' 30 writers) when they depend on the persons fitted on. */
interface Candidate { name: string; embeddings: (fold: number | 'all') => Float32Array[] }
const fixed = (name: string, embeddings: Float32Array[]): Candidate => ({ name, embeddings: () => embeddings });

// The shipped scorer scores any embeddings by minus the squared distance (its encoder is not used).
const score = (embeddings: Float32Array[], persons: readonly string[]) => distanceEer({ scorer: cnn.scorer, set: cnn.set, embeddings }, persons);
const all30 = (embeddings: Float32Array[]) => KS.map((k) => evaluateReferenceVerification(cnn.scorer, cnn.set, embeddings, { references: k, seed: k, threshold: 0, skipShortWriters: true }).eer);

const groups: Record<string, Candidate[]> = {};
if (args.family === 'hog' || args.family === 'lbp') {
  const alone: Candidate[] = [];
  if (args.family === 'hog') {
    for (const [h, w] of [[64, 128], [96, 192], [128, 256]] as const) {
      const { set, pixels } = await canvas(h, w);
      for (const cell of [8, 12, 16]) {
        for (const bins of [9, 12]) {
          const raw = set.files.map((_, i) => hog(pixels(i), h, w, cell, bins));
          alone.push(fixed(`hog ${h}x${w} cell ${cell} bins ${bins}`, raw.map(unit)));
          alone.push(fixed(`hog ${h}x${w} cell ${cell} bins ${bins} sqrt`, raw.map((v) => unit(signedSqrt(v)))));
        }
      }
    }
  } else {
    for (const [h, w] of [[96, 192], [128, 256], [192, 384]] as const) {
      const { set, pixels } = await canvas(h, w);
      for (const [gy, gx] of [[1, 2], [2, 4], [3, 6], [4, 8]] as const) {
        const raw = set.files.map((_, i) => lbp(pixels(i), h, w, gy, gx));
        alone.push(fixed(`lbp ${h}x${w} grid ${gy}x${gx}`, raw.map(unit)));
        alone.push(fixed(`lbp ${h}x${w} grid ${gy}x${gx} sqrt`, raw.map((v) => unit(signedSqrt(v)))));
      }
    }
  }
  groups[args.family] = alone;
  groups[`cnn + ${args.family}`] = alone.map((c) => fixed(`cnn + ${c.name}`, concatEqualWeight(cnn.embeddings, c.embeddings('all'))));
} else if (args.family === 'geometry') {
  const { set, pixels } = await canvas(160, 320);
  const geometry = set.files.map((_, i) => inkGeometry(pixels(i), 160, 320));
  // Pooled within-writer SD of each value over the genuine signatures of `persons`.
  const withinSd = (persons: readonly string[]) => INK_GEOMETRY_NAMES.map((_, j) => {
    let ss = 0, dof = 0;
    for (const p of persons) {
      const values = set.files.flatMap((f, i) => (f.genuine && f.claimed === p ? [geometry[i]![j]!] : []));
      if (values.length < 2) continue;
      const m = values.reduce((a, b) => a + b, 0) / values.length;
      ss += values.reduce((a, v) => a + (v - m) ** 2, 0);
      dof += values.length - 1;
    }
    return Math.sqrt(ss / dof);
  });
  const sdOf = folds.map((_, f) => withinSd(devOf(f)));
  const appended = (sd: number[], w: number) => cnn.embeddings.map((e, i) => Float32Array.from([...e, ...geometry[i]!.map((v, j) => (Math.sqrt(w) * v) / sd[j]!)]));
  const sdAll = withinSd([...new Set(set.files.map((f) => f.claimed))]);
  console.log(`within-writer SD on all 30: ${INK_GEOMETRY_NAMES.map((n, j) => `${n} ${sdAll[j]!.toPrecision(3)}`).join(', ')}`);
  console.log(`geometry alone, all 30, K=1..4: ${all30(geometry.map((g) => Float32Array.from(g, (v, j) => v / sdAll[j]!))).map(pct).join(' / ')}`);
  groups['cnn + geometry'] = [0, 0.0003, 0.001, 0.002, 0.003, 0.005].map((w) => ({ name: `cnn + geometry w ${w}`, embeddings: (f: number | 'all') => appended(f === 'all' ? sdAll : sdOf[f]!, w) }));
} else {
  const { model } = await loadModel(args.omniglot!);
  const candidates: Candidate[] = [];
  for (const [h, w] of [[56, 112], [84, 168], [112, 224], [168, 336]] as const) {
    const { set } = await canvas(h, w);
    for (const last of ['conv4_relu3', 'conv4_relu4']) {
      // The same layers (and weights) on a canvas-sized input, up to `last`; no flatten.
      const input = tfl.input({ shape: [h, w, 1] });
      let x = input;
      for (const layer of model.layers.slice(1, model.layers.findIndex((l) => l.name === last) + 1)) x = layer.apply(x) as tfl.SymbolicTensor;
      const conv = tfl.model({ inputs: input, outputs: x });
      const map = tf.tidy(() => conv.predict(tf.div(tf.tensor4d(set.pixels, [set.files.length, h, w, 1], 'float32'), 255)) as tf.Tensor4D);
      for (const grid of [[1, 2], [2, 4], [3, 6]] as [number, number][]) {
        const pooledMap = poolFeatureMap(map, grid);
        const rows = pooledMap.arraySync();
        pooledMap.dispose();
        candidates.push(fixed(`omniglot ${h}x${w} ${last} grid ${grid.join('x')}`, rows.map((r) => Float32Array.from(r))));
      }
      map.dispose();
    }
  }
  groups.omniglot = candidates;
}

const out: Record<string, unknown> = { data: args.data, family: args.family, folds };
for (const [group, candidates] of Object.entries(groups)) {
  const table = candidates.map((c) => {
    const row = { config: c.name, all: all30(c.embeddings('all')), dev: folds.map((_, f) => score(c.embeddings(f), devOf(f))), test: folds.map((p, f) => score(c.embeddings(f), p)) };
    console.log(`${c.name}: all 30 K=1..4 ${row.all.map(pct).join(' / ')} | development ${row.dev.map(pct).join(' ')} | test ${row.test.map(pct).join(' ')}`);
    return row;
  });
  const rows: TestRow[] = [];
  const chosen: string[] = [];
  for (let f = 0; f < folds.length; f++) {
    const best = table.reduce((a, b) => (b.dev[f]! < a.dev[f]! ? b : a));
    chosen.push(best.config);
    console.log(`${group}, fold ${f}: chosen on the development persons: ${best.config} (${pct(best.dev[f]!)}; test ${pct(best.test[f]!)})`);
    rows.push(...outerTestRows(cv, folds, f, group, cnn.scorer, candidates.find((c) => c.name === best.config)!.embeddings(f)));
  }
  console.log(aucEerTable(rows));
  out[group] = { table, chosen, test: aucEerSummary(rows) };
}
if (args.out) writeFileSync(args.out, JSON.stringify(out, null, 2) + '\n');
