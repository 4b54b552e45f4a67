/**
 * Are generic pretrained features enough for signatures? Frozen COCO features (the tracker's
 * vendored MobileNetV3 CenterNet, models/backbones/centernet) as src/models/backbone_encoder.ts
 * computes them: a stride-8 or stride-16 node, average-pooled over a coarse grid of the ink
 * canvas, signed square root, L2-normalised. Nothing is trained, so every writer is a test writer.
 *
 *   nice -n 15 npx tsx scripts/signature-frozen-features.ts --state /tmp/sig15n [--out FILE]
 *
 * 1. All 30 writers: EER (genuine vs skilled, K = 1..4) of every configuration
 *    (scripts/lib/signature-backbone.ts), the `distance` rule. Printed for orientation only:
 *    choosing among them on these numbers would choose on the test writers.
 * 2. The outer 3-fold test of the signature cross-validation (writerFolds seed 1, the same test
 *    persons as nested-cv-signatures.ts): per fold the configuration is chosen on the 20
 *    development persons (chooseFrozenConfig), then the 10 test persons are scored with both
 *    decisions (wd: rbf, l2 1, negatives the development persons' genuine signatures). Beside it:
 *    the same fold's `signet` dev model (<state>/signet/fold-F/dev/step-160, the shipped recipe;
 *    train-signatures.ts --phase cv --inner-folds 4 --recipes signet), a fixed configuration named
 *    before any number was seen, and the concatenation of signet and frozen features (each
 *    L2-normalised, equal weight).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { evaluateReferenceVerification } from '../src/applications/signatures/reference_verification.js';
import { aucEerSummary, aucEerTable, KS, pct, type TestRow } from './lib/signature-cv.js';
import { DEFAULT_SIGNATURE_DATA, FIXED_CONFIG, FROZEN_CONFIGS, chooseFrozenConfig, concatEqualWeight, frozenLabel, openFrozenOuterTest, outerTestRows } from './lib/signature-backbone.js';

const { values: args } = parseArgs({
  options: {
    data: { type: 'string', default: DEFAULT_SIGNATURE_DATA },
    state: { type: 'string', default: '/tmp/sig15n' },
    step: { type: 'string', default: '160' },
    out: { type: 'string' },
  },
});
const data = args.data!;
const { cv, frozen, folds } = await openFrozenOuterTest(data);
const files = cv.all.files;

// 1. every configuration on all 30 writers (orientation only)
const orientation: { config: string; eer: number[] }[] = [];
for (const c of FROZEN_CONFIGS) {
  const { scorer, set, embeddings } = await frozen.of(c);
  const eer = KS.map((k) => evaluateReferenceVerification(scorer, set, embeddings, { references: k, seed: k, threshold: 0, skipShortWriters: true }).eer);
  orientation.push({ config: frozenLabel(c), eer });
  console.log(`all writers, ${frozenLabel(c)}: EER K=1..4 ${eer.map(pct).join(' / ')}`);
}

// 2. the outer 3-fold test
const normalised = (v: Float32Array) => {
  const norm = Math.hypot(...v) || 1;
  return v.map((x) => x / norm);
};
const rows: TestRow[] = [];
const chosen: string[] = [];
for (let f = 0; f < folds.length; f++) {
  const test = folds[f]!;
  const dev = folds.flatMap((p, g) => (g === f ? [] : p));
  const best = await chooseFrozenConfig(frozen, dev);
  chosen.push(frozenLabel(best.config));
  console.log(`fold ${f}: chosen on the development persons: ${frozenLabel(best.config)} (EER ${pct(best.eer)})`);
  const signet = await cv.loadModel(join(args.state!, 'signet', `fold-${f}`, 'dev', `step-${args.step}`), test);
  const signetEmb = signet.embeddings.map(normalised);
  const fixed = await frozen.of(FIXED_CONFIG);
  const fixedEmb = fixed.embeddings;
  const chosenEmb = (await frozen.of(best.config)).embeddings;
  const variants: [string, Float32Array[]][] = [
    ['signet', signetEmb], ['frozen, fixed', fixedEmb], ['frozen, chosen', chosenEmb],
    ['signet + frozen fixed', concatEqualWeight(signetEmb, fixedEmb)], ['signet + frozen chosen', concatEqualWeight(signetEmb, chosenEmb)],
  ];
  // Every variant is L2-normalised and scored by minus the squared distance.
  for (const [name, embeddings] of variants) rows.push(...outerTestRows(cv, folds, f, name, fixed.scorer, embeddings));
}
// FAR / FRR at threshold 0 mean nothing here: only AUC and EER are printed.
console.log(aucEerTable(rows));
if (args.out) writeFileSync(args.out, JSON.stringify({ data, folds, chosen, fixed: frozenLabel(FIXED_CONFIG), orientation, test: aucEerSummary(rows) }, null, 2) + '\n');
