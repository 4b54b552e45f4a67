/**
 * Gathers what the HTML report shows from an evaluation: class-folder pairs (evaluatePairs) or
 * reference-based signature trials. Converts similarities to the model's own score units, so
 * the plots read as probabilities or distances like everything else the user sees.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { ImageDataset } from '../data/dataset.js';
import type { Image } from '../data/image.js';
import { readJsonl, type LogRecord } from '../training/jsonl_log.js';
import type { PairEvaluation } from '../verification/evaluate.js';
import { rocCurve, statsAtThreshold } from '../verification/metrics.js';
import { similarityToScore, describeScore, scoreKindOf, type ScoreMeta } from '../verification/score_kind.js';
import type { ReferenceEvalResult } from '../applications/signatures/reference_verification.js';
import { signaturePixels, type SignatureSet } from '../applications/signatures/layout.js';
import type { ReportInput, ReportPair } from './html.js';

const pct = (x: number) => `${(100 * x).toFixed(2)}%`;

/** The training log(s) saved with a model: every *.jsonl file in its folder, first one wins. */
export function findTrainingLog(modelDir: string): { path: string; records: LogRecord[] } | null {
  if (!existsSync(modelDir)) return null;
  const logs = readdirSync(modelDir).filter((f) => f.endsWith('.jsonl')).sort();
  for (const f of logs) {
    const records = readJsonl(join(modelDir, f));
    if (records.length > 0) return { path: join(modelDir, f), records };
  }
  return null;
}

export interface ReportContext {
  modelDir: string;
  dataPath: string;
  meta: ScoreMeta & { method?: string; encoder?: string };
  /** How many worst errors to show per kind. */
  worst?: number;
}

function header(ctx: ReportContext): string[] {
  return [
    `model: ${ctx.modelDir} (${ctx.meta.method ?? '?'} / ${ctx.meta.encoder ?? '?'}, score: ${describeScore(scoreKindOf(ctx.meta), ctx.meta.distance)})`,
    `data: ${ctx.dataPath}`,
    `generated: ${new Date().toISOString()}`,
  ];
}

/** Report input for genuine / impostor pairs of a class-folder dataset. */
export function pairReportInput(ctx: ReportContext, ds: ImageDataset, e: PairEvaluation): ReportInput {
  const kind = e.kind;
  const u = (v: number) => similarityToScore(v, kind);
  const worst = ctx.worst ?? 12;
  const genuineIdx: number[] = [];
  const impostorIdx: number[] = [];
  e.pairs.same.forEach((s, k) => (s ? genuineIdx : impostorIdx).push(k));
  const t = e.modelThreshold ?? e.calibration.threshold;
  const caption = (i: number) => `${ds.classNames[ds.labels[i]!]} · ${ds.paths[i]}`;
  const card = (k: number): ReportPair => ({
    left: [ds.image(e.pairs.left[k]!)],
    right: ds.image(e.pairs.right[k]!),
    leftCaption: caption(e.pairs.left[k]!),
    rightCaption: caption(e.pairs.right[k]!),
    score: u(e.similarities[k]!),
    truth: e.pairs.same[k] ? 'same' : 'different',
  });
  // Worst = furthest on the wrong side; only pairs the threshold actually gets wrong.
  const falseRejects = genuineIdx.filter((k) => e.similarities[k]! < t.value).sort((a, b) => e.similarities[a]! - e.similarities[b]!).slice(0, worst).map(card);
  const falseAccepts = impostorIdx.filter((k) => e.similarities[k]! >= t.value).sort((a, b) => e.similarities[b]! - e.similarities[a]!).slice(0, worst).map(card);
  const at = e.atModelThreshold ?? e.atCalibrated;
  const s = e.summary;
  return {
    title: 'Verification report',
    subtitle: header(ctx),
    summary: [
      ['pairs', `${s.genuinePairs} genuine / ${s.impostorPairs} impostor${e.pairs.sampled ? ' (sampled)' : ''} from ${ds.numClasses} classes, ${ds.size} images`],
      ['ROC AUC', s.auc.toFixed(4)],
      ['equal error rate', pct(s.eer)],
      ['TAR at FAR = 1e-2', `${pct(s.tarAtFar1e2)}${s.farUnderResolved['1e-2'] ? ' (too few impostor pairs to resolve)' : ''}`],
      ['TAR at FAR = 1e-3', `${pct(s.tarAtFar1e3)}${s.farUnderResolved['1e-3'] ? ' (too few impostor pairs to resolve)' : ''}`],
      ['threshold', `${u(t.value).toPrecision(4)} (${e.modelThreshold ? 'stored in the model' : 'calibrated here'}: ${t.source})`],
      ['at the threshold', `accuracy ${pct(at.accuracy)}, FAR ${pct(at.far)}, FRR ${pct(at.frr)}`],
      ...(ds.skipped.length ? [['skipped images', `${ds.skipped.length}: ${ds.skipped.slice(0, 10).map((x) => `${x.path} (${x.reason})`).join(', ')}${ds.skipped.length > 10 ? ', ...' : ''}`] as [string, string]] : []),
    ],
    roc: e.roc,
    eer: s.eer,
    operatingPoint: { far: at.far, tar: 1 - at.frr, label: 'threshold' },
    genuineScores: genuineIdx.map((k) => u(e.similarities[k]!)),
    impostorScores: impostorIdx.map((k) => u(e.similarities[k]!)),
    scoreLabel: describeScore(kind, ctx.meta.distance),
    threshold: u(t.value),
    thresholdLabel: `threshold ${u(t.value).toPrecision(4)}`,
    falseRejects,
    falseAccepts,
  };
}

