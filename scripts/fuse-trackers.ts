/**
 * Late fusion of two trained SiamFC networks (issue 13): the stride-4 cut (centernet-s4x, 8
 * exemplar cells) wins one cross-validation fold, the stride-8 cut (centernet-s8, 6 cells) the
 * other. This tracks each fold's held-out sequences with the fold models of both, alone and fused
 * (FusedScorer, weight w on s4x and 1 - w on s8; no retraining), and prints the success AUC and
 * precision@20 per sequence, fold, weight and seed, and a cross-fold choice of w (chosen on one
 * fold, reported on the other). Usage:
 *   nice -n 10 npx tsx scripts/fuse-trackers.ts [--models DIR] [--sequences ZIP|DIR] [--out FILE]
 *       [--seeds 1,2] [--weights 0.25,0.5,0.75] [--folds 0,1] [--max-frames N]
 *       [--filter-weights 1,3] [--filter-lambda 0.1] [--filter-sigma 0.1] [--filter-rate 0] [--filter-every 1] [--filter-steps 2] [--filter-gate 0] [--no-members]
 * --filter-weights adds, for every weight, the same tracker with a first-frame discriminative
 * filter on each member (DiscriminativeScorer, at each filter weight); --no-members drops the
 * members-alone rows (w = 1, w = 0).
 * --models holds the fold models scripts/train-tracking.ts --experiments saved
 * (centernet-s4x_8_both[-seed2]-heldoutK, centernet-s8_6_both[-seed2]-heldoutK). --max-frames
 * tracks only the first N frames of each sequence (timing runs; the scores are then not comparable).
 */
import '../src/tracking/native_crop.js'; // the tracker's crops in native code where the addon is built (bitwise the same)
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../src/backend/select.js';
import { FusedScorer } from '../src/tracking/fused_scorer.js';
import { TRACKING_FOLDS } from '../src/tracking/folds.js';
import { loadTrackingModel } from '../src/tracking/model_io.js';
import { runTrackers, type TrackerSpec } from '../src/tracking/run.js';
import { DiscriminativeScorer, DEFAULT_DISCRIMINATIVE } from '../src/tracking/discriminative_scorer.js';
import { SiamFCScorer } from '../src/tracking/scorers.js';
import type { SiamNetwork } from '../src/tracking/siam_network.js';
import type { ResponseScorer } from '../src/tracking/tracker.js';
import { loadSequences, type TrackingSequence } from '../src/tracking/sequence.js';

const { values: args } = parseArgs({
  options: {
    models: { type: 'string', default: 'runs/tracking' },
    sequences: { type: 'string', default: '../shared/data/tracking/sequences.zip' },
    out: { type: 'string', default: 'runs/tracking-fusion/results.json' },
    seeds: { type: 'string', default: '1,2' },
    weights: { type: 'string', default: '0.25,0.5,0.75' },
    folds: { type: 'string', default: '0,1' },
    'max-frames': { type: 'string' },
    'filter-weights': { type: 'string', default: '' },
    'no-members': { type: 'boolean', default: false },
    'filter-lambda': { type: 'string', default: String(DEFAULT_DISCRIMINATIVE.lambda) },
    'filter-sigma': { type: 'string', default: String(DEFAULT_DISCRIMINATIVE.sigmaFactor) },
    'filter-rate': { type: 'string', default: '0' },
    'filter-every': { type: 'string', default: '1' },
    'filter-gate': { type: 'string', default: '0' },
    'filter-steps': { type: 'string', default: String(DEFAULT_DISCRIMINATIVE.steps) },
  },
});

