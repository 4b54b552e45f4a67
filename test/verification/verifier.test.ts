import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../../src/backend/select.js';
import { Verifier } from '../../src/verification/verifier.js';
import { allPairs, sampledPairs, pairSimilarities, splitScores, MAX_ALL_IMPOSTOR_PAIRS } from '../../src/verification/pairs.js';
import { calibrateThreshold, parseCalibrationTarget, writeThreshold } from '../../src/verification/calibration.js';
import { evaluatePairs, pairEvaluationJson } from '../../src/verification/evaluate.js';
import { scoreKindOf, similarityToScore, scoreToSimilarity } from '../../src/verification/score_kind.js';
import { Rng } from '../../src/util/random.js';
import { embeddingScorer, pairScorer, patternDataset, patternImage, SIDE } from './helpers.js';

before(async () => {
  await selectBackend('cpu', { quiet: true });
});

const image = (px: Uint8Array) => ({ width: SIDE, height: SIDE, channels: 1 as const, data: px });

test('embedding model: the score is a distance, lower = same, threshold in distance units', () => {
  const rng = new Rng(1);
  const a = patternImage(0, rng);
  const b = patternImage(0, rng);
  const c = patternImage(5, rng);
  // Given threshold 2.0 in distance units (pixels / 255): same class ~ noise only, other class far.
  const v = new Verifier(embeddingScorer(), { threshold: 2.0 });
  assert.equal(v.kind, 'distance');
  const same = v.verifyImages(image(a), image(b));
  const diff = v.verifyImages(image(a), image(c));
  assert.equal(same.scoreKind, 'distance');
  assert.equal(same.direction, 'lower-is-same');
  assert.ok(same.score >= 0 && same.score < 2, `same-class distance ${same.score}`);
  assert.ok(diff.score > 2, `different-class distance ${diff.score}`);
  assert.equal(same.same, true);
  assert.equal(diff.same, false);
  assert.equal(same.threshold, 2.0);
  // The distance is the real euclidean distance of the flattened pixels / 255.
  let d2 = 0;
  for (let i = 0; i < a.length; i++) d2 += ((a[i]! - c[i]!) / 255) ** 2;
  assert.ok(Math.abs(diff.score - Math.sqrt(d2)) < 1e-4);
});

test('embedding model without a stored threshold gives a score but no decision', () => {
  const v = new Verifier(embeddingScorer());
  const rng = new Rng(2);
  const r = v.verifyImages(image(patternImage(1, rng)), image(patternImage(1, rng)));
  assert.equal(r.same, null);
  assert.equal(r.threshold, null);
  assert.ok(Number.isFinite(r.score));
});

test('stored threshold (similarity units) is shown in distance units and used', () => {
  const v = new Verifier(embeddingScorer(SIDE, { threshold: { value: -1.5, source: 'test', far: 0.01 } }));
  const r = v.decide(-1.2); // distance 1.2 <= 1.5
  assert.equal(r.threshold, 1.5);
  assert.equal(r.score, 1.2);
  assert.equal(r.same, true);
  assert.equal(v.decide(-1.6).same, false);
  assert.equal(r.thresholdSource, 'test');
});

test('pair-head model: the score is a probability, higher = same, default threshold 0.5', () => {
  const v = new Verifier(pairScorer());
  assert.equal(v.kind, 'probability');
  const rng = new Rng(3);
  const r = v.verifyImages(image(patternImage(0, rng)), image(patternImage(3, rng)));
  assert.equal(r.direction, 'higher-is-same');
  assert.ok(r.score > 0 && r.score < 1);
  assert.equal(r.threshold, 0.5);
  assert.match(r.thresholdSource!, /default/);
  assert.equal(r.same, r.score >= 0.5);
  const strict = new Verifier(pairScorer(), { threshold: 0.99 });
  assert.equal(strict.decide(0.98).same, false);
  assert.equal(strict.decide(0.995).same, true);
});

test('score conversions round-trip and reject unknown score types', () => {
  assert.equal(similarityToScore(-3, 'distance'), 3);
  assert.equal(scoreToSimilarity(3, 'distance'), -3);
  assert.equal(similarityToScore(0.7, 'probability'), 0.7);
  assert.throws(() => scoreKindOf({ score: 'cosine-ish' }), /unknown score type/);
  assert.throws(() => new Verifier(embeddingScorer(), { threshold: NaN }), /finite/);
  assert.throws(() => new Verifier(embeddingScorer()).decide(NaN), /non-finite/);
});

