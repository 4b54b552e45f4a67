/**
 * Trains the shipped signature model (models/signatures/), writer-independent (SigNet setting):
 *   nice -n 10 npx tsx scripts/train-signatures.ts [--steps N] [--out models/signatures] [--data ZIP]
 *
 * Persons (claimed identities) are split three ways, seeded: test persons (never seen: neither
 * their genuine signatures nor the forgeries of them), validation persons (model selection and
 * the EER threshold stored in fewshot.json), training persons. The test persons are then
 * evaluated with 1..4 genuine references per questioned signature (skilled forgeries included)
 * and the numbers written to <out>/results.json.
 */
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../src/backend/select.js';
import { createDistance } from '../src/distances/create_distance.js';
import { SiameseScorer } from '../src/inference/embedder.js';
import { loadScorer } from '../src/inference/load.js';
import { createEncoder } from '../src/models/encoders/registry.js';
import { saveModel } from '../src/models/io.js';
import type { ModelMetadata } from '../src/models/metadata.js';
import { createOptimizer, setLearningRate } from '../src/training/optimizer.js';
import { JsonlLog } from '../src/training/jsonl_log.js';
import { Rng } from '../src/util/random.js';
import { NORM_CONV4 } from '../src/applications/normalized_conv4.js';
import { SIGNATURES_PREPROCESS, loadSignatures, splitByPerson, type SignatureSet } from '../src/applications/signatures/layout.js';
import { evaluateReferenceVerification, type ReferenceTrial } from '../src/applications/signatures/reference_verification.js';
import { sampleSignatureBatch, signatureBatchLoss, signatureIndex, signatureTensor } from '../src/applications/signatures/train.js';
import { calibrateThreshold, writeThreshold } from '../src/verification/calibration.js';
import { summarize } from '../src/verification/metrics.js';


const { values: args } = parseArgs({
  options: {
    data: { type: 'string', default: resolve('..', 'shared', 'data', 'signatures', 'handwritten_signatures.zip') },
    out: { type: 'string', default: 'models/signatures' },
    state: { type: 'string', default: join(tmpdir(), 'fewshot-signatures-train') },
    steps: { type: 'string', default: '200' },
    seed: { type: 'string', default: '1' },
    persons: { type: 'string', default: '8' },
    margin: { type: 'string', default: '1' },
    lr: { type: 'string', default: '0.001' },
    'validate-every': { type: 'string', default: '40' },
    backend: { type: 'string', default: 'auto' },
  },
});
const outDir = resolve(args.out!);
const stateDir = resolve(args.state!);
mkdirSync(stateDir, { recursive: true });
const seed = Number(args.seed);
const steps = Number(args.steps);
const margin = Number(args.margin);
const backend = await selectBackend(args.backend as 'auto');

const all = await loadSignatures(args.data!, SIGNATURES_PREPROCESS);
const outer = splitByPerson(all, { testFraction: 1 / 3, seed });
const inner = splitByPerson(outer.train, { testFraction: 0.25, seed: seed + 1 });
const train = inner.train;
const validation = inner.test;
const test = outer.test;
console.error(`signatures: ${all.files.length} files; train persons ${inner.trainPersons.join(',')}; validation ${inner.testPersons.join(',')}; test (never seen) ${outer.testPersons.join(',')}`);

const encoder = createEncoder(NORM_CONV4, { inputShape: [SIGNATURES_PREPROCESS.height, SIGNATURES_PREPROCESS.width, 1], embeddingDim: 64, seed });
const distance = createDistance('euclidean');
const meta = (extra: Record<string, unknown>): ModelMetadata => ({
  format: 'fewshot-model/1',
  method: 'contrastive',
  encoder: NORM_CONV4,
  inputShape: [SIGNATURES_PREPROCESS.height, SIGNATURES_PREPROCESS.width, 1],
  embeddingDim: 64,
  preprocess: SIGNATURES_PREPROCESS,
  score: 'negative-distance',
  distance: 'euclidean',
  training: {
    script: 'scripts/train-signatures.ts',
    protocol: 'writer-independent: test and validation persons never trained on',
    trainPersons: inner.trainPersons, validationPersons: inner.testPersons, testPersons: outer.testPersons,
    steps, seed, margin, personsPerBatch: Number(args.persons), lr: Number(args.lr),
    ...extra,
  },
  createdAt: new Date().toISOString(),
});

