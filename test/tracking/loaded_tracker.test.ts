/**
 * Tracker folders load as scorer factories: one network, or a fused tracker of member folders
 * (tracker.json `network.kind: "fused"`), with clear errors for bad fused folders.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../../src/backend/select.js';
import { exportModelDirToOnnx } from '../../src/export/onnx/model_dir.js';
import { FusedScorer } from '../../src/tracking/fused_scorer.js';
import { loadTracker } from '../../src/tracking/loaded_tracker.js';
import { loadTrackingModel, saveTrackingModel, type TrackerMetadata } from '../../src/tracking/model_io.js';
import { runTrackers } from '../../src/tracking/run.js';
import { SiamFCScorer } from '../../src/tracking/scorers.js';
import { loadSequence } from '../../src/tracking/sequence.js';
import { buildSiamFC, DEFAULT_SIAMFC, type SiamFCConfig } from '../../src/tracking/siamfc_model.js';
import { SIAMFC_PARAMS } from '../../src/tracking/tracker.js';
import { makeFrames, writeSequence } from './synthetic.js';

before(async () => {
  await selectBackend('cpu', { quiet: true });
});

const root = mkdtempSync(join(tmpdir(), 'fewshot-fused-tracker-'));

/** A small untrained SiamFC saved as a tracking model folder. */
async function member(dir: string, seed: number, params = SIAMFC_PARAMS): Promise<void> {
  const cfg: SiamFCConfig = { ...DEFAULT_SIAMFC, channels: [4, 6, 6, 4], seed };
  const model = buildSiamFC(cfg);
  await saveTrackingModel(dir, model, { format: 'fewshot-tracker/1', network: cfg, params, createdAt: 'now' });
  model.dispose();
}

function fused(dir: string, members: { dir: string; weight: number }[], params = SIAMFC_PARAMS): string {
  mkdirSync(dir, { recursive: true });
  const meta: TrackerMetadata = { format: 'fewshot-tracker/1', network: { kind: 'fused', members }, params, createdAt: 'now' };
  writeFileSync(join(dir, 'tracker.json'), JSON.stringify(meta));
  return dir;
}

test('a fused tracker folder tracks like one tracker, over both member networks, without leaking tensors', async () => {
  const dir = join(root, 'fused');
  await member(join(dir, 'a'), 1);
  await member(join(dir, 'b'), 2);
  fused(dir, [{ dir: 'a', weight: 0.5 }, { dir: 'b', weight: 0.5 }]);
  const tracker = await loadTracker(dir);
  assert.equal(tracker.networks.length, 2);
  const { frames, boxes } = makeFrames({ frames: 8, seed: 21 });
  const seq = await loadSequence(writeSequence(frames, boxes, { name: 'Fused' }));
  const scorer = tracker.scorer();
  assert.ok(scorer instanceof FusedScorer);
  const tensors = tf.memory().numTensors;
  const [run] = runTrackers(seq, [{ name: 'fused', scorer, params: tracker.meta.params }]);
  assert.equal(tf.memory().numTensors, tensors, 'tensors leaked while tracking');
  assert.equal(run!.boxes.length, 8);
  tracker.dispose();

  await assert.rejects(loadTrackingModel(dir), /a fused tracker \(several networks\): load it with loadTracker/);
  await assert.rejects(exportModelDirToOnnx(dir), /ONNX export covers the layers-model tracker .*not a fused tracker/);
  // A member alone is a one-network tracker.
  const one = await loadTracker(join(dir, 'a'));
  assert.ok(one.scorer() instanceof SiamFCScorer);
  one.dispose();
});

test('bad fused folders: clear errors naming tracker.json or the member, no network left loaded', async () => {
  const cases: [string, { dir: string; weight: number }[], RegExp][] = [
    ['negative', [{ dir: 'a', weight: -1 }, { dir: 'a', weight: 1 }], /bad-negative.tracker\.json: FusedScorer: weights must be finite and >= 0/],
    ['one', [{ dir: 'a', weight: 1 }], /needs at least 2 members/],
    ['outside', [{ dir: 'a', weight: 1 }, { dir: '../bad/a', weight: 1 }], /member folder \.\.\/bad\/a is outside the tracker's folder/],
    ['missing', [{ dir: 'a', weight: 1 }, { dir: 'nope', weight: 1 }], /nope.model\.json: missing/],
    ['geometry', [{ dir: 'a', weight: 1 }, { dir: 'wide', weight: 1 }], /searchSize 159, the fused tracker searches with 127: members must share the crop geometry/],
    ['online', [{ dir: 'a', weight: 1 }, { dir: 'a', weight: 1 }], /bad-online.tracker\.json: the online template options .* a fused tracker cannot use them/],
  ];
  for (const [name] of cases) {
    const d = join(root, `bad-${name}`);
    await member(join(d, 'a'), 3);
    if (name === 'geometry') await member(join(d, 'wide'), 4, { ...SIAMFC_PARAMS, searchSize: 159 });
  }
  // Counted after the folders are written: only the loads below must leave nothing behind.
  const tensors = tf.memory().numTensors;
  for (const [name, members, error] of cases) {
    const params = name === 'online' ? { ...SIAMFC_PARAMS, templateRate: 0.01 } : SIAMFC_PARAMS;
    await assert.rejects(loadTracker(fused(join(root, `bad-${name}`), members, params)), error, name);
  }
  assert.equal(tf.memory().numTensors, tensors, 'a failed load left networks in memory');
});
