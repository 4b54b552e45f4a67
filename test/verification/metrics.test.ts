import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  rocCurve, auc, equalErrorRate, operatingPointAtFar, tarAtFar, statsAtThreshold, summarize,
  type LabelledScores,
} from '../../src/verification/metrics.js';
import { Rng } from '../../src/util/random.js';

const close = (a: number, b: number, eps = 1e-9) => assert.ok(Math.abs(a - b) <= eps, `${a} != ${b}`);

// Worked by hand: sorted scores 0.9G 0.8G 0.7I 0.4G 0.3I 0.2I 0.1I.
const hand: LabelledScores = { genuine: [0.9, 0.8, 0.4], impostor: [0.7, 0.3, 0.2, 0.1], direction: 'higher-is-same' };

test('ROC of a small score list matches the hand-computed curve', () => {
  const roc = rocCurve(hand);
  const pts = roc.map((p) => [p.far, p.tar]);
  const want = [[0, 0], [0, 1 / 3], [0, 2 / 3], [0.25, 2 / 3], [0.25, 1], [0.5, 1], [0.75, 1], [1, 1]];
  assert.equal(pts.length, want.length);
  pts.forEach((p, i) => { close(p[0]!, want[i]![0]!); close(p[1]!, want[i]![1]!); });
  assert.equal(roc[0]!.threshold, Infinity);
  assert.deepEqual(roc.slice(1).map((p) => p.threshold), [0.9, 0.8, 0.7, 0.4, 0.3, 0.2, 0.1]);
});

test('AUC equals the fraction of genuine > impostor pairs (11 of 12 here)', () => {
  close(auc(hand), 11 / 12);
});

test('AUC counts ties as one half', () => {
  // 0.5 vs 0.5 twice (ties: 1/2 each), 0.5 vs 0.1 twice (wins): (0.5 + 1 + 0.5 + 1) / 4.
  close(auc({ genuine: [0.5, 0.5], impostor: [0.5, 0.1], direction: 'higher-is-same' }), 0.75);
});

test('EER and its threshold on the hand-computed list', () => {
  const e = equalErrorRate(hand);
  // FAR + TAR - 1 changes sign on the vertical segment at FAR = 1/4 (TAR 2/3 -> 1).
  close(e.eer, 0.25);
  // Best operating point: accept >= 0.4 (FAR 1/4, FRR 0); threshold midway to the next score 0.3.
  close(e.threshold, 0.35);
  close(e.far, 0.25);
  close(e.frr, 0);
});

test('EER interpolates along a diagonal (tied) segment', () => {
  close(equalErrorRate({ genuine: [0.6], impostor: [0.6], direction: 'higher-is-same' }).eer, 0.5);
  // Perfect separation: zero EER, AUC 1.
  const sep: LabelledScores = { genuine: [3, 4], impostor: [1, 2], direction: 'higher-is-same' };
  close(equalErrorRate(sep).eer, 0);
  close(auc(sep), 1);
  close(equalErrorRate(sep).threshold, 2.5);
});

test('distances (lower = same) give the same curve with thresholds in distance units', () => {
  const dist: LabelledScores = {
    genuine: [0.1, 0.2, 0.6], impostor: [0.3, 0.7, 0.8, 0.9], direction: 'lower-is-same',
  };
  close(auc(dist), 11 / 12);
  const e = equalErrorRate(dist);
  close(e.eer, 0.25);
  close(e.threshold, 0.65); // accept distance <= 0.65
  const s = statsAtThreshold(dist, 0.65);
  close(s.far, 0.25);
  close(s.frr, 0);
  close(s.accuracy, 6 / 7);
});

test('TAR at FAR picks the most lenient point within the FAR budget', () => {
  const p = operatingPointAtFar(hand, 0);
  close(p.tar, 2 / 3);
  close(p.far, 0);
  close(p.threshold, 0.75);
  assert.equal(p.underResolved, true);
  close(tarAtFar(hand, 0.25), 1);
  close(tarAtFar(hand, 0.2), 2 / 3);
  const st = statsAtThreshold(hand, p.threshold);
  close(st.far, 0);
  close(st.frr, 1 / 3);
  close(st.accuracy, 6 / 7);
  close(st.balancedAccuracy, (1 + 2 / 3) / 2);
});

test('bad inputs are rejected with a clear message', () => {
  assert.throws(() => auc({ genuine: [], impostor: [1], direction: 'higher-is-same' }), /genuine/);
  assert.throws(() => auc({ genuine: [1], impostor: [], direction: 'higher-is-same' }), /impostor/);
  assert.throws(() => auc({ genuine: [NaN], impostor: [1], direction: 'higher-is-same' }), /finite/);
  assert.throws(() => operatingPointAtFar(hand, 2), /FAR/);
  assert.throws(() => auc({ genuine: [1], impostor: [1], direction: 'up' as never }), /direction/);
});

function gaussianScores(rng: Rng, n: number, mean: number): number[] {
  return Array.from({ length: n }, () => mean + rng.normal());
}

test('threshold calibrated for a target FAR hits it on held-out synthetic scores', () => {
  const rng = new Rng(1234);
  // Impostors ~ N(0,1), genuine ~ N(2.5,1): FAR 1e-2 is reached at z = 2.326, EER at 1.25.
  const calib: LabelledScores = { genuine: gaussianScores(rng, 5000, 2.5), impostor: gaussianScores(rng, 20000, 0), direction: 'higher-is-same' };
  const test_: LabelledScores = { genuine: gaussianScores(rng, 5000, 2.5), impostor: gaussianScores(rng, 20000, 0), direction: 'higher-is-same' };
  for (const target of [1e-2, 1e-3]) {
    const p = operatingPointAtFar(calib, target);
    assert.ok(p.far <= target, `calibration FAR ${p.far} over target ${target}`);
    assert.ok(p.far >= target * 0.95, `calibration FAR ${p.far} wastes the budget ${target}`);
    const held = statsAtThreshold(test_, p.threshold);
    assert.ok(Math.abs(held.far - target) <= target * 0.35, `held-out FAR ${held.far} vs target ${target}`);
  }
  close(operatingPointAtFar(calib, 1e-2).threshold, 2.326, 0.1);
  const s = summarize(calib);
  close(s.eer, 0.1056, 0.01); // Phi(-1.25)
  close(s.eerThreshold, 1.25, 0.08);
  close(s.auc, 0.9615, 0.01); // Phi(2.5 / sqrt 2)
  assert.equal(s.farUnderResolved['1e-3'], false);
  // Same data as distances: identical numbers, negated thresholds.
  const neg = (a: ArrayLike<number>) => Array.from(a, (v) => -v);
  const d = summarize({ genuine: neg(calib.genuine), impostor: neg(calib.impostor), direction: 'lower-is-same' });
  close(d.auc, s.auc);
  close(d.eer, s.eer);
  close(d.thresholdAtFar1e2, -s.thresholdAtFar1e2);
});
