import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../../src/backend/select.js';
import { loadTrackingModel, saveTrackingModel, TUNED_BACKBONE_BIN } from '../../src/tracking/model_io.js';
import { DEFAULT_PRETRAINED, PretrainedSiamNetwork, pretrainedGeometry, scorePairs, type PretrainedSiamConfig } from '../../src/tracking/siam_network.js';
import { SIAMFC_PARAMS } from '../../src/tracking/tracker.js';
import { trainSiamFC } from '../../src/tracking/train.js';
import { curateFrame, StillPairSource, VideoPairSource, type PairGeometry } from '../../src/tracking/training_pairs.js';
import { makeFrames } from './synthetic.js';

await selectBackend('cpu', { quiet: true });

const config: PretrainedSiamConfig = { ...DEFAULT_PRETRAINED, backbone: 'centernet-s4x', channels: 8, seed: 3, fineTune: { rateFactor: 0.1 } };
const { stride, scoreSize } = pretrainedGeometry(config);
const geom: PairGeometry = { exemplarSize: 64, searchSize: 128, context: 0.5, stride, scoreSize };

test('fine-tuning trains the backbone copy at the lower rate, leaves the shared graph alone, and saves / loads', async () => {
  const { frames, boxes } = makeFrames({ frames: 6, seed: 31 });
  const video = new VideoPairSource([frames.map((f, i) => curateFrame(f, boxes[i]!, geom))], geom, { maxGap: 3 });
  const stills = new StillPairSource(frames.map((image, i) => ({ image, boxes: [boxes[i]!] })), geom);
  const crops = tf.randomUniform([1, 64, 64, 3], 0, 1, 'float32', 5) as tf.Tensor4D;
  const search = tf.randomUniform([1, 128, 128, 3], 0, 1, 'float32', 6) as tf.Tensor4D;
  const frozen = PretrainedSiamNetwork.create({ ...config, fineTune: undefined });
  const frozenBefore = frozen.backbone.features(crops);
  const before = tf.memory().numTensors;

  const net = PretrainedSiamNetwork.create(config);
  const tuned = net.fineTuned!;
  assert.equal(tuned.rateFactor, 0.1);
  const names = Object.keys(tuned.variables);
  assert.ok(names.length >= 2 && names.every((n) => net.backbone.spec.tunable!.some((p) => n.startsWith(p))), names.join(', '));
  const initial = Object.fromEntries(names.map((n) => [n, tuned.variables[n]!.clone()]));
  const adjustBefore = net.model.getLayer('adjust').getWeights()[0]!.clone();
  trainSiamFC(net, { video, stills }, geom, { steps: 2, batchSize: 1, learningRate: 1e-2, finalLearningRate: 1e-2, videoFraction: 0.5, labelRadius: 8, seed: 1 });
  // Adam moves each weight by about the rate per step: ~1e-2 for the head, ~1e-3 for the backbone.
  const moved = (a: tf.Tensor | (() => tf.Tensor), b: tf.Tensor) => tf.tidy(() => tf.max(tf.abs(tf.sub(typeof a === 'function' ? a() : a, b))).dataSync()[0]!);
  const headStep = moved(net.model.getLayer('adjust').getWeights()[0]!, adjustBefore);
  const backboneStep = Math.max(...names.map((n) => moved(tuned.variables[n]!, initial[n]!)));
  assert.ok(backboneStep > 0, 'the fine-tuned backbone weights did not move');
  assert.ok(backboneStep < headStep / 3, `backbone moved ${backboneStep}, head ${headStep}: the lower rate is not applied`);
  // The graph's own constants are untouched: a frozen network still gives the same features.
  assert.equal(moved(() => frozen.backbone.features(crops), frozenBefore), 0);
  assert.ok(moved(() => net.backbone.features(crops), frozenBefore) > 0);

  const dir = mkdtempSync(join(tmpdir(), 'fewshot-trk-ft-'));
  try {
    await saveTrackingModel(dir, net.model, { format: 'fewshot-tracker/1', network: config, params: SIAMFC_PARAMS, createdAt: 'test' }, tuned.variables);
    const { network: loaded, meta } = await loadTrackingModel(dir);
    assert.deepEqual(meta.tunedBackbone!.map((w) => w.name).sort(), [...names].sort());
    const a = scorePairs(net, crops, search);
    const b = scorePairs(loaded, crops, search);
    assert.equal(moved(a, b), 0, 'the loaded model scores differently');
    tf.dispose([a, b]);
    loaded.dispose();
    rmSync(join(dir, TUNED_BACKBONE_BIN));
    await assert.rejects(loadTrackingModel(dir), /backbone\.bin: missing/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  net.dispose();
  tf.dispose([...Object.values(initial), adjustBefore]);
  assert.equal(tf.memory().numTensors, before, 'fine-tuning leaked tensors');
  frozen.dispose();
  tf.dispose([crops, search, frozenBefore]);
});
