/**
 * Do other nodes of the frozen COCO backbone, or larger inputs, give better signature features than
 * the stride-16 node `models/signatures-pretrained` reads? Nothing is trained (as
 * signature-frozen-features.ts): every configuration is scored by the distance rule, K = 1..4 pooled.
 *
 *   nice -n 15 npx tsx scripts/signature-frozen-nodes.ts [--out FILE]    # about 15 minutes on one core
 *
 * Compared: the deeper blocks of the MobileNetV3 (11 and the projection of 10 at stride 16, with
 * squeeze-excite; 14 and the last expansion at stride 32), the CenterNet head's fused maps (strides
 * 16, 8 and 4), each at 128x256, 160x320 and 224x448 with a 2x4 grid; and the shipped s16 node at
 * 160x320 to 288x576 with grids 1x2 to 4x8.
 *
 * Printed per configuration: EER on all 30 writers (orientation only: choosing on it would choose on
 * the test writers), on each outer fold's 20 development persons (what a choice may use) and on its
 * 10 test persons. Then the honest estimate of the choice rule with all of these added to the 24
 * configurations of signature-frozen-features.ts: per fold the lowest development EER, scored on
 * the fold's test persons with both decisions.
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { BACKBONES } from '../src/models/pretrained_backbone.js';
import { evaluateReferenceVerification } from '../src/applications/signatures/reference_verification.js';
import { aucEerSummary, aucEerTable, KS, pct, type TestRow } from './lib/signature-cv.js';
import { DEFAULT_SIGNATURE_DATA, FROZEN_CONFIGS, distanceEer, frozenLabel, openFrozenOuterTest, outerTestRows, type FrozenConfig } from './lib/signature-backbone.js';

const { values: args } = parseArgs({ options: { data: { type: 'string', default: DEFAULT_SIGNATURE_DATA }, out: { type: 'string' } } });

// Probe-only nodes, registered for this process (the shipped BACKBONES keep the ones in use).
const PROBES: Record<string, [node: string, stride: number]> = {
  'probe-b10-s16': ['tower_0/MobilenetV3/expanded_conv_10/project/BatchNorm/FusedBatchNorm', 16],
  'probe-b11-s16': ['tower_0/MobilenetV3/expanded_conv_11/add', 16],
  'probe-b14-s32': ['tower_0/MobilenetV3/expanded_conv_14/add', 32],
  'probe-last-s32': ['tower_0/extern1/hard_swish/mul_1', 32],
  'probe-head-s16': ['tower_0/CenternetHead/Relu', 16],
  'probe-head-s8': ['tower_0/CenternetHead/Relu_1', 8],
  'probe-head-s4': ['tower_0/CenternetHead/Relu_2', 4],
};
for (const [key, [node, stride]] of Object.entries(PROBES)) BACKBONES[key] = { ...BACKBONES['centernet-s16']!, node, stride };

const configs: FrozenConfig[] = [];
for (const spec of Object.keys(PROBES)) {
  for (const [height, width] of [[128, 256], [160, 320], [224, 448]] as const) configs.push({ height, width, spec, grid: [2, 4], darkOnWhite: true });
}
for (const [height, width] of [[160, 320], [192, 384], [224, 448], [288, 576]] as const) {
  for (const grid of [[1, 2], [2, 4], [3, 6], [4, 8]] as [number, number][]) {
    const c = { height, width, spec: 'centernet-s16', grid, darkOnWhite: true };
    if (!FROZEN_CONFIGS.some((o) => frozenLabel(o) === frozenLabel(c))) configs.push(c);
  }
}

const { cv, frozen, folds } = await openFrozenOuterTest(args.data!);
const devOf = (f: number) => folds.flatMap((p, g) => (g === f ? [] : p));
const table: { config: string; all: number[]; dev: number[]; test: number[] }[] = [];
for (const c of [...FROZEN_CONFIGS, ...configs]) {
  const m = await frozen.of(c);
  const all = KS.map((k) => evaluateReferenceVerification(m.scorer, m.set, m.embeddings, { references: k, seed: k, threshold: 0, skipShortWriters: true }).eer);
  const dev = folds.map((_, f) => distanceEer(m, devOf(f)));
  const test = folds.map((p) => distanceEer(m, p));
  table.push({ config: frozenLabel(c), all, dev, test });
  console.log(`${frozenLabel(c)}: all 30 K=1..4 ${all.map(pct).join(' / ')} | development ${dev.map(pct).join(' ')} | test ${test.map(pct).join(' ')}`);
}

const rows: TestRow[] = [];
const chosen: string[] = [];
for (let f = 0; f < folds.length; f++) {
  const best = table.reduce((a, b) => (b.dev[f]! < a.dev[f]! ? b : a));
  chosen.push(best.config);
  console.log(`fold ${f}: chosen on the development persons: ${best.config} (EER ${pct(best.dev[f]!)})`);
  const m = await frozen.of([...FROZEN_CONFIGS, ...configs].find((c) => frozenLabel(c) === best.config)!);
  rows.push(...outerTestRows(cv, folds, f, 'chosen among all', m.scorer, m.embeddings));
}
console.log(aucEerTable(rows));
if (args.out) {
  const test = aucEerSummary(rows);
  writeFileSync(args.out, JSON.stringify({ data: args.data, folds, probes: PROBES, table, chosen, test }, null, 2) + '\n');
}
