/**
 * Trains the SiamFC tracker shipped in models/tracking/ and measures what each training source
 * contributes. Usage (see docs/tracking.md):
 *   nice -n 10 npx tsx scripts/train-tracking.ts [--sequences ZIP|DIR] [--faces ZIP] [--out DIR]
 *       [--steps N] [--batch N] [--experiments] [--ablation-steps N] [--seed N]
 * Without --experiments: one model on all sequences (--final-mix, default stills) -> --out.
 * With --experiments: first a 2-fold cross-validation over the sequences (each sequence is only ever
 * tested by models that never saw any of its frames) for three source mixes: video pairs only,
 * still-image pairs only, both; every held-out sequence is tracked by the three fold models and the
 * NCC baseline in one pass; the table goes to stdout and <out>/experiments.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../src/backend/select.js';
import { decodeImage, openSource } from '../src/tracking/data_access.js';
import { downscaleTo } from '../src/tracking/downscale.js';
import { saveTrackingModel } from '../src/tracking/model_io.js';
import { loadSequences, type TrackingSequence } from '../src/tracking/sequence.js';
import { buildSiamFC, DEFAULT_SIAMFC, ENCODER_STRIDE, scoreSize, type SiamFCConfig } from '../src/tracking/siamfc_model.js';
import { NccScorer, SiamFCScorer } from '../src/tracking/scorers.js';
import { runTrackers, type TrackerSpec } from '../src/tracking/run.js';
import { SIAMFC_PARAMS } from '../src/tracking/tracker.js';
import { trainSiamFC, type TrainOptions } from '../src/tracking/train.js';
import {
  curateFrame,
  StillPairSource,
  VideoPairSource,
  type CuratedFrame,
  type PairGeometry,
  type StillImage,
} from '../src/tracking/training_pairs.js';
import type * as tfl from '@tensorflow/tfjs-layers';

const { values: args } = parseArgs({
  options: {
    sequences: { type: 'string', default: '../shared/data/tracking/sequences.zip' },
    faces: { type: 'string', default: '../shared/data/faces/att_faces.zip' },
    out: { type: 'string', default: 'models/tracking' },
    steps: { type: 'string', default: '300' },
    'ablation-steps': { type: 'string', default: '150' },
    batch: { type: 'string', default: '8' },
    seed: { type: 'string', default: '1' },
    experiments: { type: 'boolean', default: false },
    // Source mix of the shipped model: stills won the cross-validation (see docs/tracking.md).
    'final-mix': { type: 'string', default: 'stills' },
    'runs-dir': { type: 'string', default: 'runs/tracking' },
  },
});

const log = (...a: unknown[]) => console.error(`[${new Date().toISOString().slice(11, 19)}]`, ...a);
await selectBackend('auto');

const network: SiamFCConfig = { ...DEFAULT_SIAMFC, seed: Number(args.seed) };
const params = { ...SIAMFC_PARAMS, exemplarSize: network.exemplarSize, searchSize: network.searchSize };
const geom: PairGeometry = {
  exemplarSize: network.exemplarSize,
  searchSize: network.searchSize,
  context: params.context,
  stride: ENCODER_STRIDE,
  scoreSize: scoreSize(network),
};

// ---- data: decode every frame once; keep curated crops (video pairs) and sparse stills.
const sequences = await loadSequences(args.sequences!);
const curated = new Map<string, CuratedFrame[]>();
const seqStills = new Map<string, StillImage[]>();
const STILL_EVERY = 6;
for (const seq of sequences) {
  const frames: CuratedFrame[] = [];
  const stills: StillImage[] = [];
  for (let i = 0; i < seq.length; i++) {
    const box = seq.groundTruth[i];
    if (!box) continue;
    const frame = seq.readFrame(i);
    frames.push(curateFrame(frame, box, geom));
    if (i % STILL_EVERY === 0) {
      const { image, factor } = downscaleTo(frame, 360);
      stills.push({ image, boxes: [{ x: box.x * factor, y: box.y * factor, w: box.w * factor, h: box.h * factor }] });
    }
  }
  curated.set(seq.name, frames);
  seqStills.set(seq.name, stills);
  log(`${seq.name}: ${frames.length} curated frames, ${stills.length} stills`);
}
// Faces: extra still images of a different kind (objects and distractors), no video.
const faceStills: StillImage[] = [];
try {
  const faces = await openSource(args.faces!);
  const files = faces.list().filter((f) => f.endsWith('.pgm'));
  for (const f of files.filter((_, i) => i % 4 === 0)) {
    const img = decodeImage(faces.read(f), f);
    faceStills.push({ image: img, boxes: [{ x: img.width * 0.15, y: img.height * 0.12, w: img.width * 0.7, h: img.height * 0.76 }] });
  }
  log(`faces: ${faceStills.length} stills from ${args.faces}`);
} catch (e) {
  log(`faces not used: ${(e as Error).message}`);
}

type Mix = 'video' | 'stills' | 'both';
const VIDEO_FRACTION: Record<Mix, number> = { video: 1, stills: 0, both: 0.5 };

function sourcesFor(names: string[]): { video: VideoPairSource; stills: StillPairSource } {
  const video = new VideoPairSource(names.map((n) => curated.get(n)!), geom, { maxGap: 50 });
  const stills = new StillPairSource([...names.flatMap((n) => seqStills.get(n)!), ...faceStills], geom);
  return { video, stills };
}

function train(names: string[], mix: Mix, steps: number, seed: number, label: string): { model: tfl.LayersModel; info: Record<string, unknown> } {
  const model = buildSiamFC({ ...network, seed });
  const opts: TrainOptions = {
    steps,
    batchSize: Number(args.batch),
    learningRate: 1e-3,
    finalLearningRate: 1e-4,
    videoFraction: VIDEO_FRACTION[mix],
    labelRadius: 2 * ENCODER_STRIDE,
    seed,
    logEvery: 25,
    onLog: (s, l) => log(`${label} step ${s}/${steps} loss ${l.toFixed(4)} tensors ${tf.memory().numTensors}`),
  };
  const r = trainSiamFC(model, sourcesFor(names), geom, opts);
  const tail = r.losses.slice(-25);
  const info = {
    sequences: names,
    mix,
    steps,
    batchSize: opts.batchSize,
    pairs: r.pairs,
    seconds: Math.round(r.seconds),
    finalLoss: tail.reduce((a, b) => a + b, 0) / tail.length,
    faces: faceStills.length,
  };
  log(`${label}: trained in ${Math.round(r.seconds)} s`, JSON.stringify(r.pairs));
  return { model, info };
}

const round = (v: number) => Math.round(v * 1000) / 1000;
let experiments: Record<string, unknown> | undefined;

if (args.experiments) {
  // Two folds mixing OTB and UAV123 sequences; lengths 861 / 574 frames.
  const folds = [
    ['Crossing', 'Girl', 'person11'],
    ['Football1', 'Human3', 'boat1'],
  ].map((f) => f.filter((n) => curated.has(n)));
  const all = sequences.map((s) => s.name);
  const foldOf = (name: string) => folds.findIndex((f) => f.includes(name));
  const mixes: Mix[] = ['video', 'stills', 'both'];
  const steps = Number(args['ablation-steps']);
  const models = new Map<string, tfl.LayersModel>();
  const trainInfo: Record<string, unknown> = {};
  for (let k = 0; k < folds.length; k++) {
    const trainOn = all.filter((n) => foldOf(n) !== k);
    for (const mix of mixes) {
      const label = `${mix}-heldout${k}`;
      const { model, info } = train(trainOn, mix, steps, Number(args.seed) + k, label);
      models.set(label, model);
      trainInfo[label] = { ...info, testedOn: folds[k] };
      await saveTrackingModel(join(args['runs-dir']!, label), model, {
        format: 'fewshot-tracker/1',
        network,
        params,
        training: info,
        createdAt: new Date().toISOString(),
      });
    }
  }
  const untrained = buildSiamFC({ ...network, seed: Number(args.seed) });
  const table: Record<string, Record<string, { auc: number; precision20: number; fps: number }>> = {};
  for (const seq of sequences as TrackingSequence[]) {
    const k = foldOf(seq.name);
    if (k < 0) continue;
    const specs: TrackerSpec[] = [
      { name: 'ncc', scorer: new NccScorer(), params },
      // Random weights, no training: separates what the architecture gives from what training adds.
      { name: 'untrained', scorer: new SiamFCScorer(untrained), params },
      ...mixes.map((mix) => ({ name: mix, scorer: new SiamFCScorer(models.get(`${mix}-heldout${k}`)!), params })),
    ];
    const runs = runTrackers(seq, specs);
    table[seq.name] = Object.fromEntries(
      runs.map((r) => [r.tracker, { auc: round(r.scores.auc), precision20: round(r.scores.precision20), fps: round(r.fps) }]),
    );
    log(seq.name, JSON.stringify(table[seq.name]));
  }
  const trackers = ['ncc', 'untrained', ...mixes];
  const mean = Object.fromEntries(
    trackers.map((t) => {
      const rows = Object.values(table).map((r) => r[t]!);
      const avg = (f: (r: { auc: number; precision20: number; fps: number }) => number) =>
        round(rows.reduce((a, r) => a + f(r), 0) / rows.length);
      return [t, { meanAuc: avg((r) => r.auc), meanPrecision20: avg((r) => r.precision20), fps: avg((r) => r.fps) }];
    }),
  );
  experiments = { protocol: '2-fold cross-validation over sequences', folds, steps, perSequence: table, mean, training: trainInfo };
  console.log(JSON.stringify({ mean, perSequence: table }, null, 2));
  for (const m of [...models.values(), untrained]) m.dispose();
}

// ---- the shipped model: every sequence, with the chosen source mix.
const finalMix = args['final-mix'] as Mix;
if (!(finalMix in VIDEO_FRACTION)) throw new Error(`--final-mix must be video, stills or both, got '${finalMix}'`);
const names = sequences.map((s) => s.name);
const { model, info } = train(names, finalMix, Number(args.steps), Number(args.seed), 'final');
mkdirSync(args.out!, { recursive: true });
await saveTrackingModel(args.out!, model, {
  format: 'fewshot-tracker/1',
  network,
  params,
  training: { ...info, script: 'scripts/train-tracking.ts', args, ...(experiments ? { experiments } : {}) },
  createdAt: new Date().toISOString(),
});
if (experiments) writeFileSync(join(args.out!, 'experiments.json'), JSON.stringify(experiments, null, 2) + '\n');
log(`saved ${args.out}`);
