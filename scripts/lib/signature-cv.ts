/**
 * What the signature cross-validation scripts share (report-signatures.ts: one 16/4 split per
 * fold; nested-cv-signatures.ts: inner folds): loading a fold model with the embeddings of every
 * signature, the validation trials that choose, and the test rows that report, with the same
 * trials, seeds and negatives in both.
 */
import { calibrateThreshold } from '../../src/verification/calibration.js';
import type { SiameseScorer } from '../../src/inference/embedder.js';
import { loadScorer } from '../../src/inference/load.js';
import { summarize } from '../../src/verification/metrics.js';
import type { LabelledEmbedding, WriterDependentKernel } from '../../src/verification/writer_dependent.js';
import { SIGNATURES_PREPROCESS, loadSignatures, subset, type SignatureSet } from '../../src/applications/signatures/layout.js';
import { evaluateReferenceVerification, type ReferenceEvalOptions, type ReferenceTrial, type SignatureDecision } from '../../src/applications/signatures/reference_verification.js';

export const KS = [1, 2, 3, 4];
export interface WdConfig { kernel: WriterDependentKernel; l2: number }

export function parseWdGrid(spec: string): WdConfig[] {
  return spec.split(',').map((c) => {
    const [kernel, l2] = c.split(':');
    if ((kernel !== 'linear' && kernel !== 'rbf') || !(Number(l2) > 0)) throw new Error(`--wd: expected kernel:l2 pairs such as linear:1,rbf:10, got '${c}'`);
    return { kernel: kernel as WriterDependentKernel, l2: Number(l2) };
  });
}

/** A candidate of the cross-validation as the reports name it: recipe, checkpoint, decision, wd classifier. */
export const candidateLabel = (c: { recipe: string; step: number; decision: SignatureDecision; wd: WdConfig | null }) =>
  `${c.recipe} @${c.step} ${c.decision}${c.wd ? ` ${c.wd.kernel}:${c.wd.l2}` : ''}`;

export const mean = (v: readonly number[]) => v.reduce((a, b) => a + b, 0) / v.length;
export const sd = (v: readonly number[]) => Math.sqrt(mean(v.map((x) => (x - mean(v)) ** 2)));
export const pct = (v: number) => `${(100 * v).toFixed(1)}%`;
export const scores = (trials: readonly ReferenceTrial[], kind: ReferenceTrial['kind']) => trials.filter((t) => t.kind === kind).map((t) => t.similarity);
/** Genuine vs skilled-forgery EER. */
export const eerOf = (trials: readonly ReferenceTrial[]) => summarize({ genuine: scores(trials, 'genuine'), impostor: scores(trials, 'skilled'), direction: 'higher-is-same' }).eer;
/** The EER threshold of genuine vs skilled-forgery trials. */
export const eerThreshold = (trials: readonly ReferenceTrial[]) => calibrateThreshold(scores(trials, 'genuine'), scores(trials, 'skilled'), 'eer', 'validation').threshold.value;

/** A trained fold model, every signature of the data embedded, and the persons of its split. */
export interface FoldModel {
  dir: string;
  scorer: SiameseScorer;
  embeddings: Float32Array[];
  testPersons: string[];
  validationPersons: string[];
  trainPersons: string[];
}

/** `decision`: the one the row was scored with, or a label for a per-fold choice ('chosen'). */
export interface TestRow { fold: number; decision: SignatureDecision | 'chosen'; references: number; auc: number; eer: number; far: number; frr: number; farRandom: number; threshold: number; genuineTrials: number; skilledTrials: number; randomTrials: number; genuineRejected: number; skilledAccepted: number; randomAccepted: number }

export class SignatureFolds {
  // Fold models trained at another input size (train-signatures.ts --size) get their own pixels.
  private readonly pixelsBySize: Map<string, Uint8Array>;

  private constructor(readonly data: string, readonly all: SignatureSet) {
    this.pixelsBySize = new Map([[`${all.height}x${all.width}`, all.pixels]]);
  }

  static async load(data: string): Promise<SignatureFolds> {
    return new SignatureFolds(data, await loadSignatures(data, SIGNATURES_PREPROCESS));
  }

  private async pixelsFor(height: number, width: number): Promise<Uint8Array> {
    const key = `${height}x${width}`;
    if (!this.pixelsBySize.has(key)) this.pixelsBySize.set(key, (await loadSignatures(this.data, { ...SIGNATURES_PREPROCESS, height, width })).pixels);
    return this.pixelsBySize.get(key)!;
  }

  /**
   * Loads a fold model; `expectTest`: the outer fold's test persons it must have been trained for;
   * `ttaViews`: embeddings averaged over that many fixed jitters (SiameseScorer.withTestTimeAugmentation).
   */
  async loadModel(dir: string, expectTest: readonly string[], ttaViews = 1): Promise<FoldModel> {
    const scorer = (await loadScorer(dir)).withTestTimeAugmentation(ttaViews);
    const t = scorer.meta.training as { testPersons: string[]; validationPersons: string[]; trainPersons: string[] };
    if (t.testPersons.join() !== expectTest.join()) throw new Error(`${dir}: trained for test persons ${t.testPersons.join()}, but the fold's are ${expectTest.join()} (different --seed or --folds?)`);
    const [height, width] = scorer.meta.inputShape;
    return { dir, scorer, embeddings: scorer.embedFlat(await this.pixelsFor(height!, width!), this.all.files.length), testPersons: t.testPersons, validationPersons: t.validationPersons, trainPersons: t.trainPersons };
  }

