/**
 * Training on your own people: a small dense projection (the "adapter") on top of the frozen
 * 128-d face descriptors, trained with any fewshot method (triplet, contrastive, protonet) and
 * saved as a normal face model (fewshot.json + the adapter's model.json / weights.bin).
 *
 * Descriptors are computed once (detection + descriptor network are frozen), so a training step
 * is a 128x128 matmul: thousands of steps take seconds. The projection starts at the identity,
 * i.e. at the raw descriptors, so training moves away from them only as far as the loss asks.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { ImageDataset } from '../../data/dataset.js';
import { splitByClass } from '../../data/split.js';
import { SiameseScorer } from '../../inference/embedder.js';
import { createMethod } from '../../training/methods/index.js';
import type { MethodName, MethodOptions } from '../../training/methods/method.js';
import { createOptimizer } from '../../training/optimizer.js';
import { Rng } from '../../util/random.js';
import { createDistance } from '../../distances/create_distance.js';
import { auc } from '../../verification/metrics.js';
import { faceEncoder, faceModelMetadata, saveFaceModel } from './model.js';
import { DESCRIPTOR_DIM, FacePipeline } from './pipeline.js';

export interface AdapterOptions {
  method: MethodName;
  methodOptions: MethodOptions;
  steps: number;
  lr: number;
  seed: number;
  /** Fraction of the people held out to pick the best step (verification AUC); 0: no validation. */
  valFraction: number;
  valEvery: number;
  outDir: string;
  /** Recorded in fewshot.json. */
  notes?: Record<string, unknown>;
  log?: (line: string) => void;
}

export interface AdapterResult {
  modelDir: string;
  steps: number;
  bestStep: number;
  /** Held-out people's verification with the raw descriptors and with the best adapter (null without validation). */
  rawValidation: Quality | null;
  bestValidation: Quality | null;
  elapsedSeconds: number;
}

