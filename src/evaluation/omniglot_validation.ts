/**
 * The one table every Omniglot model of this project is reported with, measured on the held-out
 * validation alphabets of the background set (never trained or tuned on elsewhere):
 *   - 5-way and 20-way 1-shot episodes with classes from any held-out alphabet,
 *   - 20-way 1-shot episodes within one alphabet (as in Lake et al.'s runs),
 *   - 20 runs in Lake et al.'s format built from those alphabets (one alphabet, two drawers per
 *     run), scored with argmax (Lake's protocol) and, in its own column, with the transductive
 *     Hungarian assignment.
 * Shared by scripts/train-omniglot.ts (after training) and scripts/eval-omniglot.ts (any model).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadImageDatasetFromSource, type ImageDataset } from '../data/dataset.js';
import { openSource, type FileSource } from '../data/source.js';
import type { SiameseScorer } from '../inference/embedder.js';
import { EmbeddingCache } from './embedding_cache.js';
import { evaluateEpisodes } from './episodes.js';
import { evaluateLakeRuns, readLakeRuns } from './lake_runs.js';
import { writeLakeRunsFixture } from './runs_fixture.js';

export interface OmniglotValidationOptions {
  /** Episodes per episode measurement (the project's tables use 400). */
  episodes: number;
  /** Seed of the episodes (12345 in every table). */
  seed?: number;
}

export interface OmniglotValidationRow {
  val5way1shot: number;
  val5way1shotCi95: number;
  val20way1shot: number;
  val20way1shotCi95: number;
  val20way1shotWithinAlphabet: number;
  val20way1shotWithinAlphabetCi95: number;
  /** Lake-style runs fixture, argmax per test image (Lake's protocol). */
  valLakeStyleRuns: number;
  /** The same runs with the transductive Hungarian assignment (its own column, never the headline). */
  valLakeStyleRunsHungarian: number;
  /** Test-time augmentation views the scorer used (1 = none). */
  ttaViews: number;
  validationAlphabets: string[];
  episodes: number;
}

export async function measureOnOmniglotValidation(
  scorer: SiameseScorer,
  source: FileSource,
  validationAlphabets: string[],
  opts: OmniglotValidationOptions,
): Promise<{ row: OmniglotValidationRow; validation: ImageDataset; cache: EmbeddingCache }> {
  const seed = opts.seed ?? 12345;
  const validation = loadImageDatasetFromSource(source, { preprocess: scorer.meta.preprocess, groups: validationAlphabets });
  // One cache for every measurement: each held-out image is embedded once, not once per measurement.
  const cache = new EmbeddingCache(scorer, validation);
  const ep = (way: number, groups: 'any' | 'within') =>
    evaluateEpisodes(scorer, validation, { way, shot: 1, query: 1, episodes: opts.episodes, seed, groups }, cache);
  const fiveWay = ep(5, 'any');
  const twentyWay = ep(20, 'any');
  const twentyWithin = ep(20, 'within');
  const runsDir = mkdtempSync(join(tmpdir(), 'fewshot-val-runs-'));
  let argmax: number;
  let hungarian: number;
  try {
    writeLakeRunsFixture(source, runsDir, { runs: 20, way: 20, seed: 2015, alphabets: validationAlphabets });
    const runsSource = await openSource(runsDir);
    const runs = readLakeRuns(runsSource);
    argmax = evaluateLakeRuns(scorer, runsSource, runs, { assignment: 'argmax' }).accuracy;
    hungarian = evaluateLakeRuns(scorer, runsSource, runs, { assignment: 'hungarian' }).accuracy;
  } finally {
    rmSync(runsDir, { recursive: true, force: true });
  }
  const row: OmniglotValidationRow = {
    val5way1shot: fiveWay.accuracy,
    val5way1shotCi95: fiveWay.ci95,
    val20way1shot: twentyWay.accuracy,
    val20way1shotCi95: twentyWay.ci95,
    val20way1shotWithinAlphabet: twentyWithin.accuracy,
    val20way1shotWithinAlphabetCi95: twentyWithin.ci95,
    valLakeStyleRuns: argmax,
    valLakeStyleRunsHungarian: hungarian,
    ttaViews: scorer.ttaViews,
    validationAlphabets,
    episodes: opts.episodes,
  };
  return { row, validation, cache };
}

/** The row as a Markdown table row: 5-way | 20-way | within | runs (argmax) | runs (Hungarian). */
export function formatValidationCells(row: OmniglotValidationRow, pct: (x: number) => string): string {
  return [row.val5way1shot, row.val20way1shot, row.val20way1shotWithinAlphabet, row.valLakeStyleRuns, row.valLakeStyleRunsHungarian].map(pct).join(' | ');
}
