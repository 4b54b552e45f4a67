import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../../src/backend/select.js';
import { apce, ConfidenceGate } from '../../src/tracking/confidence.js';
import { cropResize } from '../../src/tracking/crop.js';
import { secondaryPeaks } from '../../src/tracking/response.js';
import { NccScorer, SiamFCScorer } from '../../src/tracking/scorers.js';
import { buildSiamFC, DEFAULT_SIAMFC } from '../../src/tracking/siamfc_model.js';
import { EncoderSiamNetwork } from '../../src/tracking/siam_network.js';
import { TemplateMemory } from '../../src/tracking/template_memory.js';
import { SiamTracker, SIAMFC_PARAMS, type ResponseScorer, type TrackerParams } from '../../src/tracking/tracker.js';
import { makeFrames } from './synthetic.js';

await selectBackend('auto', { quiet: true });

/** A size x size map of Gaussian bumps [x, y, height]. */
function bumps(size: number, peaks: [number, number, number][]): Float32Array {
  const m = new Float32Array(size * size);
  for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) for (const [px, py, h] of peaks) m[y * size + x]! += h * Math.exp(-((x - px) ** 2 + (y - py) ** 2) / 2);
  return m;
}

/** Centre errors of a tracker over a generated sequence (object 16 px). */
function track(params: TrackerParams, frames: ReturnType<typeof makeFrames>, scorer: ResponseScorer = new NccScorer()): { errors: number[]; tracker: SiamTracker } {
  const tracker = new SiamTracker(scorer, params);
  tracker.init(frames.frames[0]!, frames.boxes[0]!);
  const errors = frames.frames.slice(1).map((f, i) => {
    const b = tracker.update(f);
    const t = frames.boxes[i + 1]!;
    return Math.hypot(b.x + b.w / 2 - (t.x + t.w / 2), b.y + b.h / 2 - (t.y + t.h / 2));
  });
  return { errors, tracker };
}

test('APCE: one sharp peak scores higher than two peaks or a flat map; the gate compares with the mean so far', () => {
  const sharp = bumps(17, [[8, 8, 1]]);
  const two = bumps(17, [[4, 8, 1], [12, 8, 0.9]]);
  assert.ok(apce(sharp) > 1.5 * apce(two), `${apce(sharp)} vs ${apce(two)}`);
  assert.equal(apce(new Float32Array(9).fill(3)), 0);
  // Scale- and offset-free.
  assert.ok(Math.abs(apce(sharp.map((v) => 5 * v - 2)) - apce(sharp)) < 1e-3 * apce(sharp));
  const gate = new ConfidenceGate(0.7);
  assert.equal(gate.accept(two), true, 'the first frame has nothing to compare with');
  for (let i = 0; i < 5; i++) assert.equal(gate.accept(sharp), true);
  assert.equal(gate.accept(two), false);
  assert.equal(new ConfidenceGate(0).accept(new Float32Array(9)), true);
  assert.throws(() => new ConfidenceGate(-1), /ratio/);
});

test('secondary peaks: local maxima above the relative threshold, highest first, the excluded one left out', () => {
  const m = bumps(15, [[3, 3, 1], [10, 10, 0.8], [11, 2, 0.3]]);
  const all = secondaryPeaks(m, 15, { minRelative: 0.5, max: 5 });
  assert.deepEqual(all.map((p) => [p.x, p.y]), [[3, 3], [10, 10]]);
  assert.ok(Math.abs(all[0]!.relative - 1) < 1e-6 && all[1]!.relative > 0.7 && all[1]!.relative < 0.85);
  const others = secondaryPeaks(m, 15, { minRelative: 0.2, max: 5, exclude: (x, y) => Math.abs(x - 3) <= 2 && Math.abs(y - 3) <= 2 });
  assert.deepEqual(others.map((p) => [p.x, p.y]), [[10, 10], [11, 2]]);
  assert.equal(secondaryPeaks(m, 15, { minRelative: 0.2, max: 1 }).length, 1);
  assert.deepEqual(secondaryPeaks(new Float32Array(25), 5, { minRelative: 0.1, max: 3 }), [], 'a flat map has no peaks');
});