test('all pairs: every same-class pair and every impostor pair, once', () => {
  const labels = [0, 0, 0, 1, 1, 2];
  const p = allPairs(labels);
  const gen = Array.from(p.same).filter((s) => s === 1).length;
  assert.equal(gen, 3 + 1);
  assert.equal(p.same.length, 15); // C(6,2)
  for (let k = 0; k < p.left.length; k++) {
    assert.ok(p.left[k]! < p.right[k]!);
    assert.equal(p.same[k], labels[p.left[k]!] === labels[p.right[k]!] ? 1 : 0);
  }
  assert.equal(p.sampled, false);
  assert.throws(() => allPairs([0, 0, 0]), /2 classes/);
  assert.throws(() => allPairs([0, 1, 2]), /no class has 2 images/);
  assert.ok(MAX_ALL_IMPOSTOR_PAIRS >= 10_000);
});

test('sampled pairs: N genuine + N impostor, seeded', () => {
  const labels = Array.from({ length: 40 }, (_, i) => i % 8);
  const a = sampledPairs(labels, 50, 7);
  const b = sampledPairs(labels, 50, 7);
  assert.deepEqual(a, b);
  assert.equal(a.same.length, 100);
  for (let k = 0; k < 100; k++) {
    assert.notEqual(a.left[k], a.right[k]);
    assert.equal(labels[a.left[k]!] === labels[a.right[k]!], k < 50);
  }
  assert.throws(() => sampledPairs(labels, 0, 1), /positive integer/);
});

test('pair similarities score each pair with the scorer and split by truth', () => {
  const embeddings = [new Float32Array([0]), new Float32Array([1]), new Float32Array([3])];
  const pairs = { left: Int32Array.from([0, 0, 1]), right: Int32Array.from([1, 2, 2]), same: Uint8Array.from([1, 0, 0]), sampled: false };
  const sims = pairSimilarities(embeddings, pairs, (a, bs) => bs.map((b) => -Math.abs(a[0]! - b[0]!)));
  assert.deepEqual(Array.from(sims), [-1, -3, -2]);
  assert.deepEqual(splitScores(sims, pairs.same), { genuine: [-1], impostor: [-3, -2] });
});

test('evaluation on a generated class-folder set: separable classes give AUC 1 and EER 0', () => {
  const ds = patternDataset(6, 4, 11);
  const scorer = embeddingScorer();
  evaluatePairs(scorer, ds, { seed: 0, dataName: 'patterns' }); // warm-up: first predict builds layer state
  const before = tf.memory().numTensors;
  const e = evaluatePairs(scorer, ds, { seed: 0, dataName: 'patterns' });
  assert.equal(e.summary.genuinePairs, 6 * 6);
  assert.equal(e.summary.impostorPairs, (24 * 23) / 2 - 36);
  assert.equal(e.summary.auc, 1);
  assert.equal(e.summary.eer, 0);
  assert.equal(e.atCalibrated.accuracy, 1);
  const json = pairEvaluationJson(e);
  for (const k of ['auc', 'eer', 'tarAtFar1e2', 'tarAtFar1e3', 'threshold', 'accuracyAtThreshold']) assert.equal(typeof json[k], 'number', k);
  assert.equal(json.scoreKind, 'distance');
  assert.ok((json.threshold as number) > 0, 'distance threshold is positive');
  assert.equal(tf.memory().numTensors, before, 'no tensor leak');
});

test('calibration target parsing and threshold written into fewshot.json, other fields kept', () => {
  assert.equal(parseCalibrationTarget('eer'), 'eer');
  assert.equal(parseCalibrationTarget('0.01'), 0.01);
  assert.throws(() => parseCalibrationTarget('2'), /false accept rate/);
  const cal = calibrateThreshold([0.9, 0.8, 0.4], [0.7, 0.3, 0.2, 0.1], 'eer', 'hand list');
  assert.ok(Math.abs(cal.threshold.value - 0.35) < 1e-12);
  assert.match(cal.threshold.source, /^eer on hand list \(3 genuine \/ 4 impostor pairs\)$/);
  const dir = mkdtempSync(join(tmpdir(), 'fewshot-cal-'));
  try {
    assert.throws(() => writeThreshold(dir, cal.threshold), /no fewshot.json/);
    writeFileSync(join(dir, 'fewshot.json'), JSON.stringify({ format: 'fewshot-model/1', method: 'pair', keep: [1, 2] }));
    writeThreshold(dir, cal.threshold);
    const meta = JSON.parse(readFileSync(join(dir, 'fewshot.json'), 'utf8'));
    assert.deepEqual(meta.keep, [1, 2]);
    assert.equal(meta.method, 'pair');
    assert.deepEqual(meta.threshold, cal.threshold);
    writeFileSync(join(dir, 'fewshot.json'), '{broken');
    assert.throws(() => writeThreshold(dir, cal.threshold), /not valid JSON/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
