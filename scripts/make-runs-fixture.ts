/**
 * Writes a folder in the format of Lake et al.'s one-shot runs from Omniglot-layout images, for
 * `fewshot eval-runs` without the (withheld) evaluation set:
 *   npx tsx scripts/make-runs-fixture.ts --data ../shared/data/omniglot/images_background.zip \
 *     --out runs/val-runs [--alphabets validation|A,B,...] [--runs 20] [--way 20] [--seed 2015]
 * `--alphabets validation` uses the project's held-out validation alphabets.
 */
import { Command } from 'commander';
import { openSource } from '../src/data/source.js';
import { omniglotValidationAlphabets } from '../src/data/split.js';
import { writeLakeRunsFixture } from '../src/evaluation/runs_fixture.js';
import { findOmniglotBackground } from '../src/cli/options.js';

const opts = new Command('make-runs-fixture')
  .option('--data <path>', 'Omniglot-layout images (directory or zip)')
  .requiredOption('--out <dir>', 'where to write run01..runNN')
  .option('--alphabets <list>', "'validation' or comma-separated alphabet names (default: all)")
  .option('--runs <n>', 'number of runs', (v) => Number(v), 20)
  .option('--way <n>', 'characters per run', (v) => Number(v), 20)
  .option('--seed <s>', 'seed', (v) => Number(v), 2015)
  .parse()
  .opts<{ data?: string; out: string; alphabets?: string; runs: number; way: number; seed: number }>();

const data = opts.data ?? findOmniglotBackground();
if (!data) throw new Error('give --data (no ../shared/data/omniglot/images_background.zip here)');
const alphabets = opts.alphabets === 'validation' ? omniglotValidationAlphabets() : opts.alphabets?.split(',');
const used = writeLakeRunsFixture(await openSource(data), opts.out, {
  runs: opts.runs,
  way: opts.way,
  seed: opts.seed,
  ...(alphabets ? { alphabets } : {}),
});
console.log(`wrote ${used.length} runs to ${opts.out}: ${used.map((a, i) => `run${String(i + 1).padStart(2, '0')}=${a}`).join(', ')}`);
