import { test } from 'node:test';
import assert from 'node:assert/strict';
import { selectBackend } from '../../src/backend/select.js';
import { evaluateEpisodes, sampleEvaluationEpisodes } from '../../src/evaluation/episodes.js';
import { identityScorer } from '../inference/identity_scorer.js';
import { syntheticDataset } from '../training/synthetic_omniglot.js';

await selectBackend('cpu', { quiet: true });

test('episodes are deterministic by seed; within-group episodes keep to one group', () => {
  const ds = syntheticDataset({ alphabets: 3, charactersPerAlphabet: 5, drawers: 4 });
  const opts = { way: 5, shot: 1, query: 2, episodes: 20, seed: 4, groups: 'within' as const };
  const a = sampleEvaluationEpisodes(ds, opts);
  assert.deepEqual(a, sampleEvaluationEpisodes(ds, opts));
  assert.equal(a.withinGroup, true);
  for (const ep of a.episodes) {
    const groups = new Set([...ep.support, ...ep.query].map((i) => ds.classGroups[ds.labels[i]!]));
    assert.equal(groups.size, 1);
    assert.equal(ep.support.length, 5);
    assert.equal(ep.query.length, 10);
  }
  assert.throws(() => sampleEvaluationEpisodes(ds, { ...opts, way: 6 }), /no group \(alphabet\) has 6 classes/);
  assert.equal(sampleEvaluationEpisodes(ds, { ...opts, way: 6, groups: 'auto' }).withinGroup, false);
  assert.throws(() => sampleEvaluationEpisodes(ds, { ...opts, shot: 4 }), /at least 6 images/);
});

test('identical drawings are classified perfectly by pixel distance; accuracy and CI are reported', () => {
  const ds = syntheticDataset({ alphabets: 2, charactersPerAlphabet: 5, drawers: 3, jitter: 0 });
  const r = evaluateEpisodes(identityScorer(28), ds, { way: 5, shot: 1, query: 2, episodes: 10, seed: 1 });
  assert.equal(r.accuracy, 1);
  assert.equal(r.ci95, 0);
  assert.equal(r.perEpisode.length, 10);
  assert.deepEqual([r.way, r.shot, r.query, r.episodes], [5, 1, 2, 10]);
});
