/**
 * Trains the SiamFC trackers shipped in models/tracking/ (pretrained backbone + trained adjust
 * layer) and models/tracking-small/ (small encoder from scratch), and chooses between
 * configurations by cross-validation. Usage (see docs/tracking.md):
 *   nice -n 19 npx tsx scripts/train-tracking.ts [--network pretrained|small] [--sequences ZIP|DIR]
 *       [--faces ZIP] [--out DIR] [--steps N] [--batch N] [--seed N]
 *       [--experiments] [--ablation-steps N] [--candidates LIST] [--seeds LIST] [--final LABEL] [--no-final]
 * A candidate is `backbone[@exemplarPx]:exemplarCells:mix` for the pretrained network (e.g.
 * `centernet-s4:8:both`, `centernet-s4x@80:10:both` for 80 / 160 px crops; backbones in
 * src/models/pretrained_backbone.ts) or `small:mix`, optionally followed by `:hn` (hard negatives: another
 * sequence's target pasted beside the target in half the video pairs) and/or `:ftN` (pretrained:
 * fine-tune the backbone's last 1x1 convolutions at 1/N of the head's learning rate); mix is video,
 * stills or both (training pair sources). Without --experiments: one model of the --final
 * candidate on all sequences -> --out. With --experiments: a 2-fold cross-validation over the
 * sequences (each sequence is only ever tracked by models that never saw any of its frames) of
 * every candidate (with each of --seeds: fold models differ in initialisation and pair draws),
 * tracked in one pass with the NCC baseline; the table goes to stdout and <out>/experiments.json,
 * and the best mean success AUC (averaged over seeds) is trained on all sequences and shipped
 * (unless --final names one; --no-final ships nothing and writes <runs-dir>/experiments-<time>.json).
 */
import '../src/tracking/native_crop.js'; // the tracker's crops in native code where the addon is built (bitwise the same)
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../src/backend/select.js';
import { decodeImage, openSource } from '../src/tracking/data_access.js';
import { downscaleTo } from '../src/tracking/downscale.js';
import { loadTrackingModel, saveTrackingModel, type TrackerMetadata } from '../src/tracking/model_io.js';
import { TRACKING_FOLDS } from '../src/tracking/folds.js';
import { loadSequences } from '../src/tracking/sequence.js';
import { buildSiamFC, DEFAULT_SIAMFC, ENCODER_STRIDE, scoreSize, type SiamFCConfig } from '../src/tracking/siamfc_model.js';
import {
  DEFAULT_PRETRAINED,
  EncoderSiamNetwork,
  PretrainedSiamNetwork,
  pretrainedGeometry,
  type PretrainedSiamConfig,
  type SiamNetwork,
} from '../src/tracking/siam_network.js';
import { NccScorer, SiamFCScorer } from '../src/tracking/scorers.js';
import { runTrackers, type TrackerSpec } from '../src/tracking/run.js';
import { SIAMFC_PARAMS, type TrackerParams } from '../src/tracking/tracker.js';
import { trainSiamFC, type TrainOptions } from '../src/tracking/train.js';
import {
  curateFrame,
  StillPairSource,
  VideoPairSource,
  type CuratedFrame,
  type PairGeometry,
  type StillImage,
} from '../src/tracking/training_pairs.js';
import { Rng } from '../src/util/random.js';

const { values: args } = parseArgs({
  options: {
    network: { type: 'string', default: 'pretrained' },
    sequences: { type: 'string', default: '../shared/data/tracking/sequences.zip' },
    faces: { type: 'string', default: '../shared/data/faces/att_faces.zip' },
    out: { type: 'string' },
    steps: { type: 'string', default: '600' },
    'ablation-steps': { type: 'string', default: '400' },
    batch: { type: 'string', default: '8' },
    seed: { type: 'string', default: '1' },
    seeds: { type: 'string' },
    'no-final': { type: 'boolean', default: false },
    experiments: { type: 'boolean', default: false },
    candidates: { type: 'string' },
    final: { type: 'string' },
    'runs-dir': { type: 'string', default: 'runs/tracking' },
    // NCC is deterministic and slow (~6 fps): --no-baseline skips it in the cross-validation.
    'no-baseline': { type: 'boolean', default: false },
  },
});

const log = (...a: unknown[]) => console.error(`[${new Date().toISOString().slice(11, 19)}]`, ...a);
await selectBackend('auto');

type Mix = 'video' | 'stills' | 'both';
const VIDEO_FRACTION: Record<Mix, number> = { video: 1, stills: 0, both: 0.5 };

