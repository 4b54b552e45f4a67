/**
 * The shipped Omniglot model loads, and (when the shared Omniglot data is present) still
 * recognises characters of the held-out validation alphabets one-shot.
 */
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { selectBackend } from '../../src/backend/select.js';
import { loadImageDataset } from '../../src/data/dataset.js';
import { evaluateEpisodes } from '../../src/evaluation/episodes.js';
import { DEFAULT_MODEL_DIR, SIAMESE_MODEL_DIR } from '../../src/inference/default_model.js';
import { loadScorer } from '../../src/inference/load.js';
import { FewShotClassifier } from '../../src/inference/few_shot_classifier.js';
import { syntheticDataset } from '../training/synthetic_omniglot.js';

// The fastest backend here (native when built): the accuracy check embeds hundreds of images.
await selectBackend('auto', { quiet: true });
const ZIP = join('..', 'shared', 'data', 'omniglot', 'images_background.zip');

test('the shipped model loads with its metadata, threshold and held-out alphabets', async () => {
  const scorer = await loadScorer(DEFAULT_MODEL_DIR);
  assert.deepEqual(scorer.inputShape, [28, 28, 1]);
  assert.equal(typeof scorer.meta.threshold?.value, 'number');
  const groups = scorer.meta.training?.['validationGroups'] as string[];
  assert.equal(groups.length, 6);
  // Generated characters: the model ranks every support class for every query.
  const ds = syntheticDataset({ alphabets: 1, charactersPerAlphabet: 4, drawers: 2 });
  const clf = new FewShotClassifier(scorer, { threshold: null }).fit(
    [0, 1, 2, 3].map((c) => ({ label: `c${c}`, images: [ds.imagePixels(2 * c)] })),
  );
  const predictions = clf.predict([0, 1, 2, 3].map((c) => ds.imagePixels(2 * c + 1)));
  assert.equal(predictions.length, 4);
  for (const p of predictions) assert.equal(p.ranked.length, 4);
});

test('one-shot accuracy on the held-out validation alphabets (shared data)', { skip: !existsSync(ZIP) && 'no ../shared/data here' }, async () => {
  const scorer = await loadScorer(DEFAULT_MODEL_DIR);
  const groups = scorer.meta.training?.['validationGroups'] as string[];
  const ds = await loadImageDataset(ZIP, { preprocess: scorer.meta.preprocess, groups });
  const r = evaluateEpisodes(scorer, ds, { way: 20, shot: 1, query: 1, episodes: 20, seed: 5, groups: 'any' });
  // validation.json reports about 90% over 400 episodes; 20 episodes are noisier.
  assert.ok(r.accuracy > 0.75, `20-way 1-shot accuracy ${r.accuracy}`);
});

test('similarity on an embedding model leaks no tensor', async () => {
  const scorer = await loadScorer(DEFAULT_MODEL_DIR);
  const ds = syntheticDataset({ alphabets: 1, charactersPerAlphabet: 3, drawers: 2 });
  const [a, b, c] = scorer.embed([0, 1, 2].map((i) => ds.imagePixels(i)));
  scorer.similarity(a!, [b!, c!]); // warm-up: lazily created state
  const before = tf.memory().numTensors;
  for (let i = 0; i < 5; i++) scorer.similarity(a!, [b!, c!]);
  assert.equal(tf.memory().numTensors, before);
});

test('the shipped Siamese pair model scores pairs with its head\'s probability', async () => {
  const scorer = await loadScorer(SIAMESE_MODEL_DIR);
  assert.equal(scorer.meta.method, 'pair');
  assert.equal(scorer.meta.score, 'pair-probability');
  assert.deepEqual(scorer.inputShape, [28, 28, 1]);
  assert.equal(typeof scorer.meta.threshold?.value, 'number');
  const ds = syntheticDataset({ alphabets: 1, charactersPerAlphabet: 3, drawers: 2 });
  const [a, b, c] = scorer.embed([0, 1, 2].map((i) => ds.imagePixels(i)));
  const sims = scorer.similarity(a!, [a!, b!, c!]);
  for (const p of sims) assert.ok(p >= 0 && p <= 1, `probability ${p}`);
  assert.ok(sims[0]! > 0.9, `an image against itself: ${sims[0]}`);
  const before = tf.memory().numTensors;
  for (let i = 0; i < 3; i++) scorer.similarity(a!, [b!, c!]);
  assert.equal(tf.memory().numTensors, before);
});

test('Siamese one-shot accuracy on the held-out validation alphabets (shared data)', { skip: !existsSync(ZIP) && 'no ../shared/data here' }, async () => {
  const scorer = await loadScorer(SIAMESE_MODEL_DIR);
  const groups = scorer.meta.training?.['validationGroups'] as string[];
  assert.equal(groups.length, 6);
  const ds = await loadImageDataset(ZIP, { preprocess: scorer.meta.preprocess, groups });
  const r = evaluateEpisodes(scorer, ds, { way: 20, shot: 1, query: 1, episodes: 20, seed: 5, groups: 'any' });
  // validation.json reports about 90% over 400 episodes; 20 episodes are noisier.
  assert.ok(r.accuracy > 0.75, `20-way 1-shot accuracy ${r.accuracy}`);
});
