/**
 * An ensemble is one layers model whose output is the members' unit-length embeddings side by
 * side: cosine on it is the mean of the members' cosines, it saves and loads like any model, and
 * every engine (TF.js, the native plan, ONNX Runtime) computes the same embeddings from it.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { selectBackend } from '../../src/backend/select.js';
import { loadNativeAddon } from '../../src/backend/native/addon.js';
import { loadOnnxRuntime, OrtSession } from '../../src/backend/onnx/runtime.js';
import { exportOnnx } from '../../src/export/onnx/export.js';
import { setInferenceEngine } from '../../src/inference/native_runners.js';
import { loadScorer } from '../../src/inference/load.js';
import { createEncoder } from '../../src/models/encoders/registry.js';
import { buildEnsembleModel, ensembleMembers } from '../../src/models/ensemble.js';
import { saveEnsembleOfModelDirs } from '../../src/models/ensemble_dirs.js';
import { loadModel, saveModel } from '../../src/models/io.js';
import { createMetadata } from '../../src/models/metadata.js';
import { buildPairModel } from '../../src/models/siamese.js';

let tmp = '';
before(async () => {
  await selectBackend('cpu', { quiet: true });
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'fewshot-ensemble-'));
});
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

const SHAPE: [number, number, number] = [28, 28, 1];
const PREPROCESS = { height: 28, width: 28, channels: 1 as const, invert: true };

/** Random batch-norm statistics, so that the members are not near-identity networks. */
function randomizeBatchNorm(model: tfl.LayersModel, seed: number): void {
  for (const layer of model.layers) {
    if (layer.getClassName() !== 'BatchNormalization') continue;
    layer.setWeights(layer.getWeights().map((w, i) => tf.randomUniform(w.shape, i === 3 ? 0.5 : -0.5, i === 3 ? 2 : 0.5, 'float32', seed + i)));
  }
}

function members(): tfl.LayersModel[] {
  const a = createEncoder('conv4', { seed: 1 });
  // A residual (functional) member beside a Sequential one: both are copied, saved and compiled.
  const b = createEncoder('resnet7', { seed: 2, embeddingDim: 16 });
  randomizeBatchNorm(a, 10);
  randomizeBatchNorm(b, 20);
  return [a, b];
}

function normalizedRows(x: tf.Tensor): number[][] {
  return (x.arraySync() as number[][]).map((row) => {
    const n = Math.sqrt(row.reduce((s, v) => s + v * v, 0));
    return row.map((v) => v / n);
  });
}

const dot = (a: number[], b: number[]) => a.reduce((s, v, i) => s + v * b[i]!, 0);

test('the ensemble outputs each member embedding at unit length; its cosine is the mean of the members\' cosines', () => {
  const [a, b] = members();
  const ensemble = buildEnsembleModel([a!, b!]);
  const x = tf.randomUniform([3, ...SHAPE], 0, 1, 'float32', 5);
  const got = (ensemble.predict(x) as tf.Tensor).arraySync() as number[][];
  const ea = normalizedRows(a!.predict(x) as tf.Tensor);
  const eb = normalizedRows(b!.predict(x) as tf.Tensor);
  got.forEach((row, i) => {
    const want = [...ea[i]!, ...eb[i]!];
    assert.equal(row.length, 64 + 16);
    row.forEach((v, j) => assert.ok(Math.abs(v - want[j]!) < 1e-5, `row ${i} value ${j}: ${v} vs ${want[j]}`));
  });
  const cos = (u: number[], v: number[]) => dot(u, v) / Math.sqrt(dot(u, u) * dot(v, v));
  const mean = (cos(ea[0]!, ea[1]!) + cos(eb[0]!, eb[1]!)) / 2;
  assert.ok(Math.abs(cos(got[0]!, got[1]!) - mean) < 1e-5, `ensemble cosine ${cos(got[0]!, got[1]!)} vs mean ${mean}`);
  assert.deepEqual(ensembleMembers(ensemble)?.map((m) => m.name), ['m1', 'm2']);
  assert.equal(ensembleMembers(a!), null, 'a plain encoder is not an ensemble');
  assert.throws(() => buildEnsembleModel([]), /at least one member/);
  assert.throws(() => buildEnsembleModel([a!, createEncoder('conv4', { inputShape: [32, 32, 1] })]), /member 2 takes 32x32x1 inputs/);
});

