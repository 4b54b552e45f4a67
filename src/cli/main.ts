#!/usr/bin/env node
/**
 * The `fewshot` command line. Each subcommand lives in commands/<name>.ts and registers itself;
 * errors are printed as one line (no stack) with exit status 1.
 */
import '../data/jpeg_turbo.js'; // JPEG decoding through libjpeg-turbo (wasm)
import '../tracking/native_crop.js'; // the tracker's crops in native code where the addon is built
import { Command } from 'commander';
import { register as registerDemo } from './commands/demo.js';
import { register as registerEval } from './commands/eval.js';
import { register as registerEvalRuns } from './commands/eval_runs.js';
import { register as registerPredict } from './commands/predict.js';
import { register as registerServe } from './commands/serve.js';
import { register as registerTrain } from './commands/train.js';
import { register as registerVerify } from './commands/verify.js';
import { register as registerEvalVerify } from './commands/eval_verify.js';
import { register as registerEvalSignatures } from './commands/eval_signatures.js';
import { register as registerReport } from './commands/report.js';
import { register as registerEvalOpenSet } from './commands/eval_open_set.js';
import { register as registerTrack } from './commands/track.js';
import { register as registerEvalTrack } from './commands/eval_track.js';
import { register as registerExport } from './commands/export.js';

export function buildProgram(): Command {
  const program = new Command('fewshot')
    .description('Few-shot learning with Siamese networks: train, evaluate and predict from one or a few examples per class')
    .version('0.1.0')
    .showHelpAfterError("(add --help for the command's options)");
  registerDemo(program);
  registerTrain(program);
  registerEval(program);
  registerEvalRuns(program);
  registerPredict(program);
  registerServe(program);
  registerVerify(program);
  registerEvalVerify(program);
  registerEvalSignatures(program);
  registerReport(program);
  registerEvalOpenSet(program);
  registerTrack(program);
  registerEvalTrack(program);
  registerExport(program);
  return program;
}

try {
  await buildProgram().parseAsync(process.argv);
} catch (err) {
  const msg = err instanceof Error ? err.message : String(err);
  process.stderr.write(`fewshot: error: ${msg}\n`);
  if (process.env['FEWSHOT_DEBUG'] && err instanceof Error) process.stderr.write(`${err.stack}\n`);
  process.exitCode = 1;
}
