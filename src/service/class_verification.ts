/**
 * Verification of one questioned image against one enrolled class (e.g. "is this signature
 * writer 017's?"), with the same two decisions as `fewshot eval-signatures`:
 *  - 'distance': mean similarity to the class's examples, against the model's threshold;
 *  - 'wd': a classifier trained on the class's examples against the other classes' examples
 *    (WriterDependentVerifier), against the model's writer-dependent threshold.
 */
import { Rng } from '../util/random.js';
import { WriterDependentVerifier, type ReferenceDecision } from '../verification/writer_dependent.js';
import type { Gallery } from './gallery.js';
import { HttpError } from './limits.js';
import type { EmbeddingModel } from './model.js';

/** Negatives a writer-dependent classifier trains on at most (sampled, seeded, from large galleries). */
export const MAX_WD_NEGATIVES = 2000;

export interface ClassVerification {
  class: string;
  decision: ReferenceDecision;
  /** Mean similarity ('distance') or log-odds ('wd'); higher = the class's. */
  score: number;
  /** null when the model has no calibrated threshold for this decision. */
  same: boolean | null;
  threshold: number | null;
  references: number;
  /** Other classes' examples the classifier trained against ('wd'). */
  negatives?: number;
}

/**
 * The decision when neither the request, nor the class (enrolled with ?decision=), nor the model
 * (fewshot.json `decision`) names one.
 */
export const DEFAULT_CLASS_DECISION: ReferenceDecision = 'distance';

export async function verifyAgainstClass(
  model: EmbeddingModel,
  gallery: Gallery,
  className: string,
  query: Float32Array,
  decision: ReferenceDecision,
  distanceThreshold: number | null,
): Promise<ClassVerification> {
  const examples = await gallery.examples(className);
  if (!examples) throw new HttpError(404, `no class '${className}'`);
  if (examples.length === 0) throw new HttpError(409, `class '${className}' has no examples to verify against: enrol some first`);
  const references = examples.map((e) => gallery.embedding(e.id)!);
  if (decision === 'distance') {
    const sims = model.similarity(query, references);
    const score = sims.reduce((a, b) => a + b, 0) / sims.length;
    return { class: className, decision, score, same: distanceThreshold === null ? null : score >= distanceThreshold, threshold: distanceThreshold, references: references.length };
  }
  const own = new Set(examples.map((e) => e.id));
  // Reservoir sample of the other classes' examples: bounded work however large the gallery.
  const rng = new Rng(0);
  const negatives: Float32Array[] = [];
  let seen = 0;
  for await (const row of gallery.scan()) {
    if (own.has(row.id)) continue;
    seen++;
    if (negatives.length < MAX_WD_NEGATIVES) negatives.push(row.embedding);
    else {
      const j = rng.int(seen);
      if (j < MAX_WD_NEGATIVES) negatives[j] = row.embedding;
    }
  }
  if (negatives.length === 0) {
    throw new HttpError(409, `the writer-dependent decision trains class '${className}' against other classes' examples, and no other class has any: enrol other classes, or ask for decision=distance`);
  }
  const wd = model.meta.writerDependent;
  const verifier = new WriterDependentVerifier(negatives.map((embedding) => ({ writer: '(other classes)', embedding })), {
    ...(wd?.l2 !== undefined ? { l2: wd.l2 } : {}),
    ...(wd?.kernel ? { kernel: wd.kernel } : {}),
  });
  const score = verifier.fit(className, references).score(query);
  const threshold = wd?.threshold?.value ?? null;
  return { class: className, decision, score, same: threshold === null ? null : score >= threshold, threshold, references: references.length, negatives: negatives.length };
}
