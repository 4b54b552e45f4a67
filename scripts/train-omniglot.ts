/**
 * `npm run train:omniglot [-- <fewshot train options>] [--ship [DIR]]`
 *
 * Trains on the Omniglot background alphabets minus the project's validation alphabets, then
 * measures the best checkpoint on those held-out alphabets the same way for every method:
 *   - 5-way 1-shot and 20-way 1-shot episodes (classes from any held-out alphabet),
 *   - 20-way 1-shot within one alphabet (as in Lake et al.'s runs),
 *   - Lake-style 20 runs (one alphabet, two drawers per run) built from the held-out alphabets,
 *     with argmax (Lake's protocol) and, in its own column, the transductive Hungarian assignment
 * (src/evaluation/omniglot_validation.ts).
 * Appends the row to runs/omniglot/comparison.jsonl, calibrates the open-set threshold (FAR 1% on
 * held-out pairs) into fewshot.json; `--ship` copies the model, its metadata, its training log
 * and these results to models/omniglot/ (or DIR, e.g. models/omniglot-siamese).
 *
 * Defaults are the shipped configuration as one run (prototypical network, conv4, 28x28, 60-way
 * 1-shot episodes, half of them within one alphabet, class rotations, Koch augmentation, 4800
 * steps); any `fewshot train` option overrides them.
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { runTrainCommand, trainCommand, type TrainCliOptions } from '../src/cli/commands/train.js';
import { findOmniglotBackground, parseInteger, pct, useBackend } from '../src/cli/options.js';
import { omniglotValidationAlphabets } from '../src/data/split.js';
import { formatValidationCells } from '../src/evaluation/omniglot_validation.js';
import { reportOmniglotModel } from '../src/applications/omniglot/report.js';
import { shellQuote } from '../src/cli/command_line.js';
import { DEFAULT_MODEL_DIR, PACKAGE_ROOT } from '../src/inference/default_model.js';

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
// Ctrl-C: the trainer saved its checkpoint and printed the resume command; nothing to measure yet.
if (trained['interrupted']) process.exit(130);

// Final, identical measurements for every method on the held-out alphabets, the open-set
// threshold, and (--ship) the copy to models/.
const row = await reportOmniglotModel(opts.out, {
  data,
  validationAlphabets: validationGroups,
  episodes: opts.evalEpisodes,
  calibrate: true,
  ...(opts.ship ? { shipTo: typeof opts.ship === 'string' ? opts.ship : DEFAULT_MODEL_DIR } : {}),
  facts: {
    method: opts.method,
    encoder: trained['encoder'],
    steps: trained['steps'],
    bestStep: trained['bestStep'],
    trainingSeconds: Math.round(Number(trained['elapsedSeconds'])),
    backend,
    command: `npm run train:omniglot -- ${userArgs.map(shellQuote).join(' ')}`.trim(),
  },
});
mkdirSync(join(PACKAGE_ROOT, 'runs', 'omniglot'), { recursive: true });
appendFileSync(join(PACKAGE_ROOT, 'runs', 'omniglot', 'comparison.jsonl'), JSON.stringify(row) + '\n');
console.log(`| ${opts.method} | ${String(trained['encoder'])} | ${formatValidationCells(row, (x) => pct(x, 1))} | ${row['trainingSeconds']} s | \`${row['command']}\` |`);
