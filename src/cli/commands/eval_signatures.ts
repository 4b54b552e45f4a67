/**
 * `fewshot eval-signatures`: signature verification on a folder in the `real/XXXYYZZZ.png`,
 * `forge/XXXYYZZZ.png` layout: each questioned signature against K genuine references of the
 * claimed person, decided by mean embedding distance (`--decision distance`) or by a classifier
 * trained per claimed writer (`--decision wd`). Prints AUC, EER, FAR (skilled forgeries), FRR and
 * the random-forgery FAR.
 */
import type { Command } from 'commander';
import { fileURLToPath } from 'node:url';
import { loadScorer } from '../../inference/load.js';
import { loadSignatures } from '../../applications/signatures/layout.js';
import { SIGNATURE_DECISIONS, evaluateReferenceVerification, type SignatureDecision } from '../../applications/signatures/reference_verification.js';
import type { WriterDependentKernel } from '../../verification/writer_dependent.js';
import { scoreKindOf, similarityToScore, type ScoreKind } from '../../verification/score_kind.js';
import { calibrateThreshold, parseCalibrationTarget, writeThreshold, writeWriterDependentSettings, type CalibrationTarget } from '../../verification/calibration.js';
import { addBackendOption, parseInteger, parseNumber, pct, printJson, resolveModelDir, useBackend } from '../options.js';

export const SIGNATURE_MODEL_DIR = fileURLToPath(new URL('../../../models/signatures/', import.meta.url));