  /** Genuine signatures of `persons`, embedded: the writer-dependent negatives. */
  genuineOf(m: FoldModel, persons: readonly string[]): LabelledEmbedding[] {
    return this.all.files.flatMap((f, i) => (f.genuine && persons.includes(f.claimed) ? [{ writer: f.claimed, embedding: m.embeddings[i]! }] : []));
  }

  part(m: FoldModel, persons: readonly string[]): { set: SignatureSet; emb: Float32Array[] } {
    const idx = this.all.files.map((f, i) => (persons.includes(f.claimed) ? i : -1)).filter((i) => i >= 0);
    return { set: subset(this.all, (f) => persons.includes(f.claimed)), emb: idx.map((i) => m.embeddings[i]!) };
  }

  /** The model's validation persons' trials, K = 1..4 pooled, for one decision (negatives: its training persons). */
  validationTrials(m: FoldModel, decision: SignatureDecision, wd: WdConfig): ReferenceTrial[] {
    const { set, emb } = this.part(m, m.validationPersons);
    const out: ReferenceTrial[] = [];
    for (const k of KS) {
      out.push(...evaluateReferenceVerification(m.scorer, set, emb, {
        references: k, seed: 100 + k, decision, ...wd, skipShortWriters: true, randomPerPerson: 0, threshold: 0,
        negatives: this.genuineOf(m, m.trainPersons),
      }).trials);
    }
    return out;
  }

  /** The model's test persons, K = 1..4 (or `ks`), at `threshold` (negatives: every development person). */
  testRows(m: FoldModel, fold: number, decision: SignatureDecision, wd: WdConfig, threshold: number, ks: readonly number[] = KS): TestRow[] {
    const { set, emb } = this.part(m, m.testPersons);
    return ks.map((k) => {
      const opts: ReferenceEvalOptions = {
        references: k, seed: k, decision, ...wd, threshold, skipShortWriters: true,
        negatives: this.genuineOf(m, [...m.trainPersons, ...m.validationPersons]),
      };
      const r = evaluateReferenceVerification(m.scorer, set, emb, opts);
      return {
        fold, decision, references: k, auc: r.auc, eer: r.eer, far: r.far, frr: r.frr, farRandom: r.farRandom, threshold,
        genuineTrials: r.genuineTrials, skilledTrials: r.skilledTrials, randomTrials: r.randomTrials,
        genuineRejected: Math.round(r.frr * r.genuineTrials), skilledAccepted: Math.round(r.far * r.skilledTrials), randomAccepted: Math.round(r.farRandom * r.randomTrials),
      };
    });
  }
}

/** Over the folds, per decision and K: AUC and EER mean ± sd, FAR / FRR pooled over the trials. */
export function pooled(rows: readonly TestRow[]) {
  const out = [];
  for (const decision of [...new Set(rows.map((x) => x.decision))]) {
    for (const k of KS) {
      const r = rows.filter((x) => x.decision === decision && x.references === k);
      if (r.length === 0) continue;
      const sum = (f: (x: TestRow) => number) => r.reduce((a, x) => a + f(x), 0);
      out.push({
        decision, references: k,
        auc: mean(r.map((x) => x.auc)), aucSd: sd(r.map((x) => x.auc)),
        eer: mean(r.map((x) => x.eer)), eerSd: sd(r.map((x) => x.eer)),
        far: sum((x) => x.skilledAccepted) / sum((x) => x.skilledTrials),
        frr: sum((x) => x.genuineRejected) / sum((x) => x.genuineTrials),
        farRandom: sum((x) => x.randomAccepted) / sum((x) => x.randomTrials),
        genuineTrials: sum((x) => x.genuineTrials), skilledTrials: sum((x) => x.skilledTrials), randomTrials: sum((x) => x.randomTrials),
      });
    }
  }
  return out;
}

/** The pooled table as markdown rows. */
export function tableLines(summary: ReturnType<typeof pooled>): string[] {
  return [
    '| decision | K | AUC (mean ± sd over folds) | EER (mean ± sd) | FAR skilled | FRR | FAR random |',
    '|---|---|---|---|---|---|---|',
    ...summary.map((s) => `| ${s.decision} | ${s.references} | ${s.auc.toFixed(3)} ± ${s.aucSd.toFixed(3)} | ${pct(s.eer)} ± ${pct(s.eerSd)} | ${pct(s.far)} | ${pct(s.frr)} | ${pct(s.farRandom)} |`),
  ];
}

/**
 * The pooled table's AUC and EER columns only, as printed and stored by the scripts that score
 * at threshold 0 (no decision uses that threshold, so their FAR / FRR mean nothing).
 */
export function aucEerSummary(rows: readonly TestRow[]) {
  return pooled(rows).map(({ decision, references, auc, aucSd, eer, eerSd }) => ({ decision, references, auc, aucSd, eer, eerSd }));
}
export function aucEerTable(rows: readonly TestRow[]): string {
  return tableLines(pooled(rows)).map((line) => line.split('|').slice(0, 5).join('|') + '|').join('\n');
}
