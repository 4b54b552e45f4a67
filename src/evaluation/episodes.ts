/**
 * N-way K-shot episode evaluation: sample episodes from classes the model has never seen,
 * classify each query against the episode's support set, report accuracy with a 95% CI.
 *
 * `groups: 'within'` draws the N classes of an episode from one group (one alphabet), as in
 * Lake et al.'s one-shot runs: harder than mixing alphabets, and the number that matters.
 */
import type { ImageDataset } from '../data/dataset.js';
import type { SiameseScorer } from '../inference/embedder.js';
import { FewShotClassifier, type SupportMode } from '../inference/few_shot_classifier.js';
import { EpisodeSampler } from '../samplers/episode_sampler.js';
import { Rng } from '../util/random.js';
import { EmbeddingCache } from './embedding_cache.js';
import { meanWithCi95 } from './stats.js';

export type EpisodeGrouping = 'any' | 'within' | 'auto';

export interface EpisodeEvalOptions {
  way: number;
  shot: number;
  /** Queries per class per episode. */
  query: number;
  episodes: number;
  seed: number;
  /** 'within': classes of an episode share a group; 'auto': within when some group is big enough. */
  groups?: EpisodeGrouping;
  mode?: SupportMode;
}

export interface EpisodeEvalResult {
  accuracy: number;
  ci95: number;
  episodes: number;
  way: number;
  shot: number;
  query: number;
  withinGroup: boolean;
  perEpisode: number[];
}

export interface SampledEpisode {
  support: Int32Array;
  supportLabels: Int32Array;
  query: Int32Array;
  queryLabels: Int32Array;
}

/** The episodes an evaluation uses, fully determined by the dataset and the options. */
export function sampleEvaluationEpisodes(ds: ImageDataset, opts: EpisodeEvalOptions): { episodes: SampledEpisode[]; withinGroup: boolean } {
  for (const [k, v] of Object.entries({ way: opts.way, shot: opts.shot, query: opts.query, episodes: opts.episodes })) {
    if (!Number.isInteger(v) || v < 1) throw new Error(`${k} must be a positive integer, got ${v}`);
  }
  const need = opts.shot + opts.query;
  const byClass = ds.indicesByClass();
  const usable = byClass.map((idx, c) => ({ idx, c })).filter((x) => x.idx.length >= need);
  if (usable.length < opts.way) {
    throw new Error(`${opts.way}-way ${opts.shot}-shot with ${opts.query} queries needs ${opts.way} classes with at least ${need} images each; the dataset has ${usable.length}`);
  }
  const groupMap = new Map<string, number[][]>();
  for (const { idx, c } of usable) {
    const g = ds.classGroups[c] ?? '';
    if (!groupMap.has(g)) groupMap.set(g, []);
    groupMap.get(g)!.push(idx);
  }
  const bigGroups = [...groupMap.values()].filter((g) => g.length >= opts.way);
  const grouping = opts.groups ?? 'any';
  if (grouping === 'within' && bigGroups.length === 0) {
    throw new Error(`no group (alphabet) has ${opts.way} classes with ${need} images; use fewer ways or mixed groups`);
  }
  const withinGroup = grouping === 'within' || (grouping === 'auto' && bigGroups.length > 0);
  const rng = new Rng(opts.seed);
  const episodes: SampledEpisode[] = [];
  const anySampler = withinGroup ? null : new EpisodeSampler(usable.map((u) => u.idx), { way: opts.way, shot: opts.shot, query: opts.query }, rng.fork());
  const groupSamplers = withinGroup
    ? bigGroups.map((g) => new EpisodeSampler(g, { way: opts.way, shot: opts.shot, query: opts.query }, rng.fork()))
    : [];
  for (let e = 0; e < opts.episodes; e++) {
    const sampler = anySampler ?? groupSamplers[rng.int(groupSamplers.length)]!;
    const ep = sampler.sample();
    episodes.push({ support: ep.support, supportLabels: ep.supportLabels, query: ep.query, queryLabels: ep.queryLabels });
  }
  return { episodes, withinGroup };
}

/** Accuracy of a scorer on seeded N-way K-shot episodes of a dataset, with a 95% confidence interval; embeddings are computed once per image. */
export function evaluateEpisodes(
  scorer: SiameseScorer,
  ds: ImageDataset,
  opts: EpisodeEvalOptions,
  cache: EmbeddingCache = new EmbeddingCache(scorer, ds),
): EpisodeEvalResult {
  const { episodes, withinGroup } = sampleEvaluationEpisodes(ds, opts);
  cache.prefetch(episodes.flatMap((ep) => [...ep.support, ...ep.query]));
  const classifier = new FewShotClassifier(scorer, { mode: opts.mode ?? 'auto', threshold: null });
  const perEpisode = episodes.map((ep) => scoreEpisode(classifier, cache, ep, opts.way));
  const { mean, ci95 } = meanWithCi95(perEpisode);
  return { accuracy: mean, ci95, episodes: opts.episodes, way: opts.way, shot: opts.shot, query: opts.query, withinGroup, perEpisode };
}

/** Fraction of the episode's queries whose top-ranked class is their own. */
export function scoreEpisode(classifier: FewShotClassifier, cache: EmbeddingCache, ep: SampledEpisode, way: number): number {
  const labels = Array.from({ length: way }, (_, c) => String(c));
  const groups: Float32Array[][] = labels.map(() => []);
  const supportEmb = cache.get(ep.support);
  ep.supportLabels.forEach((l, i) => groups[l]!.push(supportEmb[i]!));
  classifier.fitEmbeddings(labels, groups);
  const predictions = classifier.predictEmbeddings(cache.get(ep.query));
  let correct = 0;
  predictions.forEach((p, i) => {
    if (p.label === String(ep.queryLabels[i])) correct++;
  });
  return correct / predictions.length;
}