test('built from saved model folders (a pair model gives its encoder), it saves, loads and scores on every engine alike', async (t) => {
  const [a, b] = members();
  const dirA = path.join(tmp, 'triplet');
  const dirB = path.join(tmp, 'pair');
  const base = { encoder: 'conv4', inputShape: SHAPE, preprocess: PREPROCESS };
  const facts = { validationGroups: ['Greek', 'Hebrew'], trainClasses: 12 };
  await saveModel(dirA, a!, createMetadata({ ...base, method: 'triplet', embeddingDim: 64, score: 'negative-distance', distance: 'cosine', training: { ...facts, bestStep: 10, lr: 0.001 } }));
  await saveModel(dirB, buildPairModel(b!), createMetadata({ ...base, method: 'pair', embeddingDim: 16, score: 'pair-probability', training: { ...facts, bestStep: 20 } }));
  const out = path.join(tmp, 'ensemble');
  const meta = await saveEnsembleOfModelDirs([dirA, dirB], out);
  assert.equal(meta.distance, 'cosine');
  assert.equal(meta.embeddingDim, 80);
  const { members: infos, ...shared } = meta.training!;
  assert.deepEqual(shared, facts, 'the facts both members share, and only those');
  assert.deepEqual((infos as { model: string; score: string; bestStep: number }[]).map((m) => [m.model, m.score, m.bestStep]), [[dirA, 'negative-distance', 10], [dirB, 'pair-probability', 20]]);

  const x = tf.randomUniform([4, ...SHAPE], 0, 1, 'float32', 6);
  const want = [...normalizedRows(a!.predict(x) as tf.Tensor)].map((row, i) => [...row, ...normalizedRows(b!.predict(x) as tf.Tensor)[i]!]);
  const { model } = await loadModel(out);
  assert.equal(ensembleMembers(model)?.length, 2);
  const loaded = (model.predict(x) as tf.Tensor).arraySync() as number[][];
  loaded.forEach((row, i) => row.forEach((v, j) => assert.ok(Math.abs(v - want[i]![j]!) < 1e-5, `loaded row ${i} value ${j}`)));

  // Every engine: the scorer of the saved folder embeds preprocessed pixels the same way.
  const pixels = Array.from({ length: 4 }, (_, i) => Uint8Array.from({ length: 28 * 28 }, (_, j) => (i * 37 + j * 11) % 256));
  const embedWith = async (engine: 'auto' | 'onnx', backend: 'cpu' | 'native') => {
    await selectBackend(backend, { quiet: true });
    setInferenceEngine(engine);
    try {
      const scorer = await loadScorer(out);
      return { runner: scorer.runner.engine, emb: scorer.embed(pixels), scorer };
    } finally {
      setInferenceEngine('auto');
    }
  };
  const ref = await embedWith('auto', 'cpu');
  assert.equal(ref.runner, 'tfjs');
  const engines: ['auto' | 'onnx', 'cpu' | 'native', string][] = [];
  if (loadNativeAddon().addon) engines.push(['auto', 'native', 'native-plan']);
  else t.diagnostic('native addon not built: plan not checked');
  if (loadOnnxRuntime().ort) engines.push(['onnx', 'cpu', 'onnx']);
  else t.diagnostic('onnxruntime-node missing: onnx not checked');
  for (const [engine, backend, runner] of engines) {
    const other = await embedWith(engine, backend);
    assert.equal(other.runner, runner);
    other.emb.forEach((row, i) => row.forEach((v, j) => assert.ok(Math.abs(v - ref.emb[i]![j]!) <= 1e-4, `${runner} row ${i} value ${j}: ${v} vs ${ref.emb[i]![j]}`)));
    const before = tf.memory().numTensors;
    other.scorer.embed(pixels);
    assert.equal(tf.memory().numTensors, before, `${runner}: embedding leaks tensors`);
  }
  // The whole ensemble exported to ONNX (what `fewshot export` writes) computes the same.
  if (loadOnnxRuntime().ort) {
    const session = OrtSession.create(exportOnnx(model));
    const flat = Float32Array.from(x.dataSync());
    const onnx = session.run({ [session.inputNames[0]!]: { data: flat, dims: [4, ...SHAPE] } })[session.outputNames[0]!]!;
    assert.deepEqual(onnx.dims, [4, 80]);
    want.flat().forEach((v, i) => assert.ok(Math.abs(onnx.data[i]! - v) <= 1e-4, `exported ONNX value ${i}: ${onnx.data[i]} vs ${v}`));
  }
  await selectBackend('cpu', { quiet: true });
});

test('members that preprocess differently are refused, naming both folders', async () => {
  const dirC = path.join(tmp, 'plain');
  const dirD = path.join(tmp, 'not-inverted');
  const enc = createEncoder('conv4', { seed: 3 });
  const base = { method: 'triplet', encoder: 'conv4', inputShape: SHAPE, embeddingDim: 64, score: 'negative-distance' as const, distance: 'cosine' as const };
  await saveModel(dirC, enc, createMetadata({ ...base, preprocess: PREPROCESS }));
  await saveModel(dirD, enc, createMetadata({ ...base, preprocess: { ...PREPROCESS, invert: false } }));
  await assert.rejects(saveEnsembleOfModelDirs([dirC, dirD], path.join(tmp, 'bad')), new RegExp(`member ${dirD} preprocesses images as .* ${dirC} as`));
  assert.equal(fs.existsSync(path.join(tmp, 'bad')), false);
});
