/**
 * `fewshot report`: a self-contained HTML page (ROC, score histograms with the threshold,
 * training curves, worst errors) for a model on labelled data: class folders, or signatures in
 * the real/ forge/ layout (then with --references genuine references per trial).
 */
import { basename } from 'node:path';
import type { Command } from 'commander';
import { loadImageDataset } from '../../data/dataset.js';
import { openSource } from '../../data/source.js';
import { loadScorer } from '../../inference/load.js';
import { listSignatureFiles, loadSignatures } from '../../applications/signatures/layout.js';
import { evaluateReferenceVerification } from '../../applications/signatures/reference_verification.js';
import { evaluatePairs } from '../../verification/evaluate.js';
import { writeReport } from '../../report/html.js';
import { findTrainingLog, pairReportInput, signatureReportInput } from '../../report/verification_report.js';
import { addBackendOption, parseInteger, resolveModelDir, useBackend } from '../options.js';

interface ReportOptions {
  model?: string;
  data: string;
  out: string;
  pairs?: number;
  seed: number;
  references: number;
  worst: number;
  backend: string;
}

/** True when the data follow the signature layout (real/ and forge/ folders). */
async function isSignatureLayout(path: string): Promise<boolean> {
  const source = await openSource(path);
  return source.list().some((p) => /(^|\/)(real|forge)\/[^/]+$/i.test(p)) && (() => {
    try {
      listSignatureFiles(source);
      return true;
    } catch {
      return false;
    }
  })();
}

export function register(program: Command): void {
  const cmd = program
    .command('report')
    .description('write a self-contained HTML verification report (ROC, score histograms, training curves, worst errors)')
    .requiredOption('--data <path|url>', 'labelled images: class folders, or signatures in the real/ forge/ layout')
    .requiredOption('--out <dir>', 'output folder (index.html is written there)')
    .option('--model <dir>', 'model directory (default: the shipped Omniglot model)')
    .option('--pairs <n>', 'class folders: sample n genuine + n impostor pairs (default: every pair)', parseInteger(1))
    .option('--references <k>', 'signatures: genuine references per trial', parseInteger(1), 3)
    .option('--seed <s>', 'sampling seed', parseInteger(0), 0)
    .option('--worst <n>', 'worst errors shown per kind', parseInteger(0), 12);
  addBackendOption(cmd).action(async (opts: ReportOptions) => {
    await useBackend(opts.backend, true);
    const modelDir = resolveModelDir(opts.model);
    const scorer = await loadScorer(modelDir);
    const ctx = { modelDir, dataPath: opts.data, meta: scorer.meta, worst: opts.worst };
    let input;
    if (await isSignatureLayout(opts.data)) {
      const set = await loadSignatures(opts.data, scorer.meta.preprocess);
      const r = evaluateReferenceVerification(scorer, set, scorer.embedFlat(set.pixels, set.files.length), { references: opts.references, seed: opts.seed });
      input = signatureReportInput(ctx, set, r);
    } else {
      const ds = await loadImageDataset(opts.data, { preprocess: scorer.meta.preprocess });
      const e = evaluatePairs(scorer, ds, {
        ...(opts.pairs !== undefined ? { pairs: opts.pairs } : {}),
        seed: opts.seed,
        dataName: basename(opts.data),
      });
      input = pairReportInput(ctx, ds, e);
    }
    const log = findTrainingLog(modelDir);
    if (log) {
      input.trainingLog = log.records;
      input.trainingLogSource = log.path;
    }
    const path = await writeReport(input, opts.out);
    console.log(`report written to ${path}`);
  });
}
