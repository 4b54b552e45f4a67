/**
 * Does a non-transductive correction of the similarity help one-shot Omniglot? Compares, on the
 * same seeded 20-way 1-shot episodes of the 6 validation alphabets (within one alphabet, and
 * mixed), plain cosine argmax with corrections that use only the support set and training data,
 * never the other queries (so they stay inside Lake's per-image protocol):
 *   - csls-bgK: CSLS hubness reduction (Conneau et al. 2018) with the query term dropped (it is the
 *     same for every candidate): 2 cos(q, s) - r(s), r(s) = mean cosine of s to its K nearest
 *     images of the training alphabets (3000 sampled);
 *   - csls-support: the same with r(s) = mean cosine of s to its 3 nearest other support images;
 *   - centre-bg / centre-support: cosine after subtracting the mean embedding of the training
 *     sample / of the episode's support set.
 *
 *   npx tsx scripts/omniglot-score-normalisation.ts [--model models/omniglot] [--episodes 1000]
 */
import { parseArgs } from 'node:util';
import { useBackend, findOmniglotBackground } from '../src/cli/options.js';
import { loadImageDatasetFromSource } from '../src/data/dataset.js';
import { openSource } from '../src/data/source.js';
import { OMNIGLOT_BACKGROUND_ALPHABETS, omniglotValidationAlphabets } from '../src/data/split.js';
import { EmbeddingCache } from '../src/evaluation/embedding_cache.js';
import { sampleEvaluationEpisodes } from '../src/evaluation/episodes.js';
import { meanWithCi95 } from '../src/evaluation/stats.js';
import { loadScorer } from '../src/inference/load.js';
import { Rng } from '../src/util/random.js';

const { values: args } = parseArgs({
  options: {
    model: { type: 'string', default: 'models/omniglot' },
    data: { type: 'string' },
    episodes: { type: 'string', default: '1000' },
    background: { type: 'string', default: '3000' },
  },
});
await useBackend('native');
const scorer = await loadScorer(args.model!);
const data = args.data ?? findOmniglotBackground();
if (!data) throw new Error('no Omniglot background set found: give --data PATH (images_background.zip or its folder)');
const source = await openSource(data);
const validationAlphabets = omniglotValidationAlphabets();
const validation = loadImageDatasetFromSource(source, { preprocess: scorer.meta.preprocess, groups: validationAlphabets });
const training = loadImageDatasetFromSource(source, {
  preprocess: scorer.meta.preprocess,
  groups: OMNIGLOT_BACKGROUND_ALPHABETS.filter((a) => !validationAlphabets.includes(a)),
});
const cache = new EmbeddingCache(scorer, validation);
const backgroundIdx = new Rng(99).sample(Array.from({ length: training.size }, (_, i) => i), Number(args.background));
const background = new EmbeddingCache(scorer, training).get(backgroundIdx).map(unit);

function unit(v: Float32Array): Float32Array {
  const n = Math.hypot(...v) || 1;
  return v.map((x) => x / n);
}
const dot = (a: Float32Array, b: Float32Array) => a.reduce((s, x, i) => s + x * b[i]!, 0);
const meanOf = (vs: readonly Float32Array[]) => {
  const m = new Float32Array(vs[0]!.length);
  for (const v of vs) v.forEach((x, i) => (m[i]! += x / vs.length));
  return m;
};
const minus = (v: Float32Array, m: Float32Array) => unit(v.map((x, i) => x - m[i]!));
const topMean = (sims: number[], k: number) => sims.sort((a, b) => b - a).slice(0, k).reduce((a, x) => a + x, 0) / k;
const backgroundMean = meanOf(background);

// r(s) against the training sample depends only on the image: computed once per image and k.
const hubness = new Map<string, number>();
const backgroundHubness = (id: number, s: Float32Array, k: number) => {
  const key = `${id}:${k}`;
  if (!hubness.has(key)) hubness.set(key, topMean(background.map((b) => dot(s, b)), k));
  return hubness.get(key)!;
};

for (const groups of ['within', 'any'] as const) {
  const { episodes } = sampleEvaluationEpisodes(validation, { way: 20, shot: 1, query: 1, episodes: Number(args.episodes), seed: 12345, groups });
  const accuracies = new Map<string, number[]>();
  for (const ep of episodes) {
    const support = cache.get(Array.from(ep.support)).map(unit);
    const queries = cache.get(Array.from(ep.query)).map(unit);
    const supportMean = meanOf(support);
    const bg10 = support.map((s, j) => backgroundHubness(ep.support[j]!, s, 10));
    const bg50 = support.map((s, j) => backgroundHubness(ep.support[j]!, s, 50));
    const fromSupport = support.map((s, j) => topMean(support.flatMap((t, l) => (l === j ? [] : [dot(s, t)])), 3));
    const centredBg = support.map((s) => minus(s, backgroundMean));
    const centredSupport = support.map((s) => minus(s, supportMean));
    // Each variant scores a query against every support image; the query is prepared once per variant.
    const variants: Record<string, (q: Float32Array) => number[]> = {
      plain: (q) => support.map((s) => dot(q, s)),
      'csls-bg10': (q) => support.map((s, j) => 2 * dot(q, s) - bg10[j]!),
      'csls-bg50': (q) => support.map((s, j) => 2 * dot(q, s) - bg50[j]!),
      'csls-support': (q) => support.map((s, j) => 2 * dot(q, s) - fromSupport[j]!),
      'centre-bg': (q) => { const c = minus(q, backgroundMean); return centredBg.map((s) => dot(c, s)); },
      'centre-support': (q) => { const c = minus(q, supportMean); return centredSupport.map((s) => dot(c, s)); },
    };
    for (const [name, score] of Object.entries(variants)) {
      let correct = 0;
      queries.forEach((q, qi) => {
        const scores = score(q);
        // First maximum wins ties, as before.
        const best = scores.reduce((b, v, j) => (v > scores[b]! ? j : b), 0);
        if (ep.supportLabels[best] === ep.queryLabels[qi]) correct++;
      });
      if (!accuracies.has(name)) accuracies.set(name, []);
      accuracies.get(name)!.push(correct / queries.length);
    }
  }
  for (const [name, acc] of accuracies) {
    const { mean, ci95 } = meanWithCi95(acc);
    console.log(`${groups === 'within' ? 'within one alphabet' : 'mixed alphabets'}, 20-way 1-shot, ${name}: ${(100 * mean).toFixed(2)}% +- ${(100 * ci95).toFixed(2)}`);
  }
}