/** Trains and saves an adapter on a face dataset (aligned crops, as loadImageDataset gives for a face model). */
export async function trainFaceAdapter(ds: ImageDataset, opts: AdapterOptions): Promise<AdapterResult> {
  const t0 = Date.now();
  const log = opts.log ?? (() => {});
  const pipeline = await FacePipeline.load();
  const raw = SiameseScorer.fromFaceEncoder(faceEncoder(pipeline, null), faceModelMetadata());
  const split = opts.valFraction > 0 ? splitByClass(ds, { validationFraction: opts.valFraction, seed: opts.seed }) : { train: ds, validation: null };
  const train = split.train;
  // The frozen part, once: one descriptor per training image.
  const descriptors = tf.tensor2d(concat(raw.embedFlat(train.pixels, train.size)), [train.size, DESCRIPTOR_DIM]);
  const adapter = tfl.sequential({
    layers: [tfl.layers.dense({ inputShape: [DESCRIPTOR_DIM], units: DESCRIPTOR_DIM, kernelInitializer: 'identity', biasInitializer: 'zeros', name: 'face_adapter' })],
  });
  const method = createMethod(opts.method, adapter, opts.methodOptions);
  if (method.score !== 'negative-distance') throw new Error(`the face adapter needs an embedding method (triplet, contrastive, protonet), not '${opts.method}'`);
  const meta = (training: Record<string, unknown>) => faceModelMetadata({
    method: opts.method, embeddingDim: DESCRIPTOR_DIM, distance: method.distance ?? 'euclidean', training,
  });
  const optimizer = createOptimizer({ name: 'adam', lr: opts.lr });
  const rng = new Rng(opts.seed);
  const classIndices = train.indicesByClass();
  // "Images" of the method's batches are descriptor rows: the adapter's input.
  const rows = (idx: Int32Array) => tf.gather(descriptors, idx) as unknown as tf.Tensor4D;
  // Validation people's descriptors, also once; every pair of them is scored at each validation.
  const val = split.validation;
  const valDescriptors = val ? tf.tensor2d(concat(raw.embedFlat(val.pixels, val.size)), [val.size, DESCRIPTOR_DIM]) : null;
  const distance = createDistance(method.distance ?? 'euclidean');
  // Held-out people's verification: AUC, and d' (separation of genuine and impostor distances, in
  // pooled standard deviations) to rank steps when AUC saturates at 1 (it does on AT&T).
  const validate = (withAdapter: boolean): Quality | null => {
    if (!val || !valDescriptors) return null;
    const d = tf.tidy(() => distance.pairwise(...twice(withAdapter ? (adapter.predict(valDescriptors) as tf.Tensor2D) : valDescriptors)));
    const all = d.dataSync();
    d.dispose();
    const genuine: number[] = [];
    const impostor: number[] = [];
    for (let i = 0; i < val.size; i++) {
      for (let j = i + 1; j < val.size; j++) (val.labels[i] === val.labels[j] ? genuine : impostor).push(-all[i * val.size + j]!);
    }
    return { auc: auc({ genuine, impostor, direction: 'higher-is-same' }), dPrime: dPrime(genuine, impostor) };
  };
  const rawAuc = validate(false);
  let best = { step: 0, quality: rawAuc, weights: adapter.getWeights().map((w) => w.clone()) };
  if (rawAuc !== null) log(`raw descriptors: validation AUC ${rawAuc.auc.toFixed(4)}, d' ${rawAuc.dPrime.toFixed(2)} on ${split.validation!.numClasses} held-out people`);
  for (let step = 1; step <= opts.steps; step++) {
    const batch = method.sample(classIndices, rng, train.classGroups);
    const loss = optimizer.minimize(() => method.loss(batch, rows), true) as tf.Scalar;
    const value = loss.dataSync()[0]!;
    loss.dispose();
    if (!Number.isFinite(value)) throw new Error(`adapter training diverged at step ${step} (loss ${value})`);
    if (step % opts.valEvery === 0 || step === opts.steps) {
      const vAuc = validate(true);
      log(`step ${step}: loss ${value.toFixed(4)}${vAuc !== null ? `, validation AUC ${vAuc.auc.toFixed(4)}, d' ${vAuc.dPrime.toFixed(2)}` : ''}`);
      if (vAuc === null || better(vAuc, best.quality!)) {
        best.weights.forEach((w) => w.dispose());
        best = { step, quality: vAuc, weights: adapter.getWeights().map((w) => w.clone()) };
      }
    }
  }
  adapter.setWeights(best.weights);
  best.weights.forEach((w) => w.dispose());
  tf.dispose([descriptors, ...(valDescriptors ? [valDescriptors] : [])]);
  optimizer.dispose();
  const elapsedSeconds = (Date.now() - t0) / 1000;
  await saveFaceModel(opts.outDir, meta({
    ...opts.notes, ...method.settings, steps: opts.steps, bestStep: best.step, lr: opts.lr, seed: opts.seed,
    trainPeople: train.numClasses, trainImages: train.size, validationPeople: split.validation?.numClasses ?? 0,
    rawValidation: rawAuc, bestValidation: best.quality, elapsedSeconds,
  }), adapter);
  adapter.dispose();
  return { modelDir: opts.outDir, steps: opts.steps, bestStep: best.step, rawValidation: rawAuc, bestValidation: best.quality, elapsedSeconds };
}

export interface Quality {
  auc: number;
  dPrime: number;
}

const better = (a: Quality, b: Quality) => a.auc > b.auc || (a.auc === b.auc && a.dPrime > b.dPrime);

/** (mean impostor - mean genuine) / pooled standard deviation, on similarity scores. */
function dPrime(genuine: number[], impostor: number[]): number {
  const stats = (xs: number[]) => {
    const m = xs.reduce((a, b) => a + b, 0) / xs.length;
    return { m, v: xs.reduce((a, b) => a + (b - m) ** 2, 0) / xs.length };
  };
  const g = stats(genuine), i = stats(impostor);
  return (g.m - i.m) / Math.sqrt((g.v + i.v) / 2 || 1e-12);
}

const twice = <T>(x: T): [T, T] => [x, x];

function concat(rows: Float32Array[]): Float32Array {
  const out = new Float32Array(rows.length * DESCRIPTOR_DIM);
  rows.forEach((r, i) => out.set(r, i * DESCRIPTOR_DIM));
  return out;
}