function signatureImage(set: SignatureSet, i: number): Image {
  return { width: set.width, height: set.height, channels: set.channels, data: signaturePixels(set, i).slice() };
}

/** Report input for reference-based signature verification (genuine vs skilled forgeries). */
export function signatureReportInput(ctx: ReportContext, set: SignatureSet, r: ReferenceEvalResult): ReportInput {
  const kind = scoreKindOf(ctx.meta);
  const u = (v: number) => similarityToScore(v, kind);
  const worst = ctx.worst ?? 12;
  const genuine = r.trials.filter((t) => t.kind === 'genuine');
  const skilled = r.trials.filter((t) => t.kind === 'skilled');
  const scores = { genuine: genuine.map((t) => t.similarity), impostor: skilled.map((t) => t.similarity), direction: 'higher-is-same' as const };
  const roc = rocCurve(scores);
  const at = statsAtThreshold(scores, r.threshold);
  const card = (t: (typeof r.trials)[number]): ReportPair => ({
    left: t.references.map((i) => signatureImage(set, i)),
    right: signatureImage(set, t.questioned),
    leftCaption: `${t.references.length} genuine reference(s) of ${t.claimed}`,
    rightCaption: `${set.files[t.questioned]!.path} (${t.kind})`,
    score: u(t.similarity),
    truth: t.kind === 'genuine' ? 'same' : 'different',
  });
  return {
    title: 'Signature verification report',
    subtitle: header(ctx),
    summary: [
      ['protocol', `writer-independent; ${r.references} genuine reference(s) per questioned signature; ${r.persons} persons` +
        (r.skippedPersons.length ? ` (skipped, too few genuine: ${r.skippedPersons.join(', ')})` : '')],
      ['trials', `${r.genuineTrials} genuine, ${r.skilledTrials} skilled forgeries, ${r.randomTrials} random forgeries`],
      ['ROC AUC (genuine vs skilled)', r.auc.toFixed(4)],
      ['equal error rate (skilled)', pct(r.eer)],
      ['FAR (skilled) / FRR at the threshold', `${pct(r.far)} / ${pct(r.frr)}`],
      ['FAR (random forgeries) at the threshold', pct(r.farRandom)],
      ['AUC / EER (genuine vs random)', `${r.aucRandom.toFixed(4)} / ${pct(r.eerRandom)}`],
      ['threshold', `${u(r.threshold).toPrecision(4)} (${r.thresholdSource})`],
    ],
    roc,
    eer: r.eer,
    operatingPoint: { far: at.far, tar: 1 - at.frr, label: 'threshold' },
    genuineScores: scores.genuine.map(u),
    impostorScores: scores.impostor.map(u),
    scoreLabel: `mean ${describeScore(kind, ctx.meta.distance)} to the references`,
    genuineName: 'genuine',
    impostorName: 'skilled forgery',
    threshold: u(r.threshold),
    thresholdLabel: `threshold ${u(r.threshold).toPrecision(4)}`,
    falseRejects: genuine.filter((t) => t.similarity < r.threshold).sort((a, b) => a.similarity - b.similarity).slice(0, worst).map(card),
    falseAccepts: skilled.filter((t) => t.similarity >= r.threshold).sort((a, b) => b.similarity - a.similarity).slice(0, worst).map(card),
    notes: ['Impostors here are skilled forgeries (someone imitating the claimed person).'],
  };
}
