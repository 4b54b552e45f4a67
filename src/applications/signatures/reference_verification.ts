/**
 * Reference-based signature verification: a person enrols K genuine signatures; a questioned
 * signature claiming to be that person is scored against them by one of two decisions:
 *  - 'distance' (writer-independent): the mean similarity of the questioned signature to the K
 *    references (minus the mean embedding distance);
 *  - 'wd' (writer-dependent, SigNet's second stage): a classifier trained per claimed writer on
 *    the K references against genuine signatures of other writers, scoring log-odds
 *    (src/verification/writer_dependent.ts).
 * Either score is higher = genuine and is compared with one global threshold.
 *
 * Evaluation follows the usual protocol: per person, every genuine signature is questioned
 * against K *other* genuine ones (leave-one-out), every skilled forgery against K genuine ones,
 * and genuine signatures of other persons serve as random forgeries. The writer-dependent
 * classifier never sees the questioned signature's writer among its negatives.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { SimilarityScorer } from '../../verification/verifier.js';
import { summarize, statsAtThreshold, equalErrorRate, type LabelledScores } from '../../verification/metrics.js';
import { REFERENCE_DECISIONS, WriterDependentVerifier, type LabelledEmbedding, type ReferenceDecision, type WriterDependentKernel } from '../../verification/writer_dependent.js';
import { Rng } from '../../util/random.js';
import type { SignatureSet } from './layout.js';

/** How a questioned signature is compared with the claimed writer's references. */
export type SignatureDecision = ReferenceDecision;
export const SIGNATURE_DECISIONS = REFERENCE_DECISIONS;

export type ReferenceAggregate = 'mean' | 'max';

/** Similarity (higher = same) of a questioned signature to a person's references. */
export function referenceSimilarity(
  scorer: Pick<SimilarityScorer, 'similarity'>,
  questioned: Float32Array,
  references: readonly Float32Array[],
  aggregate: ReferenceAggregate = 'mean',
): number {
  if (references.length === 0) throw new Error('reference verification needs at least one genuine reference signature');
  const sims = tf.tidy(() => scorer.similarity(questioned, [...references]));
  return aggregate === 'max' ? Math.max(...sims) : sims.reduce((a, b) => a + b, 0) / sims.length;
}

export interface ReferenceTrial {
  /** Index (in the set) of the questioned signature. */
  questioned: number;
  references: number[];
  claimed: string;
  kind: 'genuine' | 'skilled' | 'random';
  /** The decision's score, higher = genuine: mean similarity ('distance') or log-odds ('wd'). */
  similarity: number;
}

export interface ReferenceEvalOptions {
  references: number;
  seed: number;
  aggregate?: ReferenceAggregate;
  /** Random forgeries per person (genuine signatures of others); default 10. */
  randomPerPerson?: number;
  /** Decision threshold in the decision's score units; default: the model's stored one. */
  threshold?: number;
  /** Default 'distance'. */
  decision?: SignatureDecision;
  /**
   * 'wd': genuine signatures of writers outside the evaluated set, added to the negatives (e.g.
   * the feature extractor's training writers). The set's other writers are negatives anyway.
   */
  negatives?: readonly LabelledEmbedding[];
  /** 'wd': L2 penalty of the per-writer classifier. */
  l2?: number;
  /** 'wd': the classifier's kernel (linear or rbf). */
  kernel?: WriterDependentKernel;
  /**
   * Writers with fewer than K genuine signatures are an error naming them (default); true leaves
   * them out (listed in skippedPersons).
   */
  skipShortWriters?: boolean;
}

export interface ReferenceEvalResult {
  decision: SignatureDecision;
  references: number;
  persons: number;
  /** Persons skipped (skipShortWriters) because they have fewer than K genuine signatures. */
  skippedPersons: string[];
  genuineTrials: number;
  skilledTrials: number;
  randomTrials: number;
  /** Genuine vs skilled forgeries: the numbers that matter. */
  auc: number;
  eer: number;
  /** At `threshold`: skilled forgeries accepted, genuine signatures rejected. */
  far: number;
  frr: number;
  /** Random forgeries accepted at `threshold`. */
  farRandom: number;
  /** Genuine vs random forgeries. */
  aucRandom: number;
  eerRandom: number;
  /** Threshold used for far / frr (similarity units) and where it came from. */
  threshold: number;
  thresholdSource: string;
  trials: ReferenceTrial[];
}

/**
 * @param embeddings embedding of every signature in `set` (same order as set.files).
 */
