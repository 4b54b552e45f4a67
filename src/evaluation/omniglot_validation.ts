/**
 * The one table every Omniglot model of this project is reported with, measured on the held-out
 * validation alphabets of the background set (never trained or tuned on elsewhere):
 *   - 5-way and 20-way 1-shot episodes with classes from any held-out alphabet,
 *   - 20-way 1-shot episodes within one alphabet (as in Lake et al.'s runs),
 *   - 20 runs in Lake et al.'s format built from those alphabets (one alphabet, two drawers per
 *     run), scored with argmax (Lake's protocol) and, in its own column, with the transductive
 *     Hungarian assignment,
 *   - 100 such runs (another seed; 2000 test images, so about +-1.4 points instead of +-3), argmax:
 *     the fixture the official runs were mapped against (docs/omniglot.md).
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
  /** 100 Lake-style runs (seed 7), argmax. */
  valLakeStyleRuns100: number;
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
  const [argmax, hungarian] = await onRunsFixture(scorer, source, validationAlphabets, 20, 2015, ['argmax', 'hungarian']);
  const [argmax100] = await onRunsFixture(scorer, source, validationAlphabets, 100, 7, ['argmax']);
  const row: OmniglotValidationRow = {
    val5way1shot: fiveWay.accuracy,
    val5way1shotCi95: fiveWay.ci95,
    val20way1shot: twentyWay.accuracy,
    val20way1shotCi95: twentyWay.ci95,
    val20way1shotWithinAlphabet: twentyWithin.accuracy,
    val20way1shotWithinAlphabetCi95: twentyWithin.ci95,
    valLakeStyleRuns: argmax,
    valLakeStyleRunsHungarian: hungarian,
    valLakeStyleRuns100: argmax100,
    ttaViews: scorer.ttaViews,
    validationAlphabets,
    episodes: opts.episodes,
  };
  return { row, validation, cache };
}

/** Accuracy on a Lake-style runs fixture written from the validation alphabets, once per assignment. */
async function onRunsFixture(
  scorer: SiameseScorer,
  source: FileSource,
  alphabets: string[],
  runs: number,
  seed: number,
  assignments: readonly ('argmax' | 'hungarian')[],
): Promise<number[]> {
  const runsDir = mkdtempSync(join(tmpdir(), 'fewshot-val-runs-'));
  try {
    writeLakeRunsFixture(source, runsDir, { runs, way: 20, seed, alphabets });
    const runsSource = await openSource(runsDir);
    const read = readLakeRuns(runsSource);
    return assignments.map((assignment) => evaluateLakeRuns(scorer, runsSource, read, { assignment }).accuracy);
  } finally {
    rmSync(runsDir, { recursive: true, force: true });
  }
}

/** The row as a Markdown table row: 5-way | 20-way | within | runs (argmax) | runs (Hungarian) | 100 runs (argmax). */
export function formatValidationCells(row: OmniglotValidationRow, pct: (x: number) => string): string {
  return [row.val5way1shot, row.val20way1shot, row.val20way1shotWithinAlphabet, row.valLakeStyleRuns, row.valLakeStyleRunsHungarian, row.valLakeStyleRuns100]
    .map((x) => (x === undefined ? '' : pct(x)))
    .join(' | ');
}
