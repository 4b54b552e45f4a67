/**
 * `npm run train:omniglot [-- <fewshot train options>] [--ship [DIR]]`
 *
 * Trains on the Omniglot background alphabets minus the project's validation alphabets, then
 * measures the best checkpoint on those held-out alphabets the same way for every method:
 *   - 5-way 1-shot and 20-way 1-shot episodes (classes from any held-out alphabet),
 *   - 20-way 1-shot within one alphabet (as in Lake et al.'s runs),
 *   - Lake-style 20 runs (one alphabet, two drawers per run) built from the held-out alphabets.
 * Appends the row to runs/omniglot/comparison.jsonl, calibrates the open-set threshold (FAR 1% on
 * held-out pairs) into fewshot.json; `--ship` copies the model, its metadata, its training log
 * and these results to models/omniglot/ (or DIR, e.g. models/omniglot-siamese).
 *
 * Defaults are the shipped configuration as one run (prototypical network, conv4, 28x28, 60-way
 * 1-shot episodes, half of them within one alphabet, class rotations, Koch augmentation, 4800
 * steps); any `fewshot train` option overrides them.
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runTrainCommand, trainCommand, type TrainCliOptions } from '../src/cli/commands/train.js';
import { findOmniglotBackground, parseInteger, pct, useBackend } from '../src/cli/options.js';
import { loadImageDatasetFromSource } from '../src/data/dataset.js';
import { openSource } from '../src/data/source.js';
import { omniglotValidationAlphabets } from '../src/data/split.js';
import { EmbeddingCache } from '../src/evaluation/embedding_cache.js';
import { evaluateEpisodes } from '../src/evaluation/episodes.js';
import { evaluateLakeRuns } from '../src/evaluation/lake_runs.js';
import { writeLakeRunsFixture } from '../src/evaluation/runs_fixture.js';
import { SiameseScorer } from '../src/inference/embedder.js';
import { DEFAULT_MODEL_DIR, PACKAGE_ROOT } from '../src/inference/default_model.js';
import { calibrateThreshold, writeThreshold } from '../src/verification/calibration.js';
import { pairSimilarities, sampledPairs, splitScores } from '../src/verification/pairs.js';

const SHIPPED_DEFAULTS = [
  '--method', 'protonet', '--encoder', 'conv4',
  '--way', '60', '--shot', '1', '--query', '2',
  '--steps', '4800', '--lr', '0.001', '--schedule', 'cosine', '--warmup', '50',
  '--rotate-classes', '--within-group-episodes', '0.5',
  '--val-every', '250', '--val-episodes', '100', '--val-way', '20', '--val-also-ways', '5', '--val-query', '5',
  '--checkpoint-every', '50',
];

const userArgs = process.argv.slice(2);
const cmd = trainCommand()
  .option('--ship [dir]', 'copy the trained model to models/omniglot/ (or DIR)')
  .option('--eval-episodes <n>', 'episodes of the final validation measurements', parseInteger(1), 400);
cmd.parse([...SHIPPED_DEFAULTS, ...userArgs], { from: 'user' });
const opts = cmd.opts<TrainCliOptions & { ship?: boolean | string; evalEpisodes: number }>();
const data = opts.data ?? findOmniglotBackground();
if (!data) throw new Error('the Omniglot background set is needed: ../shared/data/omniglot/images_background.zip or --data PATH|URL');
opts.data = data;
const validationGroups = opts.valGroups ?? omniglotValidationAlphabets();
opts.valGroups = validationGroups;
if (!userArgs.includes('--out')) opts.out = join(PACKAGE_ROOT, 'runs', 'omniglot', `${opts.method}-${opts.encoder}`);

const backend = await useBackend(opts.backend);
const trained = await runTrainCommand(opts, backend);

// Final, identical measurements for every method on the held-out alphabets.
const scorer = await SiameseScorer.load(opts.out);
const source = await openSource(data);
const validation = loadImageDatasetFromSource(source, { preprocess: scorer.meta.preprocess, groups: validationGroups });
// One cache for every measurement below: each held-out image is embedded once, not once per measurement.
const cache = new EmbeddingCache(scorer, validation);
const ep = (way: number, groups: 'any' | 'within') =>
  evaluateEpisodes(scorer, validation, { way, shot: 1, query: 1, episodes: opts.evalEpisodes, seed: 12345, groups }, cache);
const fiveWay = ep(5, 'any');
const twentyWay = ep(20, 'any');
const twentyWithin = ep(20, 'within');
const runsDir = mkdtempSync(join(tmpdir(), 'fewshot-val-runs-'));
let lake;
try {
  writeLakeRunsFixture(source, runsDir, { runs: 20, way: 20, seed: 2015, alphabets: validationGroups });
  lake = evaluateLakeRuns(scorer, await openSource(runsDir));
} finally {
  rmSync(runsDir, { recursive: true, force: true });
}
const row = {
  method: opts.method,
  encoder: opts.encoder,
  steps: trained['steps'],
  bestStep: trained['bestStep'],
  trainingSeconds: Math.round(Number(trained['elapsedSeconds'])),
  backend,
  val5way1shot: fiveWay.accuracy,
  val5way1shotCi95: fiveWay.ci95,
  val20way1shot: twentyWay.accuracy,
  val20way1shotCi95: twentyWay.ci95,
  val20way1shotWithinAlphabet: twentyWithin.accuracy,
  val20way1shotWithinAlphabetCi95: twentyWithin.ci95,
  valLakeStyleRuns: lake.accuracy,
  validationAlphabets: validationGroups,
  episodes: opts.evalEpisodes,
  command: `npm run train:omniglot -- ${userArgs.join(' ')}`.trim(),
  model: opts.out,
  finishedAt: new Date().toISOString(),
};
mkdirSync(join(PACKAGE_ROOT, 'runs', 'omniglot'), { recursive: true });
appendFileSync(join(PACKAGE_ROOT, 'runs', 'omniglot', 'comparison.jsonl'), JSON.stringify(row) + '\n');
const p = (x: number) => pct(x, 1);
console.log(
  `| ${row.method} | ${row.encoder} | ${p(row.val5way1shot)} | ${p(row.val20way1shot)} | ${p(row.val20way1shotWithinAlphabet)} | ${p(row.valLakeStyleRuns)} | ${row.trainingSeconds} s | \`${row.command}\` |`,
);

// The open-set threshold ('unknown' below it): FAR 1% on same / different pairs of held-out
// characters, stored in fewshot.json like `fewshot eval-verify --calibrate` does.
const pairs = sampledPairs(validation.labels, 20000, 7);
const embeddings = cache.get(Array.from({ length: validation.size }, (_, i) => i));
const { genuine, impostor } = splitScores(pairSimilarities(embeddings, pairs, (a, b) => scorer.similarity(a, b)), pairs.same);
const calibration = calibrateThreshold(genuine, impostor, 0.01, 'Omniglot validation alphabets');
writeThreshold(opts.out, calibration.threshold);
console.log(`threshold ${calibration.threshold.value.toFixed(4)} (${calibration.threshold.source}): FAR ${calibration.far.toFixed(4)}, FRR ${calibration.frr.toFixed(4)}`);

if (opts.ship) {
  const dest = resolve(typeof opts.ship === 'string' ? opts.ship : DEFAULT_MODEL_DIR);
  mkdirSync(dest, { recursive: true });
  for (const f of ['model.json', 'weights.bin', 'fewshot.json', 'training-log.jsonl']) copyFileSync(join(opts.out, f), join(dest, f));
  writeFileSync(join(dest, 'validation.json'), JSON.stringify(row, null, 2) + '\n');
  console.log(`shipped to ${dest}`);
}
