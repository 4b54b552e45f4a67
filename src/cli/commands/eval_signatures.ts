/**
 * `fewshot eval-signatures`: writer-independent signature verification on a folder in the
 * `real/XXXYYZZZ.png`, `forge/XXXYYZZZ.png` layout: each questioned signature against K genuine
 * references of the claimed person. Prints AUC, EER, FAR (skilled forgeries) and FRR.
 */
import type { Command } from 'commander';
import { fileURLToPath } from 'node:url';
import { loadScorer } from '../../inference/load.js';
import { loadSignatures } from '../../applications/signatures/layout.js';
import { evaluateReferenceVerification } from '../../applications/signatures/reference_verification.js';
import { scoreKindOf, similarityToScore } from '../../verification/score_kind.js';
import { calibrateThreshold, parseCalibrationTarget, writeThreshold, type CalibrationTarget } from '../../verification/calibration.js';
import { addBackendOption, parseInteger, parseNumber, pct, printJson, resolveModelDir, useBackend } from '../options.js';

export const SIGNATURE_MODEL_DIR = fileURLToPath(new URL('../../../models/signatures/', import.meta.url));

interface EvalSignaturesOptions {
  data: string;
  references: number;
  model?: string;
  seed: number;
  aggregate: 'mean' | 'max';
  threshold?: number;
  target: CalibrationTarget;
  writeThreshold?: boolean;
  json?: boolean;
  backend: string;
}

export function register(program: Command): void {
  const cmd = program
    .command('eval-signatures')
    .description('signature verification (genuine vs skilled forgeries) with K genuine references per person')
    .requiredOption('--data <path|url>', 'signatures in the layout real/XXXYYZZZ.png, forge/XXXYYZZZ.png (directory or .zip)')
    .option('--references <k>', 'genuine reference signatures per person (1..5)', parseInteger(1), 3)
    .option('--model <dir>', 'model directory (default: the shipped models/signatures)')
    .option('--seed <s>', 'reference sampling seed', parseInteger(0), 0)
    .option('--aggregate <how>', 'combine the similarities to the references: mean or max', 'mean')
    .option('--threshold <t>', "decision threshold in the model's score units (default: the model's calibrated one)", parseNumber())
    .option('--target <eer|far>', "with --calibrate: 'eer' or a false accept rate (skilled forgeries) such as 0.05", parseCalibrationTarget, 'eer' as CalibrationTarget)
    .option('--calibrate, --write-threshold', "store the threshold calibrated on these trials (genuine vs skilled) in the model's fewshot.json")
    .option('--json', 'print one JSON object on stdout');
  addBackendOption(cmd).action(async (opts: EvalSignaturesOptions) => {
    if (opts.aggregate !== 'mean' && opts.aggregate !== 'max') throw new Error(`--aggregate must be mean or max, got '${opts.aggregate}'`);
    const backend = await useBackend(opts.backend, opts.json);
    const modelDir = resolveModelDir(opts.model ?? SIGNATURE_MODEL_DIR);
    const scorer = await loadScorer(modelDir);
    const kind = scoreKindOf(scorer.meta);
    const t0 = Date.now();
    const set = await loadSignatures(opts.data, scorer.meta.preprocess);
    const embeddings = scorer.embedFlat(set.pixels, set.files.length);
    const r = evaluateReferenceVerification(scorer, set, embeddings, {
      references: opts.references,
      seed: opts.seed,
      aggregate: opts.aggregate,
      ...(opts.threshold !== undefined ? { threshold: similarityToScore(opts.threshold, kind) } : {}),
    });
    let calibrated = null;
    if (opts.writeThreshold) {
      const sims = (kind: string) => r.trials.filter((t) => t.kind === kind).map((t) => t.similarity);
      const cal = calibrateThreshold(sims('genuine'), sims('skilled'), opts.target, `${opts.data} (${r.references} references, genuine vs skilled forgeries)`);
      writeThreshold(modelDir, cal.threshold);
      calibrated = { threshold: similarityToScore(cal.threshold.value, kind), source: cal.threshold.source, far: cal.far, frr: cal.frr };
    }
    const seconds = (Date.now() - t0) / 1000;
    const { trials: _trials, ...numbers } = r;
    const out = { ...numbers, threshold: similarityToScore(r.threshold, kind), scoreKind: kind, calibrated, signatures: set.files.length, model: modelDir, data: opts.data, backend, seconds };
    if (opts.json) {
      printJson(out);
      return;
    }
    console.log(`${r.persons} persons, ${r.references} reference(s) each: ${r.genuineTrials} genuine, ${r.skilledTrials} skilled-forgery, ${r.randomTrials} random-forgery trials` +
      (r.skippedPersons.length ? ` (skipped, too few genuine signatures: ${r.skippedPersons.join(', ')})` : ''));
    console.log(`skilled forgeries: AUC ${r.auc.toFixed(4)}  EER ${pct(r.eer)}  FAR ${pct(r.far)}  FRR ${pct(r.frr)}`);
    console.log(`random forgeries:  AUC ${r.aucRandom.toFixed(4)}  EER ${pct(r.eerRandom)}  FAR ${pct(r.farRandom)}`);
    console.log(`threshold ${out.threshold.toFixed(4)} (${kind}; ${r.thresholdSource})`);
    if (calibrated) {
      console.log(`calibrated threshold ${calibrated.threshold.toFixed(4)} written to ${modelDir}/fewshot.json (${calibrated.source}: FAR ${pct(calibrated.far)}, FRR ${pct(calibrated.frr)})`);
    }
  });
}