interface Candidate {
  label: string;
  network: SiamFCConfig | PretrainedSiamConfig;
  mix: Mix;
  /** Fraction of video pairs with a look-alike pasted (suffix `:hn`, hard negatives). */
  lookAlikes: number;
  geom: PairGeometry;
  params: TrackerParams;
}

function parseCandidate(label: string): Candidate {
  const parts = label.split(':');
  // Options after the mix: `hn`, hard negatives (another sequence's target pasted beside the
  // target) in half the video pairs; `ftN`, backbone fine-tuning at 1/N of the head's rate.
  let lookAlikes = 0;
  let fineTune: PretrainedSiamConfig['fineTune'];
  for (let last = parts[parts.length - 1]!; ; last = parts[parts.length - 1]!) {
    const ft = /^ft(\d+)$/.exec(last);
    if (last === 'hn') lookAlikes = 0.5;
    else if (ft) fineTune = { rateFactor: 1 / Number(ft[1]) };
    else break;
    parts.pop();
  }
  const mix = parts[parts.length - 1] as Mix;
  if (!(mix in VIDEO_FRACTION)) throw new Error(`candidate '${label}': mix must be video, stills or both`);
  let network: SiamFCConfig | PretrainedSiamConfig;
  let stride: number;
  let score: number;
  if (parts[0] === 'small' && parts.length === 2) {
    if (fineTune) throw new Error(`candidate '${label}': ftN needs a pretrained backbone`);
    network = { ...DEFAULT_SIAMFC };
    stride = ENCODER_STRIDE;
    score = scoreSize(network);
  } else if (parts.length === 3) {
    // `backbone@E`: exemplar crops of E px and search crops of 2E px (default 64 / 128).
    const [backbone, size] = parts[0]!.split('@');
    const exemplarSize = size ? Number(size) : DEFAULT_PRETRAINED.exemplarSize;
    network = { ...DEFAULT_PRETRAINED, backbone: backbone!, exemplarSize, searchSize: 2 * exemplarSize, exemplarCells: Number(parts[1]), ...(fineTune ? { fineTune } : {}) };
    ({ stride, scoreSize: score } = pretrainedGeometry(network));
  } else {
    throw new Error(`candidate '${label}': expected backbone:exemplarCells:mix or small:mix`);
  }
  const params: TrackerParams = { ...SIAMFC_PARAMS, exemplarSize: network.exemplarSize, searchSize: network.searchSize };
  const geom: PairGeometry = { exemplarSize: network.exemplarSize, searchSize: network.searchSize, context: params.context, stride, scoreSize: score };
  return { label, network, mix, lookAlikes, geom, params };
}

const DEFAULT_CANDIDATES: Record<string, string[]> = {
  // The first one is what a run without --experiments ships (the cross-validation winners).
  pretrained: ['centernet-s4x:8:both', 'centernet-s4:8:both', 'centernet-s4:8:stills', 'centernet-s4:12:both'],
  small: ['small:stills', 'small:video', 'small:both'],
};
if (!(args.network! in DEFAULT_CANDIDATES)) throw new Error(`--network must be pretrained or small, got '${args.network}'`);
const candidates = (args.candidates?.split(',') ?? DEFAULT_CANDIDATES[args.network!]!).map((c) => parseCandidate(c.trim()));
const outDir = args.out ?? (args.network === 'small' ? 'models/tracking-small' : 'models/tracking');