test('template memory: running-average update, decayed distractor mean subtracted, bad sizes rejected', () => {
  const mem = new TemplateMemory(new Float32Array([1, 1]), { rate: 0.5, distractorWeight: 0.5, distractorDecay: 0.5 });
  mem.updateTarget(new Float32Array([3, 3]));
  assert.deepEqual([...mem.template()], [2, 2]);
  mem.addDistractor(new Float32Array([1, 0]));
  assert.deepEqual([...mem.template()], [1.5, 2]);
  mem.age(); // the first distractor now weighs 0.5
  assert.deepEqual([...mem.template()], [1.5, 2], 'ageing alone keeps the mean');
  mem.addDistractor(new Float32Array([0, 1]));
  const t = mem.template();
  assert.ok(Math.abs(t[0]! - (2 - (0.5 * 0.5) / 1.5)) < 1e-6 && Math.abs(t[1]! - (2 - 0.5 / 1.5)) < 1e-6, `${[...t]}`);
  assert.throws(() => mem.updateTarget(new Float32Array(3)), /3 features/);
  assert.throws(() => new TemplateMemory(new Float32Array(2), { rate: 2, distractorWeight: 0, distractorDecay: 0 }), /rate/);
});

test('scorers: a template set from its features scores as setExemplar, and scores are linear in the template', () => {
  const { frames, boxes } = makeFrames({ frames: 2, seed: 31 });
  const f = frames[0]!;
  const b = boxes[0]!;
  const z = cropResize(f, b.x + 8, b.y + 8, 32, 63);
  const z2 = cropResize(f, b.x + 30, b.y + 8, 32, 63);
  const x = [cropResize(f, b.x + 10, b.y + 8, 64, 127)];
  const net = new EncoderSiamNetwork(buildSiamFC({ ...DEFAULT_SIAMFC, channels: [4, 6, 6, 4], seed: 2 }));
  for (const scorer of [new NccScorer(), new SiamFCScorer(net)]) {
    const before = tf.memory().numTensors;
    scorer.setExemplar(z, 63);
    const direct = scorer.score(x, 127).maps[0]!;
    const a = scorer.embedTemplate(z, 63);
    const c = scorer.embedTemplate(z2, 63);
    scorer.setTemplate(a);
    const viaFeatures = scorer.score(x, 127).maps[0]!;
    scorer.setTemplate(c);
    const mapC = scorer.score(x, 127).maps[0]!;
    scorer.setTemplate(a.map((v, i) => v - 0.5 * c[i]!));
    const combined = scorer.score(x, 127).maps[0]!;
    scorer.setTemplate(new Float32Array(a.length));
    const bias = scorer.score(x, 127).maps[0]!; // the response to a zero template: the head's bias
    const tol = 1e-3 * Math.max(...direct.map(Math.abs));
    direct.forEach((v, i) => assert.ok(Math.abs(v - viaFeatures[i]!) <= tol, `${scorer.name} cell ${i}`));
    combined.forEach((v, i) => {
      const expected = viaFeatures[i]! - 0.5 * mapC[i]! + 0.5 * bias[i]!;
      assert.ok(Math.abs(v - expected) <= tol, `${scorer.name} linearity at cell ${i}: ${v} vs ${expected}`);
    });
    assert.throws(() => scorer.setTemplate(new Float32Array(5)), /template/);
    scorer.dispose();
    assert.equal(tf.memory().numTensors, before, `${scorer.name}: tensors leaked`);
  }
  net.dispose();
});

test('confidence-gated template update follows an object whose appearance changes; the first-frame template loses it', () => {
  const seq = makeFrames({ frames: 24, seed: 21, morph: true });
  const fixed = track(SIAMFC_PARAMS, seq).errors;
  const updated = track({ ...SIAMFC_PARAMS, templateRate: 0.3, updateGate: 0.7 }, seq);
  assert.ok(Math.max(...fixed.slice(-5)) > 15, `without update the tracker should lose the morphed object: ${fixed.map((e) => e.toFixed(0))}`);
  assert.ok(Math.max(...updated.errors) < 4, `with update: ${updated.errors.map((e) => e.toFixed(0))}`);
  const stats = updated.tracker.online!.stats;
  assert.ok(stats.confident > 0 && stats.confident <= stats.frames, JSON.stringify(stats));
  updated.tracker.dispose();
});