const log = (...a: unknown[]) => console.error(`[${new Date().toISOString().slice(11, 19)}]`, ...a);
const list = (s: string) => s.split(',').map((v) => Number(v.trim()));
const seeds = list(args.seeds!);
const folds = list(args.folds!);
const fusedWeights = list(args.weights!);
for (const w of fusedWeights) if (!(w > 0 && w < 1)) throw new Error(`--weights: each fused weight must be in (0, 1), got ${w}`);
if (args['no-members'] && fusedWeights.length === 0) throw new Error('--no-members needs at least one --weights value');
// w = 1 and w = 0 are the members alone (plain SiamFCScorer, exactly as train-tracking.ts ran them).
const weights = args['no-members'] ? fusedWeights : [1, ...fusedWeights, 0];
// Each weight also runs with a first-frame discriminative filter (discriminative_scorer.ts) on
// every member, at each of these filter weights (0: none, the plain Siamese maps).
const filterWeights = [0, ...(args['filter-weights'] ? list(args['filter-weights']) : [])];
const filterLambda = Number(args['filter-lambda']);
const filterSigma = Number(args['filter-sigma']);
const filterRate = Number(args['filter-rate']);
const filterEvery = Number(args['filter-every']);
const filterGate = Number(args['filter-gate']);
const filterSteps = Number(args['filter-steps']);
interface Variant { w: number; f: number; label: string }
const variants: Variant[] = weights.flatMap((w) => filterWeights.map((f) => ({ w, f, label: f === 0 ? label(w) : `${label(w)} +filter ${f}` })));
const maxFrames = args['max-frames'] ? Number(args['max-frames']) : Infinity;
const MEMBERS = { s4x: 'centernet-s4x_8_both', s8: 'centernet-s8_6_both' } as const;
const modelDir = (member: keyof typeof MEMBERS, seed: number, fold: number) => join(args.models!, `${MEMBERS[member]}${seed === 1 ? '' : `-seed${seed}`}-heldout${fold}`);
function label(w: number): string {
  return w === 1 ? 'w=1 (s4x)' : w === 0 ? 'w=0 (s8)' : `w=${w}`;
}

await selectBackend('auto');
const all = await loadSequences(args.sequences!);
const truncate = (s: TrackingSequence): TrackingSequence =>
  s.length <= maxFrames ? s : { ...s, length: maxFrames, framePaths: s.framePaths.slice(0, maxFrames), groundTruth: s.groundTruth.slice(0, maxFrames) };

type Row = { auc: number; precision20: number; failures: number; frames: number; trackSeconds: number; fps: number };
/** results[seed][fold][sequence][w] */
const results: Record<number, Record<number, Record<string, Record<string, Row>>>> = {};
const started = new Date().toISOString();

function save(extra: Record<string, unknown> = {}): void {
  mkdirSync(dirname(args.out!), { recursive: true });
  const filter = filterWeights.length > 1 ? { weights: filterWeights, lambda: filterLambda, sigmaFactor: filterSigma, rate: filterRate, every: filterEvery, steps: filterSteps, gate: filterGate } : undefined;
  const body = { protocol: '2-fold cross-validation; fold K models trained on the other fold', folds: TRACKING_FOLDS, seeds, weights, filter, maxFrames: Number.isFinite(maxFrames) ? maxFrames : null, started, results, ...extra };
  writeFileSync(args.out!, JSON.stringify(body, null, 2) + '\n');
}

for (const seed of seeds) {
  results[seed] = {};
  for (const k of folds) {
    results[seed][k] = {};
    const s4x = await loadTrackingModel(modelDir('s4x', seed, k));
    const s8 = await loadTrackingModel(modelDir('s8', seed, k));
    const params = s4x.meta.params;
    // The fused tracker crops once for both networks: their crop geometry and search must agree.
    if (JSON.stringify(params) !== JSON.stringify(s8.meta.params)) throw new Error(`seed ${seed} fold ${k}: the s4x and s8 models have different tracker params`);
    // SiamFCScorer keeps only the exemplar; the networks are stateless, so every spec gets its own
    // scorers over the one loaded network (loading it per spec would only cost memory).
    const memberOf = (network: SiamNetwork, f: number): ResponseScorer =>
      f === 0 ? new SiamFCScorer(network) : new DiscriminativeScorer(network, { weight: f, lambda: filterLambda, sigmaFactor: filterSigma, rate: filterRate, every: filterEvery, steps: filterSteps, gate: filterGate });
    const scorerOf = ({ w, f }: Variant) =>
      w === 1 ? memberOf(s4x.network, f) : w === 0 ? memberOf(s8.network, f) : new FusedScorer([memberOf(s4x.network, f), memberOf(s8.network, f)], [w, 1 - w]);
    for (const name of TRACKING_FOLDS[k]!) {
      const seq = all.find((s) => s.name === name);
      if (!seq) throw new Error(`${args.sequences}: no sequence ${name} (fold ${k})`);
      const before = tf.memory().numTensors;
      const specs: TrackerSpec[] = variants.map((v) => ({ name: v.label, scorer: scorerOf(v), params }));
      const runs = runTrackers(truncate(seq), specs);
      const leaked = tf.memory().numTensors - before;
      results[seed][k][name] = Object.fromEntries(
        runs.map((r) => [r.tracker, { auc: r.scores.auc, precision20: r.scores.precision20, failures: r.scores.failures, frames: r.boxes.length, trackSeconds: r.trackSeconds, fps: r.fps }]),
      );
      log(
        `seed ${seed} fold ${k} ${name} (${runs[0]!.boxes.length} frames, tensors ${leaked >= 0 ? '+' : ''}${leaked}):`,
        runs.map((r) => `${r.tracker} auc ${r.scores.auc.toFixed(3)} p20 ${r.scores.precision20.toFixed(3)} ${r.fps.toFixed(1)} fps`).join(' | '),
      );
      save();
    }
    s4x.network.dispose();
    s8.network.dispose();
  }
}