// ---- data: decode every frame once; keep sparse stills and, per crop geometry the candidates
// use, curated crops around the ground truth (video pairs).
const geomKey = (g: PairGeometry) => `${g.exemplarSize}/${g.searchSize}`;
const geometries = new Map(candidates.map((c) => [geomKey(c.geom), c.geom]));
const sequences = await loadSequences(args.sequences!);
const curatedByGeom = new Map<string, Map<string, CuratedFrame[]>>([...geometries.keys()].map((k) => [k, new Map()]));
const seqStills = new Map<string, StillImage[]>();
const STILL_EVERY = 6;
for (const seq of sequences) {
  const crops = new Map([...geometries.keys()].map((k) => [k, [] as CuratedFrame[]]));
  const stills: StillImage[] = [];
  for (let i = 0; i < seq.length; i++) {
    const box = seq.groundTruth[i];
    if (!box) continue;
    const frame = seq.readFrame(i);
    for (const [k, g] of geometries) crops.get(k)!.push(curateFrame(frame, box, g));
    if (i % STILL_EVERY === 0) {
      const { image, factor } = downscaleTo(frame, 360);
      stills.push({ image, boxes: [{ x: box.x * factor, y: box.y * factor, w: box.w * factor, h: box.h * factor }] });
    }
  }
  for (const [k, list] of crops) curatedByGeom.get(k)!.set(seq.name, list);
  seqStills.set(seq.name, stills);
  log(`${seq.name}: ${crops.values().next().value!.length} frames with a box, ${stills.length} stills`);
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

function sourcesFor(names: string[], geom: PairGeometry, lookAlikes: number): { video: VideoPairSource; stills: StillPairSource } {
  const c = curatedByGeom.get(geomKey(geom))!;
  const video = new VideoPairSource(names.map((n) => c.get(n)!), geom, { maxGap: 50, lookAlikes });
  const stills = new StillPairSource([...names.flatMap((n) => seqStills.get(n)!), ...faceStills], geom);
  return { video, stills };
}

function buildNetwork(cand: Candidate, seed: number, stills: StillPairSource): SiamNetwork {
  if ((cand.network as PretrainedSiamConfig).kind !== 'pretrained') return new EncoderSiamNetwork(buildSiamFC({ ...(cand.network as SiamFCConfig), seed }));
  const net = PretrainedSiamNetwork.create({ ...(cand.network as PretrainedSiamConfig), seed });
  // Data-dependent init of the adjust layer's scale from 16 training exemplars.
  const rng = new Rng(seed + 1000);
  const ez = cand.geom.exemplarSize;
  const crops = Array.from({ length: 16 }, () => stills.sample(rng).exemplar);
  const data = new Float32Array(16 * ez * ez * 3);
  crops.forEach((c, i) => data.set(c, i * ez * ez * 3));
  const z = tf.tensor4d(data, [16, ez, ez, 3]);
  net.calibrate(z);
  z.dispose();
  return net;
}

function train(names: string[], cand: Candidate, steps: number, seed: number, tag: string): { network: SiamNetwork; info: Record<string, unknown> } {
  const sources = sourcesFor(names, cand.geom, cand.lookAlikes);
  const network = buildNetwork(cand, seed, sources.stills);
  const opts: TrainOptions = {
    steps,
    batchSize: Number(args.batch),
    learningRate: 1e-3,
    finalLearningRate: 1e-4,
    videoFraction: VIDEO_FRACTION[cand.mix],
    labelRadius: 2 * cand.geom.stride,
    seed,
    logEvery: 50,
    onLog: (s, l) => log(`${tag} step ${s}/${steps} loss ${l.toFixed(4)} tensors ${tf.memory().numTensors}`),
  };
  const r = trainSiamFC(network, sources, cand.geom, opts);
  const tail = r.losses.slice(-25);
  const info = {
    candidate: cand.label,
    sequences: names,
    mix: cand.mix,
    ...(cand.lookAlikes > 0 ? { lookAlikes: cand.lookAlikes } : {}),
    steps,
    seed,
    batchSize: opts.batchSize,
    pairs: r.pairs,
    seconds: Math.round(r.seconds),
    finalLoss: tail.reduce((a, b) => a + b, 0) / tail.length,
    faces: faceStills.length,
  };
  log(`${tag}: trained in ${Math.round(r.seconds)} s`, JSON.stringify(r.pairs));
  return { network, info };
}

const metaFor = (cand: Candidate, training: Record<string, unknown>): TrackerMetadata => ({
  format: 'fewshot-tracker/1',
  network: cand.network,
  params: cand.params,
  training,
  createdAt: new Date().toISOString(),
});

const round = (v: number) => Math.round(v * 1000) / 1000;
type Row = { auc: number; precision20: number; failures: number; fps: number };
let experiments: Record<string, unknown> | undefined;
let winner = args.final ? parseCandidate(args.final) : candidates[0]!;

if (args.experiments) {
  const folds = TRACKING_FOLDS.map((f) => f.filter((n) => seqStills.has(n)));
  const all = sequences.map((s) => s.name);
  const foldOf = (name: string) => folds.findIndex((f) => f.includes(name));
  const steps = Number(args['ablation-steps']);
  const seeds = (args.seeds ?? args.seed!).split(',').map(Number);
  // One tracker per candidate and seed; its name in the tables (the label alone for one seed).
  const runName = (c: Candidate, seed: number) => (seeds.length === 1 ? c.label : `${c.label}#${seed}`);
  const runsOf = candidates.flatMap((cand) => seeds.map((seed) => ({ cand, seed, name: runName(cand, seed) })));
  const models = new Map<string, SiamNetwork>();
  const trainInfo: Record<string, unknown> = {};
  for (let k = 0; k < folds.length; k++) {
    const trainOn = all.filter((n) => foldOf(n) !== k);
    for (const { cand, seed, name } of runsOf) {
      // Seed 1 keeps the folder names of runs made before --seeds existed.
      const tag = `${cand.label}${seed === 1 ? '' : `-seed${seed}`}-heldout${k}`;
      const dir = join(args['runs-dir']!, tag.replaceAll(':', '_'));
      // Resumable: a fold model saved by an earlier run with the same steps is reused.
      const previous = existsSync(join(dir, 'tracker.json')) ? (JSON.parse(readFileSync(join(dir, 'tracker.json'), 'utf8')) as TrackerMetadata) : null;
      if (previous?.training?.steps === steps && previous.training.candidate === cand.label && (previous.training.seed ?? 1 + k) === seed + k) {
        models.set(`${name}@${k}`, (await loadTrackingModel(dir)).network);
        trainInfo[tag] = { ...previous.training, testedOn: folds[k] };
        log(`${tag}: reusing ${dir}`);
        continue;
      }
      const { network, info } = train(trainOn, cand, steps, seed + k, tag);
      models.set(`${name}@${k}`, network);
      trainInfo[tag] = { ...info, testedOn: folds[k] };
      await saveTrackingModel(dir, network.model, metaFor(cand, info), network.fineTuned?.variables);
    }
  }
  const table: Record<string, Record<string, Row>> = {};
  for (const seq of sequences) {
    const k = foldOf(seq.name);
    if (k < 0) continue;
    const specs: TrackerSpec[] = [
      ...(args['no-baseline'] ? [] : [{ name: 'ncc', scorer: new NccScorer(), params: SIAMFC_PARAMS }]),
      ...runsOf.map((r) => ({ name: r.name, scorer: new SiamFCScorer(models.get(`${r.name}@${k}`)!), params: r.cand.params })),
    ];
    const runs = runTrackers(seq, specs);
    table[seq.name] = Object.fromEntries(
      runs.map((r) => [r.tracker, { auc: round(r.scores.auc), precision20: round(r.scores.precision20), failures: r.scores.failures, fps: round(r.fps) }]),
    );
    log(seq.name, JSON.stringify(table[seq.name]));
  }
  const trackers = [...(args['no-baseline'] ? [] : ['ncc']), ...runsOf.map((r) => r.name)];
  const mean = Object.fromEntries(
    trackers.map((t) => {
      const rows = Object.values(table).map((r) => r[t]!);
      const avg = (f: (r: Row) => number) => round(rows.reduce((a, r) => a + f(r), 0) / rows.length);
      return [t, { meanAuc: avg((r) => r.auc), meanPrecision20: avg((r) => r.precision20), failures: rows.reduce((a, r) => a + r.failures, 0), fps: avg((r) => r.fps) }];
    }),
  );
  // Per candidate: the mean over seeds of the mean success AUC, and each seed's.
  const bySeed = Object.fromEntries(
    candidates.map((c) => {
      const perSeed = seeds.map((seed) => mean[runName(c, seed)]!.meanAuc);
      return [c.label, { meanAuc: round(perSeed.reduce((a, v) => a + v, 0) / perSeed.length), perSeed: Object.fromEntries(seeds.map((s, i) => [s, perSeed[i]])) }];
    }),
  );
  if (!args.final) winner = candidates.reduce((best, c) => (bySeed[c.label]!.meanAuc > bySeed[best.label]!.meanAuc ? c : best));
  experiments = { protocol: '2-fold cross-validation over sequences', folds, steps, seeds, perSequence: table, mean, candidates: bySeed, winner: winner.label, training: trainInfo };
  console.log(JSON.stringify({ mean, candidates: bySeed, perSequence: table, winner: winner.label }, null, 2));
  for (const m of models.values()) m.dispose();
}

if (args['no-final']) {
  if (experiments) {
    const file = join(args['runs-dir']!, `experiments-${new Date().toISOString().replaceAll(':', '-').slice(0, 19)}.json`);
    writeFileSync(file, JSON.stringify(experiments, null, 2) + '\n');
    log(`wrote ${file}; --no-final: nothing shipped`);
  }
  process.exit(0);
}

// ---- the shipped model: every sequence, the chosen candidate.
const names = sequences.map((s) => s.name);
const { network, info } = train(names, winner, Number(args.steps), Number(args.seed), 'final');
mkdirSync(outDir, { recursive: true });
await saveTrackingModel(
  outDir,
  network.model,
  metaFor(winner, { ...info, script: 'scripts/train-tracking.ts', args, ...(experiments ? { experiments } : {}) }),
  network.fineTuned?.variables,
);
if (experiments) writeFileSync(join(outDir, 'experiments.json'), JSON.stringify(experiments, null, 2) + '\n');
log(`saved ${outDir} (${winner.label})`);