interface EvalSignaturesOptions {
  data: string;
  references: number;
  decision?: SignatureDecision;
  negatives?: string;
  l2?: number;
  kernel?: WriterDependentKernel;
  skipShortWriters?: boolean;
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
    .option('--decision <how>', "'wd': a classifier per claimed writer (references vs other writers' genuine signatures); 'distance': mean distance to the references (default: the model's, else distance)", parseDecision)
    .option('--negatives <path|url>', "with --decision wd: genuine signatures of further writers (same layout) to train against, besides the other writers in --data")
    .option('--l2 <penalty>', "with --decision wd: L2 penalty of the per-writer classifier (default: the model's)", parseNumber())
    .option('--kernel <linear|rbf>', "with --decision wd: the per-writer classifier's kernel (default: the model's)", parseKernel)
    .option('--skip-short-writers', 'leave out writers with fewer genuine signatures than --references (default: an error naming them)')
    .option('--model <dir>', 'model directory (default: the shipped models/signatures)')
    .option('--seed <s>', 'reference sampling seed', parseInteger(0), 0)
    .option('--aggregate <how>', 'combine the similarities to the references: mean or max', 'mean')
    .option('--threshold <t>', "decision threshold in the decision's score units: the model's distance, or the wd log-odds (default: the model's calibrated one)", parseNumber())
    .option('--target <eer|far>', "with --calibrate: 'eer' or a false accept rate (skilled forgeries) such as 0.05", parseCalibrationTarget, 'eer' as CalibrationTarget)
    .option('--calibrate, --write-threshold', "store the threshold calibrated on these trials (genuine vs skilled) in the model's fewshot.json")
    .option('--json', 'print one JSON object on stdout');
  addBackendOption(cmd).action(async (opts: EvalSignaturesOptions) => {
    if (opts.aggregate !== 'mean' && opts.aggregate !== 'max') throw new Error(`--aggregate must be mean or max, got '${opts.aggregate}'`);
    const backend = await useBackend(opts.backend, opts.json);
    const modelDir = resolveModelDir(opts.model ?? SIGNATURE_MODEL_DIR);
    const scorer = await loadScorer(modelDir);
    // The decision the model was chosen with (fewshot.json `decision`) unless one is asked for.
    const decision: SignatureDecision = opts.decision ?? scorer.meta.decision ?? 'distance';
    const wd = decision === 'wd';
    // The user sees the model's natural units: a distance (distance decision) or log-odds (wd).
    const kind: ScoreKind | 'log-odds' = wd ? 'log-odds' : scoreKindOf(scorer.meta);
    const toUser = (v: number) => (kind === 'log-odds' ? v : similarityToScore(v, kind));
    const t0 = Date.now();
    const set = await loadSignatures(opts.data, scorer.meta.preprocess);
    const embeddings = scorer.embedFlat(set.pixels, set.files.length);
    let negatives;
    if (wd && opts.negatives) {
      const extra = await loadSignatures(opts.negatives, scorer.meta.preprocess);
      const inData = new Set(set.files.map((f) => f.claimed));
      const idx = extra.files.map((f, i) => (f.genuine && !inData.has(f.claimed) ? i : -1)).filter((i) => i >= 0);
      if (idx.length === 0) throw new Error(`${opts.negatives}: no genuine signatures of writers absent from --data, nothing to add as negatives`);
      const emb = scorer.embedFlat(extra.pixels, extra.files.length);
      negatives = idx.map((i) => ({ writer: `negatives:${extra.files[i]!.claimed}`, embedding: emb[i]! }));
    }
    const l2 = opts.l2 ?? scorer.meta.writerDependent?.l2;
    const wdKernel = opts.kernel ?? scorer.meta.writerDependent?.kernel;
    const r = evaluateReferenceVerification(scorer, set, embeddings, {
      references: opts.references,
      seed: opts.seed,
      aggregate: opts.aggregate,
      decision,
      skipShortWriters: Boolean(opts.skipShortWriters),
      ...(negatives ? { negatives } : {}),
      ...(l2 !== undefined ? { l2 } : {}),
      ...(wdKernel ? { kernel: wdKernel } : {}),
      ...(opts.threshold !== undefined ? { threshold: kind === 'log-odds' ? opts.threshold : similarityToScore(opts.threshold, kind) } : {}),
    });
    let calibrated = null;
    if (opts.writeThreshold) {
      const sims = (kind: string) => r.trials.filter((t) => t.kind === kind).map((t) => t.similarity);
      const cal = calibrateThreshold(sims('genuine'), sims('skilled'), opts.target, `${opts.data} (${r.references} references, ${r.decision} decision, genuine vs skilled forgeries)`);
      if (wd) writeWriterDependentSettings(modelDir, { threshold: cal.threshold, ...(l2 !== undefined ? { l2 } : {}), ...(wdKernel ? { kernel: wdKernel } : {}) });
      else writeThreshold(modelDir, cal.threshold);
      calibrated = { threshold: toUser(cal.threshold.value), source: cal.threshold.source, far: cal.far, frr: cal.frr };
    }
    const seconds = (Date.now() - t0) / 1000;
    const { trials: _trials, ...numbers } = r;
    const out = { ...numbers, threshold: toUser(r.threshold), scoreKind: kind, calibrated, signatures: set.files.length, model: modelDir, data: opts.data, backend, seconds };
    if (opts.json) {
      printJson(out);
      return;
    }
    console.log(`${r.decision === 'wd' ? 'writer-dependent classifiers' : 'mean distance to the references'}: ${r.persons} persons, ${r.references} reference(s) each: ${r.genuineTrials} genuine, ${r.skilledTrials} skilled-forgery, ${r.randomTrials} random-forgery trials` +
      (r.skippedPersons.length ? ` (skipped, fewer than ${r.references} genuine signatures: ${r.skippedPersons.join(', ')})` : ''));
    console.log(`skilled forgeries: AUC ${r.auc.toFixed(4)}  EER ${pct(r.eer)}  FAR ${pct(r.far)}  FRR ${pct(r.frr)}`);
    console.log(`random forgeries:  AUC ${r.aucRandom.toFixed(4)}  EER ${pct(r.eerRandom)}  FAR ${pct(r.farRandom)}`);
    console.log(`threshold ${out.threshold.toFixed(4)} (${kind}; ${r.thresholdSource})`);
    if (calibrated) {
      console.log(`calibrated ${r.decision} threshold ${calibrated.threshold.toFixed(4)} written to ${modelDir}/fewshot.json (${calibrated.source}: FAR ${pct(calibrated.far)}, FRR ${pct(calibrated.frr)})`);
    }
  });
}

function parseDecision(text: string): SignatureDecision {
  if (!(SIGNATURE_DECISIONS as readonly string[]).includes(text)) throw new Error(`--decision must be ${SIGNATURE_DECISIONS.join(' or ')}, got '${text}'`);
  return text as SignatureDecision;
}

function parseKernel(text: string): WriterDependentKernel {
  if (text !== 'linear' && text !== 'rbf') throw new Error(`--kernel must be linear or rbf, got '${text}'`);
  return text;
}
