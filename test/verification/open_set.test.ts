import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../../src/backend/select.js';
import { FewShotClassifier, UNKNOWN } from '../../src/inference/few_shot_classifier.js';
import { evaluateOpenSet, calibrateOpenSetThreshold } from '../../src/verification/open_set.js';
import { Rng } from '../../src/util/random.js';
import { embeddingScorer, patternDataset, patternImage } from './helpers.js';

before(async () => {
  await selectBackend('cpu', { quiet: true });
});

// 12 generated classes of 6 images; identity (flatten) embeddings: same class = noise apart.
const ds = patternDataset(12, 6, 5);

test('predict answers unknown for a class absent from the support set (calibrated threshold)', () => {
  const scorer = embeddingScorer();
  const embeddings = scorer.embedFlat(ds.pixels, ds.size);
  const byClass = ds.indicesByClass();
  const cal = calibrateOpenSetThreshold(scorer, embeddings, byClass, { way: 4, unknownWay: 4, shot: 2, query: 3, episodes: 20, seed: 1 }, 'eer', 'generated patterns');
  const clf = new FewShotClassifier(scorer, { threshold: cal.threshold.value });
  clf.fitEmbeddings(['c0', 'c1', 'c2'], [0, 1, 2].map((c) => byClass[c]!.slice(0, 2).map((i) => embeddings[i]!)));
  const rng = new Rng(99);
  const px = [patternImage(1, rng), patternImage(7, rng), patternImage(10, rng)];
  const preds = clf.predict(px);
  assert.equal(preds[0]!.label, 'c1');
  assert.equal(preds[0]!.unknown, false);
  assert.equal(preds[1]!.label, UNKNOWN);
  assert.equal(preds[2]!.label, UNKNOWN);
  assert.equal(preds[1]!.unknown, true);
});

test('open-set evaluation: high accuracy with the calibrated threshold, no rejection without one', () => {
  const scorer = embeddingScorer();
  const embeddings = scorer.embedFlat(ds.pixels, ds.size);
  const byClass = ds.indicesByClass();
  const opts = { way: 4, unknownWay: 4, shot: 2, query: 3, episodes: 30, seed: 3 };
  const cal = calibrateOpenSetThreshold(scorer, embeddings, byClass, opts, 'eer', 'generated patterns');
  const start = tf.memory().numTensors;
  const open = evaluateOpenSet(scorer, embeddings, byClass, { ...opts, seed: 4, threshold: cal.threshold.value });
  assert.equal(tf.memory().numTensors, start, 'no tensor leak over episodes');
  assert.ok(open.openSetAccuracy > 0.95, `open-set accuracy ${open.openSetAccuracy}`);
  assert.ok(open.unknownRejection > 0.95, `unknown rejection ${open.unknownRejection}`);
  assert.equal(open.closedSetAccuracy, 1);
  assert.equal(open.knownBestScores.length, 30 * 4 * 3);
  assert.equal(open.unknownBestScores.length, 30 * 4 * 3);
  const closed = evaluateOpenSet(scorer, embeddings, byClass, { ...opts, seed: 4, threshold: null });
  assert.equal(closed.unknownRejection, 0);
  assert.equal(closed.openSetAccuracy, 0.5); // every known query right, every unknown one wrong
  // An absurdly strict threshold rejects everything: known accuracy drops to 0.
  const strict = evaluateOpenSet(scorer, embeddings, byClass, { ...opts, seed: 4, threshold: 1 });
  assert.equal(strict.knownAccuracy, 0);
  assert.equal(strict.unknownRejection, 1);
});

test('open-set evaluation refuses impossible episode shapes', () => {
  const scorer = embeddingScorer();
  const embeddings = scorer.embedFlat(ds.pixels, ds.size);
  assert.throws(() => evaluateOpenSet(scorer, embeddings, ds.indicesByClass(), { way: 8, unknownWay: 8, shot: 1, query: 1, episodes: 1, seed: 0 }), /needs 8 classes/);
  assert.throws(() => evaluateOpenSet(scorer, embeddings, ds.indicesByClass(), { way: 0, unknownWay: 1, shot: 1, query: 1, episodes: 1, seed: 0 }), /positive integer/);
});
