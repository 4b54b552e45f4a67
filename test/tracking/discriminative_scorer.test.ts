/**
 * DiscriminativeScorer: the Siamese map plus a first-frame filter on the same features, one
 * backbone pass. Without a context it is SiamFCScorer exactly; with one it tracks, leaks nothing,
 * and tracker folders switch it on with `filterWeight`.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../../src/backend/select.js';
import { DiscriminativeScorer, discriminativeOptions } from '../../src/tracking/discriminative_scorer.js';
import { loadTracker } from '../../src/tracking/loaded_tracker.js';
import { saveTrackingModel } from '../../src/tracking/model_io.js';
import { runTrackers } from '../../src/tracking/run.js';
import { SiamFCScorer } from '../../src/tracking/scorers.js';
import { loadSequence } from '../../src/tracking/sequence.js';
import { EncoderSiamNetwork } from '../../src/tracking/siam_network.js';
import { buildSiamFC, DEFAULT_SIAMFC, type SiamFCConfig } from '../../src/tracking/siamfc_model.js';
import { SIAMFC_PARAMS, type TrackerParams } from '../../src/tracking/tracker.js';
import { Rng } from '../../src/util/random.js';
import { makeFrames, writeSequence } from './synthetic.js';

before(async () => {
  await selectBackend('cpu', { quiet: true });
});

const CFG: SiamFCConfig = { ...DEFAULT_SIAMFC, channels: [4, 6, 6, 4], seed: 5 };
const crop = (size: number, seed: number) => {
  const rng = new Rng(seed);
  return new Float32Array(size * size * 3).map(() => rng.next());
};

type Sample = { features: tf.Tensor4D; label: tf.Tensor4D; residual: tf.Tensor4D };

test('without a context it scores exactly as SiamFCScorer; with one, the filter moves the maps; nothing leaks', () => {
  const network = new EncoderSiamNetwork(buildSiamFC(CFG));
  const { exemplarSize: E, searchSize: S } = SIAMFC_PARAMS;
  const plain = new SiamFCScorer(network);
  const disc = new DiscriminativeScorer(network, { weight: 1, lambda: 0.1, sigmaFactor: 0.1 });
  const z = crop(E, 1);
  const xs = [crop(S, 2), crop(S, 3)];
  plain.setExemplar(z, E);
  disc.setExemplar(z, E);
  assert.deepEqual(disc.score(xs, S), plain.score(xs, S));
  disc.setContext(crop(S, 9), S, { w: 30, h: 40 });
  // Counted once a filter is held: a new context replaces it, nothing more may stay.
  const tensors = tf.memory().numTensors;
  for (let i = 0; i < 3; i++) {
    disc.setContext(crop(S, 10 + i), S, { w: 30, h: 40 });
    const { maps, size } = disc.score(xs, S);
    assert.equal(maps.length, 2);
    assert.equal(size, plain.score(xs, S).size);
    assert.ok(maps.every((m) => m.every(Number.isFinite)));
  }
  assert.notDeepEqual(disc.score(xs, S).maps, plain.score(xs, S).maps);
  assert.equal(tf.memory().numTensors, tensors, 'tensors leaked by setContext / score');
  // Online: a tracked frame refines the filter (the maps move away from the first-frame filter's),
  // and the sample memory stays bounded.
  const online = new DiscriminativeScorer(network, { weight: 1, lambda: 0.1, sigmaFactor: 0.1, rate: 0.3 });
  const firstOnly = new DiscriminativeScorer(network, { weight: 1, lambda: 0.1, sigmaFactor: 0.1, rate: 0 });
  for (const sc of [online, firstOnly]) {
    sc.setExemplar(z, E);
    sc.setContext(crop(S, 20), S, { w: 30, h: 40 });
  }
  assert.deepEqual(online.score(xs, S), firstOnly.score(xs, S));
  online.observe(1, 8, -4);
  assert.notDeepEqual(online.score(xs, S), firstOnly.score(xs, S));
  const held = tf.memory().numTensors;
  for (let i = 0; i < 12; i++) {
    online.score(xs, S);
    online.observe(0, i, 0);
  }
  assert.ok(tf.memory().numTensors - held <= 3 * 7, 'the online memory grows past its 8 samples');
  // Each sample's residual was carried through 12 refinements by linearity (never recomputed):
  // it must still be conv(features, filter) - label.
  const inner = online as unknown as { filter: tf.Tensor4D; first: Sample; recent: Sample[] };
  for (const q of [inner.first, ...inner.recent]) {
    const off = tf.tidy(() => tf.max(tf.abs(tf.sub(q.residual, tf.sub(tf.conv2d(q.features, inner.filter, 1, 'valid'), q.label)))).dataSync()[0]!);
    assert.ok(off < 1e-4, `a carried residual is off by ${off}`);
  }
  assert.throws(() => {
    online.score(xs, S);
    online.observe(5, 0, 0);
  }, /observe: crop 5 of 2/);
  // Sparse refinement (every: 3): samples join every frame, the filter moves on the third.
  const sparse = new DiscriminativeScorer(network, { weight: 1, lambda: 0.1, sigmaFactor: 0.1, rate: 0.3, every: 3 });
  sparse.setExemplar(z, E);
  sparse.setContext(crop(S, 20), S, { w: 30, h: 40 });
  for (let i = 0; i < 2; i++) {
    sparse.score(xs, S);
    sparse.observe(1, 8, -4);
  }
  assert.deepEqual(sparse.score(xs, S), firstOnly.score(xs, S), 'refined before its third frame');
  sparse.observe(1, 8, -4);
  assert.notDeepEqual(sparse.score(xs, S), firstOnly.score(xs, S), 'not refined on its third frame');
  sparse.dispose();
  // Gated: after the first frame, a frame far below the mean confidence teaches nothing.
  const gated = new DiscriminativeScorer(network, { weight: 1, lambda: 0.1, sigmaFactor: 0.1, rate: 0.3, gate: 1e6 });
  gated.setExemplar(z, E);
  gated.setContext(crop(S, 20), S, { w: 30, h: 40 });
  gated.score(xs, S);
  gated.observe(1, 8, -4);
  const afterFirst = gated.score(xs, S);
  for (let i = 0; i < 3; i++) {
    gated.observe(1, 8, -4);
    gated.score(xs, S);
  }
  assert.deepEqual(gated.score(xs, S), afterFirst, 'a rejected frame changed the filter');
  assert.notDeepEqual(afterFirst, firstOnly.score(xs, S), 'the first tracked frame was not learned');
  gated.dispose();
  online.dispose();
  firstOnly.dispose();
  // setExemplar forgets the old context: plain maps again.
  disc.setExemplar(z, E);
  assert.deepEqual(disc.score(xs, S), plain.score(xs, S));
  assert.throws(() => disc.setContext(crop(S, 4), S, { w: 0, h: 10 }), /target size 0x10 must be positive/);
  assert.throws(() => new DiscriminativeScorer(network, { weight: 1, lambda: 0, sigmaFactor: 0.1 }), /lambda must be a finite number > 0/);
  plain.dispose();
  disc.dispose();
  network.dispose();
});

test('tracker folders: filterWeight switches the filter on for every network; it tracks a moving object without leaking', async () => {
  const root = mkdtempSync(join(tmpdir(), 'fewshot-filter-tracker-'));
  const params: TrackerParams = { ...SIAMFC_PARAMS, filterWeight: 2 };
  const model = buildSiamFC(CFG);
  await saveTrackingModel(root, model, { format: 'fewshot-tracker/1', network: CFG, params, createdAt: 'now' });
  model.dispose();
  const tracker = await loadTracker(root);
  const scorer = tracker.scorer();
  assert.ok(scorer instanceof DiscriminativeScorer);
  // The same folder without the filter, for comparisons and timing.
  const without = tracker.scorer({ ...params, filterWeight: 0 });
  assert.ok(without instanceof SiamFCScorer);
  without.dispose();
  const { frames, boxes } = makeFrames({ frames: 10, seed: 31 });
  const seq = await loadSequence(writeSequence(frames, boxes, { name: 'Filtered' }));
  const tensors = tf.memory().numTensors;
  const [run] = runTrackers(seq, [{ name: 'filtered', scorer, params }]);
  assert.equal(tf.memory().numTensors, tensors, 'tensors leaked while tracking');
  assert.equal(run!.scores.precision20, 1, `precision@20 ${run!.scores.precision20}`);
  tracker.dispose();

  // A fused folder with the filter: every member learns it (FusedScorer forwards the context).
  const fusedDir = join(root, 'fused');
  for (const [m, seed] of [['a', 6], ['b', 7]] as const) {
    const net = buildSiamFC({ ...CFG, seed });
    await saveTrackingModel(join(fusedDir, m), net, { format: 'fewshot-tracker/1', network: { ...CFG, seed }, params, createdAt: 'now' });
    net.dispose();
  }
  writeFileSync(join(fusedDir, 'tracker.json'), JSON.stringify({ format: 'fewshot-tracker/1', network: { kind: 'fused', members: [{ dir: 'a', weight: 0.5 }, { dir: 'b', weight: 0.5 }] }, params, createdAt: 'now' }));
  const fusedTracker = await loadTracker(fusedDir);
  const fusedScorer = fusedTracker.scorer();
  assert.match(fusedScorer.name, /^fused\(siamfc\+filter\/4:0\.5,siamfc\+filter\/4:0\.5\)$/);
  const before = tf.memory().numTensors;
  const [fusedRun] = runTrackers(seq, [{ name: 'fused', scorer: fusedScorer, params }]);
  assert.equal(tf.memory().numTensors, before, 'tensors leaked while tracking (fused)');
  assert.equal(fusedRun!.scores.precision20, 1, `fused precision@20 ${fusedRun!.scores.precision20}`);
  fusedTracker.dispose();

  // Online: every tracked frame refines the filter; 14 frames overflow the sample memory (8).
  const onlineDir = join(root, 'online');
  const onlineParams: TrackerParams = { ...params, filterRate: 0.3 };
  const net = buildSiamFC(CFG);
  await saveTrackingModel(onlineDir, net, { format: 'fewshot-tracker/1', network: CFG, params: onlineParams, createdAt: 'now' });
  net.dispose();
  const onlineTracker = await loadTracker(onlineDir);
  const long = makeFrames({ frames: 14, seed: 32 });
  const longSeq = await loadSequence(writeSequence(long.frames, long.boxes, { name: 'Online' }));
  const firstOnly = await loadTracker(root);
  const beforeOnline = tf.memory().numTensors;
  const [onlineRun, firstRun] = runTrackers(longSeq, [
    { name: 'online', scorer: onlineTracker.scorer(), params: onlineParams },
    { name: 'first frame', scorer: firstOnly.scorer(), params },
  ]);
  assert.equal(tf.memory().numTensors, beforeOnline, 'tensors leaked while tracking (online)');
  assert.equal(onlineRun!.scores.precision20, 1, `online precision@20 ${onlineRun!.scores.precision20}`);
  assert.equal(firstRun!.scores.precision20, 1);
  onlineTracker.dispose();
  firstOnly.dispose();

  assert.deepEqual(discriminativeOptions(SIAMFC_PARAMS), null);
  assert.deepEqual(discriminativeOptions({ ...SIAMFC_PARAMS, filterWeight: 0 }), null);
  assert.deepEqual(discriminativeOptions({ ...SIAMFC_PARAMS, filterWeight: 3, filterLambda: 0.5 }), { weight: 3, lambda: 0.5, sigmaFactor: 0.1, rate: 0, every: 1, steps: 2, gate: 0 });
  for (const [bad, error] of [
    [{ filterWeight: -1 }, /tracker\.json: discriminative filter: weight must be a finite number/],
    [{ filterWeight: 1, filterSigma: Number.NaN }, /tracker\.json: discriminative filter: sigmaFactor must be a finite number > 0 .*got null/],
    [{ filterWeight: 1, filterRate: 1 }, /tracker\.json: discriminative filter: rate must be below 1, got 1/],
    [{ filterWeight: 1, filterRate: 0.1, filterEvery: 2.5 }, /tracker\.json: discriminative filter: every must be a whole number of frames, got 2\.5/],
    [{ filterWeight: 1, filterRate: 0.1, filterSteps: 0 }, /tracker\.json: discriminative filter: steps must be a finite number > 0/],
    [{ filterWeight: 1, filterRate: 0.1, filterSteps: 1.5 }, /tracker\.json: discriminative filter: steps must be a whole number, got 1\.5/],
    [{ filterWeight: 1, templateRate: 0.01 }, /tracker\.json: the discriminative filter \(filterWeight\) and the online template options cannot be combined/],
  ] as const) {
    const dir = mkdtempSync(join(tmpdir(), 'fewshot-filter-bad-'));
    const m = buildSiamFC(CFG);
    await saveTrackingModel(dir, m, { format: 'fewshot-tracker/1', network: CFG, params: { ...SIAMFC_PARAMS, ...bad }, createdAt: 'now' });
    m.dispose();
    await assert.rejects(loadTracker(dir), error);
  }
});