/** Trials for K = 1..maxK pooled: a threshold that does not depend on how many references. */
function pooledTrials(scorer: SiameseScorer, set: SignatureSet, maxK: number, s: number): ReferenceTrial[] {
  const emb = scorer.embedFlat(set.pixels, set.files.length);
  const out: ReferenceTrial[] = [];
  for (let k = 1; k <= maxK; k++) {
    try {
      out.push(...evaluateReferenceVerification(scorer, set, emb, { references: k, seed: s + k }).trials);
    } catch { /* no person has k + 1 genuine signatures */ }
  }
  return out;
}

const index = signatureIndex(train);
const optimizer = createOptimizer({ name: 'adam', lr: Number(args.lr) });
const log = new JsonlLog(join(stateDir, 'training-log.jsonl'));
log.startAt(0);
const vars = encoder.trainableWeights.map((w) => w.read() as tf.Variable);
const rng = new Rng(seed);
const started = Date.now();
let best = Infinity;
let lossSum = 0;
let lossCount = 0;
const tensorsAtStart = tf.memory().numTensors;
for (let step = 1; step <= steps; step++) {
  // Cosine decay to 5% of the initial rate.
  const lr = Number(args.lr) * (0.05 + 0.95 * 0.5 * (1 + Math.cos((Math.PI * (step - 1)) / steps)));
  setLearningRate(optimizer, lr);
  const batch = sampleSignatureBatch(index, Number(args.persons), rng);
  const x = signatureTensor(train, batch.images, rng);
  const cost = optimizer.minimize(() => signatureBatchLoss(encoder, x, batch, distance, margin), true, vars)!;
  const loss = (await cost.data())[0]!;
  cost.dispose();
  x.dispose();
  if (!Number.isFinite(loss)) throw new Error(`loss became ${loss} at step ${step}: lower --lr`);
  lossSum += loss;
  lossCount++;
  const validateNow = step % Number(args['validate-every']) === 0 || step === steps;
  if (step % 10 === 0 || validateNow) {
    const record: Record<string, unknown> = { step, loss: lossSum / lossCount, lr, tensors: tf.memory().numTensors - tensorsAtStart };
    lossSum = 0;
    lossCount = 0;
    if (validateNow) {
      const scorer = SiameseScorer.fromModel(encoder, meta({}));
      const trials = pooledTrials(scorer, validation, 3, 100);
      const s = summarize({ genuine: trials.filter((t) => t.kind === 'genuine').map((t) => t.similarity), impostor: trials.filter((t) => t.kind === 'skilled').map((t) => t.similarity), direction: 'higher-is-same' });
      record.valEer = s.eer;
      record.valAuc = s.auc;
      if (s.eer < best) {
        best = s.eer;
        await saveModel(outDir, encoder, meta({ bestStep: step, valEer: s.eer, valAuc: s.auc }));
        record.best = true;
      }
      console.error(`step ${step}: loss ${(record.loss as number).toFixed(4)} validation EER ${(100 * s.eer).toFixed(1)}% AUC ${s.auc.toFixed(3)}${record.best ? ' (best, saved)' : ''} [${((Date.now() - started) / 1000).toFixed(0)} s]`);
    }
    log.append({ ...record, elapsed: (Date.now() - started) / 1000 } as never);
  }
}
copyFileSync(log.path, join(outDir, 'training-log.jsonl'));

// Threshold: EER on the validation persons (never trained on), references K = 1..4 pooled.
let scorer = await loadScorer(outDir);
const calTrials = pooledTrials(scorer, validation, 4, 200);
const cal = calibrateThreshold(
  calTrials.filter((t) => t.kind === 'genuine').map((t) => t.similarity),
  calTrials.filter((t) => t.kind === 'skilled').map((t) => t.similarity),
  'eer',
  `validation persons ${inner.testPersons.join(',')} (genuine vs skilled forgeries, 1-4 references pooled)`,
);
writeThreshold(outDir, cal.threshold);
scorer = await loadScorer(outDir);

const emb = scorer.embedFlat(test.pixels, test.files.length);
const results: Record<string, unknown>[] = [];
for (const k of [1, 2, 3, 4, 5]) {
  try {
    const { trials: _t, ...r } = evaluateReferenceVerification(scorer, test, emb, { references: k, seed });
    results.push(r);
  } catch (err) {
    results.push({ references: k, error: (err as Error).message });
  }
}
const summary = {
  model: outDir, backend, data: args.data,
  testPersons: outer.testPersons, validationPersons: inner.testPersons, trainPersons: inner.trainPersons,
  threshold: cal.threshold, seconds: (Date.now() - started) / 1000,
  results,
};
writeFileSync(join(outDir, 'results.json'), JSON.stringify(summary, null, 2) + '\n');
console.log(JSON.stringify(summary, null, 2));
