/**
 * `npm run eval:omniglot -- --model DIR [--tta N] [--episodes 400] [--record] [--calibrate] [--ship DIR] [--json]`
 *
 * Measures any saved model on the project's 6 held-out validation alphabets with the table every
 * Omniglot model is reported with (src/evaluation/omniglot_validation.ts): val 5-way and 20-way
 * 1-shot episodes, 20-way within one alphabet, the Lake-style runs fixture with argmax and, in
 * its own column, the transductive Hungarian assignment. `--tta N` averages embeddings over N
 * fixed affine jitters. `--ship DIR` copies the model with validation.json (e.g. the best
 * checkpoint of a run that is still training), `--calibrate` first stores the FAR-1% threshold,
 * `--record` appends the row to the model's measurements.jsonl.
 */
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { findOmniglotBackground, parseInteger, parseList, pct, printJson, useBackend, addBackendOption, addTtaOption } from '../src/cli/options.js';
import { omniglotValidationAlphabets } from '../src/data/split.js';
import { formatValidationCells } from '../src/evaluation/omniglot_validation.js';
import { reportOmniglotModel } from '../src/applications/omniglot/report.js';
import { shellQuote } from '../src/cli/command_line.js';

const cmd = addBackendOption(addTtaOption(
  new Command('eval-omniglot')
    .requiredOption('--model <dir>', 'model directory')
    .option('--data <path>', 'Omniglot background set (default: ../shared/data/omniglot/images_background.zip)')
    .option('--val-groups <list>', 'validation alphabets (default: the project\'s 6)', parseList)
    .option('--episodes <n>', 'episodes per episode measurement', parseInteger(1), 400)
    .option('--calibrate', "store the FAR-1% open-set threshold in the model's fewshot.json")
    .option('--ship <dir>', 'copy the model, its training log and validation.json to DIR')
    .option('--record', "append the row to the model's measurements.jsonl (later measurements next to validation.json)")
    .option('--note <text>', 'free text stored in validation.json (how the model was made)')
    .option('--json', 'print the row as JSON'),
));
cmd.parse(process.argv.slice(2), { from: 'user' });
const opts = cmd.opts<{ model: string; data?: string; valGroups?: string[]; episodes: number; tta: number; calibrate?: boolean; ship?: string; record?: boolean; note?: string; json?: boolean; backend: string }>();
const data = opts.data ?? findOmniglotBackground();
if (!data) throw new Error('the Omniglot background set is needed: ../shared/data/omniglot/images_background.zip or --data PATH|URL');
const backend = await useBackend(opts.backend, opts.json);
const row = await reportOmniglotModel(opts.model, {
  data,
  validationAlphabets: opts.valGroups ?? omniglotValidationAlphabets(),
  episodes: opts.episodes,
  ttaViews: opts.tta,
  calibrate: Boolean(opts.calibrate),
  ...(opts.ship ? { shipTo: opts.ship } : {}),
  facts: { backend, command: `npm run eval:omniglot -- ${process.argv.slice(2).map(shellQuote).join(' ')}`, ...(opts.note ? { note: opts.note } : {}) },
  log: (line) => process.stderr.write(line + '\n'),
});
if (opts.record) appendFileSync(join(opts.model, 'measurements.jsonl'), JSON.stringify(row) + '\n');
if (opts.json) printJson(row);
else console.log(`| ${opts.model} | tta ${opts.tta} | ${formatValidationCells(row, (x) => pct(x, 1))} |`);
