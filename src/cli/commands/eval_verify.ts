/**
 * `fewshot eval-verify`: verification metrics on labelled class folders (ROC AUC, EER, TAR at
 * FAR 1e-2 / 1e-3, accuracy at the calibrated threshold); `--calibrate` stores the threshold in
 * the model's fewshot.json.
 */
import { basename } from 'node:path';
import type { Command } from 'commander';
import { loadImageDataset } from '../../data/dataset.js';
import { loadScorer } from '../../inference/load.js';
import { evaluatePairs, pairEvaluationJson } from '../../verification/evaluate.js';
import { parseCalibrationTarget, writeThreshold, type CalibrationTarget } from '../../verification/calibration.js';
import { similarityToScore } from '../../verification/score_kind.js';
import { addBackendOption, parseInteger, pct, printJson, resolveModelDir, useBackend, warnIfSeenClasses } from '../options.js';

interface EvalVerifyOptions {
  data: string;
  model?: string;
  pairs?: number;
  seed: number;
  target: CalibrationTarget;
  writeThreshold?: boolean;
  json?: boolean;
  layout: 'auto' | 'omniglot' | 'class-folders';
  backend: string;
}

export function register(program: Command): void {
  const cmd = program
    .command('eval-verify')
    .description('verification metrics (ROC AUC, EER, TAR at FAR) on genuine / impostor pairs from class folders, and threshold calibration')
    .requiredOption('--data <path|url>', 'labelled images: <class>/<image> folders (directory or .zip)')
    .option('--model <dir>', 'model directory (default: the shipped Omniglot model)')
    .option('--pairs <n>', 'sample n genuine + n impostor pairs (default: every pair)', parseInteger(1))
    .option('--seed <s>', 'pair sampling seed', parseInteger(0), 0)
    .option('--target <eer|far>', "threshold to calibrate: 'eer' or a false accept rate such as 0.01", parseCalibrationTarget, 'eer' as CalibrationTarget)
    .option('--calibrate, --write-threshold', "store the calibrated threshold in the model's fewshot.json")
    .option('--layout <layout>', 'auto, omniglot or class-folders', 'auto')
    .option('--json', 'print one JSON object on stdout');
  addBackendOption(cmd).action(async (opts: EvalVerifyOptions) => {
    const backend = await useBackend(opts.backend, opts.json);
    const modelDir = resolveModelDir(opts.model);
    const scorer = await loadScorer(modelDir);
    const ds = await loadImageDataset(opts.data, { layout: opts.layout, preprocess: scorer.meta.preprocess });
    warnIfSeenClasses(scorer.meta, ds);
    const t0 = Date.now();
    const e = evaluatePairs(scorer, ds, {
      ...(opts.pairs !== undefined ? { pairs: opts.pairs } : {}),
      seed: opts.seed,
      target: opts.target,
      dataName: `${basename(opts.data)} (${ds.numClasses} classes, ${ds.size} images)`,
    });
    if (opts.writeThreshold) writeThreshold(modelDir, e.calibration.threshold);
    const seconds = (Date.now() - t0) / 1000;
    const json = pairEvaluationJson(e, { model: modelDir, data: opts.data, classes: ds.numClasses, images: ds.size, skipped: ds.skipped.length, backend, seconds, thresholdWritten: Boolean(opts.writeThreshold) });
    if (opts.json) {
      printJson(json);
      return;
    }
    const s = e.summary;
    const u = (v: number) => similarityToScore(v, e.kind).toFixed(4);
    console.log(`${s.genuinePairs} genuine / ${s.impostorPairs} impostor pairs${e.pairs.sampled ? ' (sampled)' : ''}, ` +
      `${ds.numClasses} classes, ${ds.size} images; score: ${e.kind} (${e.kind === 'probability' ? 'higher' : 'lower'} = same)`);
    console.log(`AUC ${s.auc.toFixed(4)}  EER ${pct(s.eer)}  TAR@FAR=1e-2 ${pct(s.tarAtFar1e2)}${s.farUnderResolved['1e-2'] ? ' (too few impostor pairs to resolve)' : ''}  ` +
      `TAR@FAR=1e-3 ${pct(s.tarAtFar1e3)}${s.farUnderResolved['1e-3'] ? ' (too few impostor pairs to resolve)' : ''}`);
    console.log(`calibrated threshold ${u(e.calibration.threshold.value)} [${e.calibration.threshold.source}]: ` +
      `accuracy ${pct(e.atCalibrated.accuracy)}, FAR ${pct(e.atCalibrated.far)}, FRR ${pct(e.atCalibrated.frr)}`);
    if (e.modelThreshold && e.atModelThreshold) {
      console.log(`model's stored threshold ${u(e.modelThreshold.value)} [${e.modelThreshold.source}]: ` +
        `accuracy ${pct(e.atModelThreshold.accuracy)}, FAR ${pct(e.atModelThreshold.far)}, FRR ${pct(e.atModelThreshold.frr)}`);
    }
    if (opts.writeThreshold) console.log(`threshold written to ${modelDir}/fewshot.json`);
  });
}
