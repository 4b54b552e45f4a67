/**
 * A loaded model's embeddings are the same whichever engine computes them (TF.js, the compiled
 * native plan, ONNX Runtime), and repeated embedding leaks no tensors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../../src/backend/select.js';
import { loadOnnxRuntime } from '../../src/backend/onnx/runtime.js';
import { loadNativeAddon } from '../../src/backend/native/addon.js';
import { SiameseScorer } from '../../src/inference/embedder.js';
import { setInferenceEngine } from '../../src/inference/native_runners.js';
import { loadScorer } from '../../src/inference/load.js';
import { loadModel } from '../../src/models/io.js';

const MODEL = 'models/omniglot';

function pixels(n: number, size: number, seed: number): Uint8Array[] {
  let s = seed;
  return Array.from({ length: n }, () => Uint8Array.from({ length: size }, () => ((s = (s * 1103515245 + 12345) >>> 0) >>> 24)));
}

async function embedWith(engine: 'auto' | 'onnx' | 'tfjs', backend: 'native' | 'cpu', images: Uint8Array[]): Promise<{ runner: string; emb: Float32Array[] }> {
  await selectBackend(backend, { quiet: true });
  setInferenceEngine(engine);
  try {
    const scorer = await loadScorer(MODEL);
    return { runner: scorer.runner.engine, emb: scorer.embed(images) };
  } finally {
    setInferenceEngine('auto');
  }
}

function maxDiff(a: Float32Array[], b: Float32Array[]): number {
  let d = 0;
  a.forEach((row, i) => row.forEach((v, j) => (d = Math.max(d, Math.abs(v - b[i]![j]!)))));
  return d;
}

test('loaded models embed identically on TF.js cpu, the native plan and ONNX Runtime', async (t) => {
  const images = pixels(6, 28 * 28, 1);
  const ref = await embedWith('auto', 'cpu', images);
  assert.equal(ref.runner, 'tfjs');
  if (loadNativeAddon().addon) {
    const plan = await embedWith('auto', 'native', images);
    assert.equal(plan.runner, 'native-plan');
    assert.ok(maxDiff(plan.emb, ref.emb) <= 1e-4, `native plan differs by ${maxDiff(plan.emb, ref.emb)}`);
  } else t.diagnostic('native addon not built: plan not checked');
  if (loadOnnxRuntime().ort) {
    const onnx = await embedWith('onnx', 'cpu', images);
    assert.equal(onnx.runner, 'onnx');
    assert.ok(maxDiff(onnx.emb, ref.emb) <= 1e-4, `ONNX Runtime differs by ${maxDiff(onnx.emb, ref.emb)}`);
  } else t.diagnostic('onnxruntime-node missing: onnx not checked');
});

test('a model that may still train is never compiled (its weights would go stale)', async () => {
  await selectBackend(loadNativeAddon().addon ? 'native' : 'cpu', { quiet: true });
  const { model, meta } = await loadModel(MODEL);
  assert.equal(SiameseScorer.fromModel(model, meta).runner.engine, 'tfjs');
  await selectBackend('cpu', { quiet: true });
});

test('embedding repeatedly keeps the tensor count flat', async () => {
  await selectBackend(loadNativeAddon().addon ? 'native' : 'cpu', { quiet: true });
  const scorer = await loadScorer(MODEL);
  const images = pixels(3, 28 * 28, 2);
  scorer.embed(images);
  const before = tf.memory().numTensors;
  for (let i = 0; i < 3; i++) scorer.embed(images);
  assert.equal(tf.memory().numTensors, before);
  await selectBackend('cpu', { quiet: true });
});
