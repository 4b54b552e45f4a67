import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../../src/backend/select.js';
import { loadSequence } from '../../src/tracking/sequence.js';
import { cosineWindow, upsample } from '../../src/tracking/response.js';
import { runTrackers } from '../../src/tracking/run.js';
import { NccScorer, SiamFCScorer } from '../../src/tracking/scorers.js';
import { buildSiamFC, DEFAULT_SIAMFC } from '../../src/tracking/siamfc_model.js';
import { DEFAULT_PRETRAINED, EncoderSiamNetwork, PretrainedSiamNetwork } from '../../src/tracking/siam_network.js';
import { loadTracker } from '../../src/tracking/loaded_tracker.js';
import { SiamTracker, SIAMFC_PARAMS, type ResponseScorer, type TrackerParams } from '../../src/tracking/tracker.js';
import { evaluateTracking } from '../../src/tracking/evaluate.js';
import { writeTrackingReport } from '../../src/tracking/report.js';
import { makeFrames, writeSequence } from './synthetic.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';

// The fastest backend present (native oneDNN when built, else wasm): the full-size shipped model
// on the pure-JS cpu backend would make this file slow.
await selectBackend('auto', { quiet: true });

test('score-map helpers: upsampling keeps corners, the window peaks at the centre and sums to 1', () => {
  const m = new Float32Array([0, 1, 2, 3, 4, 5, 6, 7, 8]);
  const u = upsample(m, 3, 5);
  assert.deepEqual([u[0], u[4], u[20], u[24], u[12]], [0, 2, 6, 8, 4]);
  const w = cosineWindow(5);
  assert.ok(Math.abs(w.reduce((a, b) => a + b, 0) - 1) < 1e-6);
  assert.equal(w.indexOf(Math.max(...w)), 12);
});

test('the NCC tracker follows a synthetic moving object (same search strategy as SiamFC)', () => {
  const { frames, boxes } = makeFrames({ frames: 14, seed: 11 });
  const tracker = new SiamTracker(new NccScorer(), SIAMFC_PARAMS);
  tracker.init(frames[0]!, boxes[0]!);
  for (let i = 1; i < frames.length; i++) {
    const b = tracker.update(frames[i]!);
    const err = Math.hypot(b.x + b.w / 2 - (boxes[i]!.x + 8), b.y + b.h / 2 - (boxes[i]!.y + 8));
    assert.ok(err < 4, `frame ${i}: centre error ${err.toFixed(1)} px`);
  }
  tracker.dispose();
});

test('the SiamFC tracker follows the object from a generated sequence folder, without leaking tensors', async () => {
  const { frames, boxes } = makeFrames({ frames: 12, seed: 12 });
  const seq = await loadSequence(writeSequence(frames, boxes, { name: 'Moving' }));
  // The shipped model when present; otherwise an untrained one (random conv features still
  // match a high-contrast pattern, which is what this test checks: crops, search and box update).
  for (const shipped of [join('models', 'tracking'), join('models', 'tracking-small')]) {
    let model: { scorer(): ResponseScorer; meta: { params: TrackerParams }; dispose(): void };
    if (existsSync(join(shipped, 'tracker.json'))) model = await loadTracker(shipped); // models/tracking: a fused tracker
    else {
      const network = new EncoderSiamNetwork(buildSiamFC({ ...DEFAULT_SIAMFC, channels: [8, 12, 12, 8], seed: 3 }));
      model = { scorer: () => new SiamFCScorer(network), meta: { params: SIAMFC_PARAMS }, dispose: () => network.dispose() };
    }
    const { meta } = model;
    const scorer = model.scorer();
    const before = tf.memory().numTensors;
    const [run] = runTrackers(seq, [{ name: 'siamfc', scorer, params: meta.params }]);
    assert.equal(tf.memory().numTensors, before, `${shipped}: tensors leaked while tracking`);
    assert.equal(run!.boxes.length, 12);
    assert.ok(run!.scores.precision20 === 1, `${shipped}: precision@20 ${run!.scores.precision20}`);
    assert.ok(run!.scores.auc > 0.5, `${shipped}: success AUC ${run!.scores.auc}`);
    assert.ok(run!.fps > 0);
    model.dispose();
  }
});

test('evaluation reports both trackers and writes the HTML report with plots and strips', async () => {
  const { frames, boxes } = makeFrames({ frames: 6, seed: 13, width: 96, height: 72 });
  const root = mkdtempSync(join(tmpdir(), 'fewshot-trk-eval-'));
  writeSequence(frames, boxes, { name: 'A', root });
  const seq = await loadSequence(join(root, 'A'));
  const small = new EncoderSiamNetwork(buildSiamFC({ ...DEFAULT_SIAMFC, channels: [4, 6, 6, 4], seed: 1 }));
  // An untrained head on the vendored backbone: exercises the pretrained path end to end.
  const pretrained = PretrainedSiamNetwork.create({ ...DEFAULT_PRETRAINED, channels: 8, seed: 1 });
  const { summary, results } = evaluateTracking(
    [seq],
    [
      { name: 'siamfc-pretrained', scorer: () => new SiamFCScorer(pretrained), params: { ...SIAMFC_PARAMS, exemplarSize: 64, searchSize: 128 } },
      { name: 'siamfc-small', scorer: () => new SiamFCScorer(small), params: SIAMFC_PARAMS },
    ],
    { stripFrames: 3 },
  );
  assert.deepEqual(Object.keys(summary.sequences), ['A']);
  assert.deepEqual(Object.keys(summary.trackers).sort(), ['siamfc-pretrained', 'siamfc-small']);
  assert.equal(summary.trackers['siamfc-pretrained']!.meanAuc, summary.meanAuc);
  assert.ok(Number.isInteger(summary.failures) && summary.decodeSeconds >= 0);
  assert.equal(summary.baseline.method, 'ncc');
  assert.ok(summary.baseline.meanPrecision20 > 0.8);
  for (const v of [summary.meanAuc, summary.meanPrecision20, summary.fps]) assert.ok(Number.isFinite(v));
  const path = await writeTrackingReport(join(root, 'report'), summary, results);
  const html = readFileSync(path, 'utf8');
  assert.match(html, /<svg/);
  assert.match(html, /Success plot/);
  assert.match(html, /data:image\/png;base64/);
  assert.ok(existsSync(join(root, 'report', 'strip_A.png')));
  assert.match(html, /SiamFC, pretrained backbone/);
  assert.match(html, /SiamFC, small encoder/);
  assert.ok(!/https?:\/\//.test(html.replace(/<svg[\s\S]*?<\/svg>/g, '')), 'report must not reference the network');
  small.dispose();
  pretrained.dispose();
});
