/**
 * Does a trained adapter beat the raw face descriptors on people it never saw? Trains
 * `fewshot train --encoder face`'s adapter on AT&T s1..s30 (20% of them held out to pick the
 * step), calibrates its threshold on s1..s30, and compares it with the raw descriptors (models/faces)
 * on s31..s40: verification AUC, EER, TAR at FAR 1e-2 / 1e-3, and 10-way 1-shot identification.
 *   nice -n 10 npx tsx scripts/eval-face-adapter.ts [--method triplet] [--steps 500] [--margin 0.5] [--out runs/face-adapter]
 * Results: <out>/comparison.json.
 */
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { selectBackend, type BackendName } from '../src/backend/select.js';
import { loadScorer } from '../src/inference/load.js';
import { attPeople } from '../src/applications/faces/att.js';
import { trainFaceAdapter } from '../src/applications/faces/adapter.js';
import { evaluateEpisodes } from '../src/evaluation/episodes.js';
import type { MethodName, MinerName } from '../src/training/methods/method.js';
import { evaluatePairs } from '../src/verification/evaluate.js';
import { writeThreshold } from '../src/verification/calibration.js';
import { cachedFaceDataset } from './face-crops.js';

const { values: args } = parseArgs({
  options: {
    out: { type: 'string', default: 'runs/face-adapter' },
    method: { type: 'string', default: 'triplet' },
    miner: { type: 'string', default: 'semi-hard' },
    margin: { type: 'string', default: '0.5' },
    steps: { type: 'string', default: '500' },
    lr: { type: 'string', default: '0.0003' },
    att: { type: 'string', default: resolve('..', 'shared', 'data', 'faces', 'att_faces.zip') },
    cache: { type: 'string', default: join(tmpdir(), 'fewshot-face-crops') },
    backend: { type: 'string', default: 'auto' },
    seed: { type: 'string', default: '1' },
  },
});
const seed = Number(args.seed);
const backend = await selectBackend(args.backend as BackendName);
const raw = await loadScorer('models/faces');
const att = await cachedFaceDataset(args.att!, raw.meta.preprocess, args.cache!);
const trainPeople = att.subsetByClasses(attPeople(att, 1, 30));
const test = att.subsetByClasses(attPeople(att, 31, 40));
const outDir = resolve(args.out!);
const r = await trainFaceAdapter(trainPeople, {
  method: args.method as MethodName,
  methodOptions: { batchSize: 64, way: 10, shot: 1, query: 3, classesPerBatch: 16, m: 4, miner: args.miner as MinerName, margin: Number(args.margin) },
  steps: Number(args.steps), lr: Number(args.lr), seed, valFraction: 0.2, valEvery: 50, outDir,
  notes: { data: 'AT&T s1-s30 (24 train, 6 held out for step selection)', script: 'scripts/eval-face-adapter.ts' },
  log: (line) => console.error(line),
});
const adapted = await loadScorer(outDir);
writeThreshold(outDir, evaluatePairs(adapted, trainPeople, { seed, dataName: 'AT&T s1-s30' }).calibration.threshold);

const measure = async (dir: string) => {
  const scorer = await loadScorer(dir);
  const v = evaluatePairs(scorer, test, { seed, dataName: 'AT&T s31-s40' });
  const perClass = Math.min(...test.indicesByClass().map((i) => i.length));
  const id = evaluateEpisodes(scorer, test, { way: test.numClasses, shot: 1, query: perClass - 1, episodes: 300, seed });
  return { auc: v.summary.auc, eer: v.summary.eer, tarAtFar1e2: v.summary.tarAtFar1e2, tarAtFar1e3: v.summary.tarAtFar1e3, oneShot10way: id.accuracy, atStoredThreshold: v.atModelThreshold };
};
const comparison = {
  test: 'AT&T s31-s40 (never trained on, never used for calibration)', backend,
  adapter: { method: args.method, miner: args.miner, margin: Number(args.margin), lr: Number(args.lr), ...r },
  raw: await measure('models/faces'),
  adapted: await measure(outDir),
};
writeFileSync(join(outDir, 'comparison.json'), JSON.stringify(comparison, null, 2) + '\n');
console.log(JSON.stringify(comparison, null, 2));