export function evaluateReferenceVerification(
  scorer: SimilarityScorer,
  set: SignatureSet,
  embeddings: readonly Float32Array[],
  opts: ReferenceEvalOptions,
): ReferenceEvalResult {
  const k = opts.references;
  if (!(Number.isInteger(k) && k >= 1)) throw new Error(`--references must be a positive integer, got ${k}`);
  if (embeddings.length !== set.files.length) throw new Error(`${embeddings.length} embeddings for ${set.files.length} signatures`);
  const rng = new Rng(opts.seed);
  const genuineOf = new Map<string, number[]>();
  const forgeriesOf = new Map<string, number[]>();
  set.files.forEach((f, i) => {
    const m = f.genuine ? genuineOf : forgeriesOf;
    if (!m.has(f.claimed)) m.set(f.claimed, []);
    m.get(f.claimed)!.push(i);
  });
  const persons = [...genuineOf.keys()].sort();
  const short = persons.filter((p) => genuineOf.get(p)!.length < k);
  if (short.length && !opts.skipShortWriters) {
    const p = short[0]!;
    throw new Error(
      `writer ${p} has ${genuineOf.get(p)!.length} genuine signature(s), fewer than the ${k} references asked for` +
      `${short.length > 1 ? ` (so do ${short.slice(1).join(', ')})` : ''}: lower --references, or leave such writers out with --skip-short-writers`,
    );
  }
  const usable = persons.filter((p) => !short.includes(p));
  const skippedPersons = short;
  if (usable.length === 0) throw new Error(`${k} references: no writer has ${k} genuine signatures`);
  if (!usable.some((p) => genuineOf.get(p)!.length >= k + 1)) {
    const most = Math.max(...persons.map((p) => genuineOf.get(p)!.length));
    throw new Error(`${k} references need persons with at least ${k + 1} genuine signatures (one is questioned); the most any person has is ${most}`);
  }
  const decision = opts.decision ?? 'distance';
  const wd = decision === 'wd'
    ? new WriterDependentVerifier(
      [...usable.flatMap((p) => genuineOf.get(p)!.map((i) => ({ writer: p, embedding: embeddings[i]! }))), ...(opts.negatives ?? [])],
      { ...(opts.l2 !== undefined ? { l2: opts.l2 } : {}), ...(opts.kernel ? { kernel: opts.kernel } : {}) },
    )
    : null;
  const trials: ReferenceTrial[] = [];
  const score = (q: number, refs: number[], claimed: string, questionedWriter: string): number => {
    if (!wd) return referenceSimilarity(scorer, embeddings[q]!, refs.map((r) => embeddings[r]!), opts.aggregate);
    return wd.fit(claimed, refs.map((r) => embeddings[r]!), [questionedWriter]).score(embeddings[q]!);
  };
  const randomPer = opts.randomPerPerson ?? 10;
  for (const p of usable) {
    const gen = genuineOf.get(p)!;
    if (gen.length > k) {
      for (const q of gen) {
        const refs = rng.sample(gen.filter((g) => g !== q), k);
        trials.push({ questioned: q, references: refs, claimed: p, kind: 'genuine', similarity: score(q, refs, p, p) });
      }
    }
    for (const q of forgeriesOf.get(p) ?? []) {
      const refs = rng.sample(gen, k);
      trials.push({ questioned: q, references: refs, claimed: p, kind: 'skilled', similarity: score(q, refs, p, set.files[q]!.writer) });
    }
    const others = usable.filter((o) => o !== p).flatMap((o) => genuineOf.get(o)!);
    for (const q of rng.sample(others, Math.min(randomPer, others.length))) {
      const refs = rng.sample(gen, k);
      trials.push({ questioned: q, references: refs, claimed: p, kind: 'random', similarity: score(q, refs, p, set.files[q]!.claimed) });
    }
  }
  const sims = (kind: ReferenceTrial['kind']) => trials.filter((t) => t.kind === kind).map((t) => t.similarity);
  const genuine = sims('genuine');
  const skilled = sims('skilled');
  const random = sims('random');
  if (skilled.length === 0) throw new Error(`${set.location}: no skilled forgeries (forge/ folder) for the persons evaluated`);
  const skilledScores: LabelledScores = { genuine, impostor: skilled, direction: 'higher-is-same' };
  const randomScores: LabelledScores = { genuine, impostor: random.length ? random : skilled, direction: 'higher-is-same' };
  const s = summarize(skilledScores);
  const stored = decision === 'wd' ? scorer.meta.writerDependent?.threshold : scorer.meta.threshold;
  let threshold: number;
  let thresholdSource: string;
  if (opts.threshold !== undefined) {
    threshold = opts.threshold;
    thresholdSource = 'given by the caller';
  } else if (stored && Number.isFinite(stored.value)) {
    threshold = stored.value;
    thresholdSource = `model: ${stored.source}`;
  } else {
    // No stored threshold: FAR / FRR at the EER point of these very data (optimistic; said so).
    threshold = s.eerThreshold;
    thresholdSource = 'EER threshold of this evaluation (the model stores none; optimistic)';
  }
  const atT = statsAtThreshold(skilledScores, threshold);
  const atTRandom = random.length ? statsAtThreshold(randomScores, threshold) : null;
  return {
    decision,
    references: k,
    persons: usable.length,
    skippedPersons,
    genuineTrials: genuine.length,
    skilledTrials: skilled.length,
    randomTrials: random.length,
    auc: s.auc,
    eer: s.eer,
    far: atT.far,
    frr: atT.frr,
    farRandom: atTRandom ? atTRandom.far : NaN,
    aucRandom: random.length ? summarize(randomScores).auc : NaN,
    eerRandom: random.length ? equalErrorRate(randomScores).eer : NaN,
    threshold,
    thresholdSource,
    trials,
  };
}
