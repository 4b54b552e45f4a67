/**
 * `npm run compare:curves -- --marks 5,10,15 NAME=LOG.jsonl ...`
 *
 * Equal-compute comparison of training runs from their logs: for each run, the trainer's
 * validation accuracy (the best so far, i.e. the model the run would keep) once it had spent
 * M CPU-minutes, for each mark M. Runs trained with the same `--time-budget --budget-clock cpu`
 * follow the same learning-rate schedule as a function of spent CPU time, so at a given mark
 * they have had the same compute and the same schedule, whether or not they have finished.
 * Prints a Markdown table; a run that has not reached a mark shows "-".
 */
import { Command } from 'commander';
import { parseIntList } from '../src/cli/options.js';
import { readJsonl } from '../src/training/jsonl_log.js';

const cmd = new Command('compare-curves')
  .argument('<runs...>', 'NAME=path/to/training-log.jsonl')
  .option('--marks <list>', 'CPU-minute marks', parseIntList, [5, 10, 15, 20, 30, 45, 60])
  .option('--field <name>', 'the validation field to compare', 'valAccuracy');
cmd.parse(process.argv.slice(2), { from: 'user' });
const opts = cmd.opts<{ marks: number[]; field: string }>();

const rows = cmd.args.map((arg) => {
  const eq = arg.indexOf('=');
  if (eq < 1) throw new Error(`expected NAME=LOG.jsonl, got '${arg}'`);
  const name = arg.slice(0, eq);
  const log = readJsonl(arg.slice(eq + 1));
  if (!log.some((r) => typeof r['cpu'] === 'number')) throw new Error(`${arg.slice(eq + 1)}: its lines record no 'cpu' seconds (a log of an older trainer)`);
  const validations = log.filter((r) => typeof r[opts.field] === 'number' && typeof r['cpu'] === 'number');
  const cpus = log.map((r) => r['cpu']).filter((c): c is number => typeof c === 'number');
  const spent = cpus[cpus.length - 1]! / 60;
  // The log has a line every few steps, so a run that spent its whole budget logs its last line
  // a little before the budget's end: a mark counts as reached within one log interval of it.
  const interval = cpus.length > 1 ? (cpus[cpus.length - 1]! - cpus[cpus.length - 2]!) / 60 : 0;
  const cells = opts.marks.map((m) => {
    if (spent + interval < m) return '-';
    const upTo = validations.filter((r) => Number(r['cpu']) <= m * 60);
    if (upTo.length === 0) return '-';
    const best = upTo.reduce((a, r) => (Number(r[opts.field]) > Number(a[opts.field]) ? r : a));
    return `${(100 * Number(best[opts.field])).toFixed(1)}% (${best['step']})`;
  });
  return `| ${name} | ${cells.join(' | ')} | ${spent.toFixed(1)} |`;
});
console.log(`| run | ${opts.marks.map((m) => `${m} CPU-min`).join(' | ')} | CPU-min spent |`);
console.log(`|---|${opts.marks.map(() => '---').join('|')}|---|`);
for (const r of rows) console.log(r);