test('distractor-aware template: the look-alike response drops against the target, and tracking with it stays on the target', () => {
  // A look-alike (40% of its pixels re-drawn) moves with the object, 26 px to its right.
  const seq = makeFrames({ frames: 14, seed: 41, lookAlike: { dx: 26, dy: 0, changed: 0.4 } });
  const f = seq.frames[0]!;
  const [cx, cy] = [seq.boxes[0]!.x + 8, seq.boxes[0]!.y + 8];
  // Crops at frame scale (1 px = 1 map cell): exemplar 21 px around each, search 97 px around the object.
  const ncc = new NccScorer();
  const z = ncc.embedTemplate(cropResize(f, cx, cy, 21, 21), 21);
  const d = ncc.embedTemplate(cropResize(f, cx + 26, cy, 21, 21), 21);
  const search = [cropResize(f, cx, cy, 97, 97)];
  const peakRatio = (template: Float32Array) => {
    ncc.setTemplate(template);
    const { maps, size } = ncc.score(search, 97);
    const at = (x: number, y: number) => Math.max(...[-1, 0, 1].flatMap((dy) => [-1, 0, 1].map((dx) => maps[0]![(y + dy) * size + x + dx]!)));
    const c = (size - 1) / 2;
    return at(c + 26, c) / at(c, c);
  };
  const plain = peakRatio(z);
  const aware = peakRatio(z.map((v, i) => v - 0.5 * d[i]!));
  assert.ok(plain > 0.4, `the look-alike should respond to the plain template: ${plain}`);
  assert.ok(aware < 0.5 * plain, `distractor-aware ratio ${aware.toFixed(3)} vs plain ${plain.toFixed(3)}`);
  ncc.dispose();
  // In the tracker, with the look-alike adjacent (inside the search region).
  const near = makeFrames({ frames: 14, seed: 41, lookAlike: { dx: 17, dy: 0, changed: 0.4 } });
  const run = track({ ...SIAMFC_PARAMS, distractorWeight: 0.5, distractorThreshold: 0.3, updateGate: 0 }, near);
  assert.ok(run.tracker.online!.stats.distractors > 0, 'the look-alike should be picked up as a distractor');
  assert.ok(Math.max(...run.errors) < 4, `errors ${run.errors.map((e) => e.toFixed(0))}`);
  run.tracker.dispose();
});

test('online options: clear errors for a scorer without template access and for bad values; no tensor leaks', () => {
  const bare = { name: 'bare', stride: 1, setExemplar() {}, score: () => ({ maps: [], size: 0 }), dispose() {} };
  assert.throws(() => new SiamTracker(bare, { ...SIAMFC_PARAMS, templateRate: 0.1 }), /cannot update its template/);
  assert.throws(() => new SiamTracker(new NccScorer(), { ...SIAMFC_PARAMS, distractorWeight: 0.5, distractorThreshold: 0 }), /distractorThreshold/);
  assert.throws(() => new SiamTracker(new NccScorer(), { ...SIAMFC_PARAMS, templateRate: 1.5 }).init(makeFrames({ frames: 1 }).frames[0]!, { x: 10, y: 10, w: 16, h: 16 }), /rate/);
  assert.equal(new SiamTracker(new NccScorer(), SIAMFC_PARAMS).online, null, 'off by default');
  const net = new EncoderSiamNetwork(buildSiamFC({ ...DEFAULT_SIAMFC, channels: [4, 6, 6, 4], seed: 3 }));
  const seq = makeFrames({ frames: 6, seed: 5, lookAlike: { dx: 17, dy: 0, changed: 0.4 } });
  const before = tf.memory().numTensors;
  const { tracker } = track({ ...SIAMFC_PARAMS, templateRate: 0.1, distractorWeight: 0.5, updateGate: 0 }, seq, new SiamFCScorer(net));
  tracker.dispose();
  assert.equal(tf.memory().numTensors, before, 'tensors leaked by the online template');
  net.dispose();
});