// ---- summary tables
const f3 = (v: number | undefined) => (v === undefined ? '  -  ' : v.toFixed(3));
const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
const foldMean = (seed: number, k: number, v: Variant, key: 'auc' | 'precision20') => {
  const rows = Object.values(results[seed]?.[k] ?? {});
  return rows.length === 0 ? undefined : mean(rows.map((r) => r[v.label]![key]));
};
const summary: Record<string, unknown> = {};
console.log('\nPer sequence (success AUC / precision@20):');
for (const seed of seeds) {
  for (const k of folds) {
    for (const [name, row] of Object.entries(results[seed]![k]!)) {
      console.log(`  seed ${seed} fold ${k} ${name.padEnd(10)} ${variants.map((v) => `${v.label} ${f3(row[v.label]!.auc)}/${f3(row[v.label]!.precision20)}`).join('  ')}`);
    }
  }
}
console.log('\nPer fold and 2-fold mean (success AUC, precision@20 in brackets; mean fps over sequences):');
for (const seed of seeds) {
  const perW: Record<string, unknown> = {};
  for (const v of variants) {
    const byFold = folds.map((k) => ({ k, auc: foldMean(seed, k, v, 'auc'), p20: foldMean(seed, k, v, 'precision20') }));
    const seqRows = folds.flatMap((k) => Object.values(results[seed]![k]!).map((r) => r[v.label]!));
    const meanAuc = mean(seqRows.map((r) => r.auc));
    const meanP20 = mean(seqRows.map((r) => r.precision20));
    const fps = mean(seqRows.map((r) => r.fps));
    perW[v.label] = { folds: Object.fromEntries(byFold.map((f) => [f.k, { auc: f.auc, precision20: f.p20 }])), meanAuc, meanPrecision20: meanP20, meanFps: fps };
    console.log(
      `  seed ${seed} ${v.label.padEnd(10)} ${byFold.map((f) => `fold ${f.k} ${f3(f.auc)} (${f3(f.p20)})`).join('  ')}  mean ${f3(meanAuc)} (${f3(meanP20)})  ${fps.toFixed(1)} fps`,
    );
  }
  summary[seed] = perW;
}
// Cross-fold selection: the w with the best AUC on one fold, reported on the other, so the
// choice of w is never scored on the sequences it was chosen on.
const selection: Record<string, unknown> = {};
if (folds.includes(0) && folds.includes(1)) {
  console.log('\nCross-fold selection of w (chosen on one fold, scored on the other):');
  for (const seed of seeds) {
    const picks = [0, 1].map((chooseOn) => {
      const reportOn = 1 - chooseOn;
      const best = variants.reduce((b, v) => (foldMean(seed, chooseOn, v, 'auc')! > foldMean(seed, chooseOn, b, 'auc')! ? v : b));
      return { chosenOn: chooseOn, w: best.w, filterWeight: best.f, label: best.label, aucChosenOn: foldMean(seed, chooseOn, best, 'auc')!, reportedOn: reportOn, auc: foldMean(seed, reportOn, best, 'auc')! };
    });
    const honest = mean(picks.map((p) => p.auc));
    selection[seed] = { picks, meanAuc: honest };
    for (const p of picks) console.log(`  seed ${seed}: best on fold ${p.chosenOn} is ${p.label} (${f3(p.aucChosenOn)}); on fold ${p.reportedOn}: ${f3(p.auc)}`);
    console.log(`  seed ${seed}: cross-fold estimate of choosing w: ${f3(honest)} (mean of the two)`);
  }
}
save({ summary, selection, finished: new Date().toISOString() });
log(`wrote ${args.out}`);
