/**
 * Writer-dependent verification on writer-independent features (Hafemann et al. 2017, SigNet's
 * second stage): for each claimed writer, a small classifier separates that writer's K genuine
 * references (positives) from genuine signatures of other writers (negatives: "random
 * forgeries"), and scores a questioned signature by its log-odds of being the writer's.
 *
 * The classifier is a class-weighted, L2-penalised logistic regression on the embeddings
 * (./logistic_regression.ts). Scores are log-odds: higher = genuine, 0 = undecided; the global
 * threshold is calibrated on validation writers like any other score.
 */
import { LogisticRegression, type LogisticRegressionOptions } from './logistic_regression.js';
import type { StoredThreshold } from './score_kind.js';

/** A genuine signature of some writer, embedded: one negative for every other writer. */
export interface LabelledEmbedding {
  writer: string;
  embedding: Float32Array;
}

export interface WriterDependentOptions {
  /** L2 penalty of the per-writer classifier (default 1e-2, chosen on validation writers). */
  l2?: number;
  /**
   * 'linear': logistic regression on the embeddings. 'rbf': on the empirical kernel map
   * [exp(-gamma |x - t|^2) for every training sample t], gamma = 1 / median squared distance
   * between the references and the negatives: a local decision, high only near the references
   * (default 'linear').
   */
  kernel?: WriterDependentKernel;
}

export type WriterDependentKernel = 'linear' | 'rbf';

/** The fitted classifier of one writer. */
export interface WriterClassifier {
  writer: string;
  references: number;
  negatives: number;
  /** Log-odds that `embedding` is this writer's genuine signature. */
  score(embedding: Float32Array): number;
}

export const DEFAULT_WD_L2 = 1e-2;

/**
 * How a questioned example is compared with a class's references: 'distance', the mean
 * similarity to them (writer-independent), or 'wd', the class's own classifier.
 */
export type ReferenceDecision = 'distance' | 'wd';
export const REFERENCE_DECISIONS: readonly ReferenceDecision[] = ['distance', 'wd'];

/** What a model's fewshot.json stores for the writer-dependent decision (`writerDependent`). */
export interface WriterDependentSettings {
  /** Global threshold on the log-odds, calibrated on writers the classifier never trained on. */
  threshold?: StoredThreshold;
  l2?: number;
  kernel?: WriterDependentKernel;
}

export class WriterDependentVerifier {
  private readonly negatives: readonly LabelledEmbedding[];
  readonly options: Required<WriterDependentOptions>;

  /** @param negatives genuine signatures of many writers; the claimed writer's own are skipped at fit time. */
  constructor(negatives: readonly LabelledEmbedding[], opts: WriterDependentOptions = {}) {
    this.negatives = negatives;
    this.options = { l2: opts.l2 ?? DEFAULT_WD_L2, kernel: opts.kernel ?? 'linear' };
    if (this.options.kernel !== 'linear' && this.options.kernel !== 'rbf') throw new Error(`writer-dependent kernel must be linear or rbf, got '${String(this.options.kernel)}'`);
  }

  /** Writers that can serve as negatives. */
  get negativeWriters(): string[] {
    return [...new Set(this.negatives.map((n) => n.writer))].sort();
  }

  /**
   * Trains the classifier of `writer` from its genuine references. `exclude` leaves further
   * writers out of the negatives (an evaluation questioning one of them must not have trained on it).
   */
  fit(writer: string, references: readonly Float32Array[], exclude: readonly string[] = []): WriterClassifier {
    if (references.length === 0) throw new Error(`writer '${writer}': no genuine reference signature to train the writer-dependent classifier`);
    const skip = new Set([writer, ...exclude]);
    const negatives = this.negatives.filter((n) => !skip.has(n.writer)).map((n) => n.embedding);
    if (negatives.length === 0) {
      const left = exclude.filter((w) => w !== writer);
      throw new Error(
        `writer '${writer}': the writer-dependent decision needs genuine signatures of other writers as negatives, and there are none` +
        `${left.length ? ` besides ${left.join(', ')} (left out: being questioned)` : ''}: add writers (eval-signatures --negatives <path>)`,
      );
    }
    const dim = references[0]!.length;
    for (const r of [...references, ...negatives]) {
      if (r.length !== dim) throw new Error(`writer '${writer}': embeddings of ${r.length} and ${dim} dimensions mixed`);
    }
    const samples = [...references, ...negatives];
    const features: (x: Float32Array) => ArrayLike<number> = this.options.kernel === 'rbf' ? rbfMap(samples, references, negatives) : (x) => x;
    const lr = LogisticRegression.fit(samples.map((x) => features(x)), [...references.map(() => 1 as const), ...negatives.map(() => 0 as const)], {
      l2: this.options.l2,
      classWeight: 'balanced',
    } satisfies LogisticRegressionOptions);
    return { writer, references: references.length, negatives: negatives.length, score: (e) => lr.decision(features(e)) };
  }
}

function squaredDistance(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i]! - b[i]!) ** 2;
  return s;
}

/** x -> [exp(-gamma |x - t|^2) for t in centres], gamma from the median reference-negative distance. */
function rbfMap(centres: readonly Float32Array[], references: readonly Float32Array[], negatives: readonly Float32Array[]): (x: Float32Array) => Float64Array {
  const d2 = references.flatMap((r) => negatives.map((n) => squaredDistance(r, n))).sort((a, b) => a - b);
  const median = d2[d2.length >> 1]!;
  const gamma = median > 0 ? 1 / median : 1;
  return (x) => Float64Array.from(centres, (c) => Math.exp(-gamma * squaredDistance(x, c)));
}
