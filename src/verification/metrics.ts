/**
 * Verification metrics on labelled scores: ROC, AUC, equal error rate, TAR at a fixed FAR,
 * accuracy at a threshold.
 *
 * Every function takes scores of genuine pairs (same identity) and impostor pairs (different
 * identity) plus the score direction, so that pair-head probabilities (higher = same) and
 * embedding distances (lower = same) go through the same code without silent sign flips.
 * A pair is accepted when its score is on the "same" side of the threshold, inclusive:
 * `score >= t` for 'higher-is-same', `score <= t` for 'lower-is-same'.
 */

export type ScoreDirection = 'higher-is-same' | 'lower-is-same';

export interface LabelledScores {
  /** Scores of pairs that truly are the same identity. */
  genuine: ArrayLike<number>;
  /** Scores of pairs that truly are different identities. */
  impostor: ArrayLike<number>;
  direction: ScoreDirection;
}

/** One operating point: accept every pair whose score is on the "same" side of `threshold`. */
export interface RocPoint {
  threshold: number;
  /** False accept rate: fraction of impostor pairs accepted. */
  far: number;
  /** True accept rate: fraction of genuine pairs accepted (1 - FRR). */
  tar: number;
}

/** Scores mapped so that higher always means "same"; throws on empty sets or non-finite values. */
function oriented(s: LabelledScores): { gen: Float64Array; imp: Float64Array } {
  if (s.direction !== 'higher-is-same' && s.direction !== 'lower-is-same') {
    throw new Error(`unknown score direction '${String(s.direction)}' (expected 'higher-is-same' or 'lower-is-same')`);
  }
  if (s.genuine.length === 0) throw new Error('verification metrics need at least one genuine pair score');
  if (s.impostor.length === 0) throw new Error('verification metrics need at least one impostor pair score');
  const sign = s.direction === 'higher-is-same' ? 1 : -1;
  const map = (a: ArrayLike<number>, what: string): Float64Array => {
    const out = new Float64Array(a.length);
    for (let i = 0; i < a.length; i++) {
      const v = a[i]!;
      if (!Number.isFinite(v)) throw new Error(`${what} score #${i} is not a finite number (${v})`);
      out[i] = sign * v;
    }
    return out;
  };
  return { gen: map(s.genuine, 'genuine'), imp: map(s.impostor, 'impostor') };
}

/**
 * The ROC curve from the strictest operating point (accept nothing: FAR = TAR = 0, threshold
 * +/-Infinity) to the most lenient one (accept everything: FAR = TAR = 1). One point per distinct
 * score value, so ties move FAR and TAR together (a diagonal segment), as they must.
 */
export function rocCurve(s: LabelledScores): RocPoint[] {
  const { gen, imp } = oriented(s);
  const sign = s.direction === 'higher-is-same' ? 1 : -1;
  const all: { v: number; genuine: boolean }[] = [];
  for (const v of gen) all.push({ v, genuine: true });
  for (const v of imp) all.push({ v, genuine: false });
  all.sort((a, b) => b.v - a.v);
  const points: RocPoint[] = [{ threshold: sign * Infinity, far: 0, tar: 0 }];
  let tp = 0;
  let fp = 0;
  for (let i = 0; i < all.length; ) {
    const v = all[i]!.v;
    while (i < all.length && all[i]!.v === v) {
      if (all[i]!.genuine) tp++;
      else fp++;
      i++;
    }
    points.push({ threshold: sign * v, far: fp / imp.length, tar: tp / gen.length });
  }
  return points;
}

/**
 * Area under the ROC curve (trapezoids over the curve above). Equals the probability that a
 * random genuine pair scores more "same" than a random impostor pair, ties counting one half.
 */
export function auc(s: LabelledScores): number {
  return aucOfCurve(rocCurve(s));
}

export function aucOfCurve(roc: readonly RocPoint[]): number {
  let area = 0;
  for (let i = 1; i < roc.length; i++) {
    const a = roc[i - 1]!;
    const b = roc[i]!;
    area += (b.far - a.far) * (a.tar + b.tar) / 2;
  }
  return area;
}

export interface EqualErrorRate {
  /** The error rate where FAR equals FRR, linearly interpolated along the ROC polyline. */
  eer: number;
  /** Threshold of the data operating point closest to equal error (smallest max(FAR, FRR)). */
  threshold: number;
  /** FAR and FRR actually obtained at `threshold` on these scores. */
  far: number;
  frr: number;
}

/**
 * Equal error rate. The ROC is a polyline from (0,0) to (1,1); FAR - FRR = FAR + TAR - 1 goes
 * from -1 to +1 along it, so it crosses zero on exactly one segment (or at a vertex): the EER is
 * the FAR at that crossing. The returned threshold is a real operating point (the one with the
 * smallest max(FAR, FRR), placed midway to the next score, see `thresholdBetween`).
 */
export function equalErrorRate(s: LabelledScores): EqualErrorRate {
  const roc = rocCurve(s);
  let eer = NaN;
  for (let i = 1; i < roc.length; i++) {
    const a = roc[i - 1]!;
    const b = roc[i]!;
    const da = a.far + a.tar - 1;
    const db = b.far + b.tar - 1;
    if (da <= 0 && db >= 0) {
      const t = db === da ? 0 : -da / (db - da);
      eer = a.far + t * (b.far - a.far);
      break;
    }
  }
  let best = 0;
  let bestWorst = Infinity;
  for (let i = 0; i < roc.length; i++) {
    const worst = Math.max(roc[i]!.far, 1 - roc[i]!.tar);
    if (worst < bestWorst) {
      bestWorst = worst;
      best = i;
    }
  }
  const p = roc[best]!;
  return { eer, threshold: thresholdBetween(roc, best, s.direction), far: p.far, frr: 1 - p.tar };
}

/**
 * The threshold for operating point `i` of the curve, moved half way towards the next more
 * lenient score: it accepts and rejects exactly the same pairs on these data but leaves a margin
 * on both sides for new data, instead of sitting on one pair's score.
 */
function thresholdBetween(roc: readonly RocPoint[], i: number, direction: ScoreDirection): number {
  const t = roc[i]!.threshold;
  const next = roc[i + 1];
  if (!Number.isFinite(t)) {
    // Accept-nothing point: just beyond the most "same" score seen.
    const first = roc[1]!.threshold;
    const step = Math.max(1e-9, Math.abs(first) * 1e-6);
    return direction === 'higher-is-same' ? first + step : first - step;
  }
  return next === undefined ? t : (t + next.threshold) / 2;
}

export interface FarOperatingPoint {
  /** Requested false accept rate. */
  targetFar: number;
  threshold: number;
  /** FAR and TAR actually obtained at `threshold` on these scores (far <= targetFar). */
  far: number;
  tar: number;
  /**
   * Fewer impostor pairs than 1 / targetFar: the target cannot be resolved and the point is the
   * strictest one with zero false accepts. Say so instead of pretending precision.
   */
  underResolved: boolean;
}

/**
 * The most lenient operating point whose FAR does not exceed `targetFar` (so TAR is the highest
 * possible at that FAR): the usual "TAR at FAR" and the threshold to store for it.
 */
export function operatingPointAtFar(s: LabelledScores, targetFar: number): FarOperatingPoint {
  if (!(targetFar >= 0 && targetFar <= 1)) throw new Error(`target FAR must be in [0, 1], got ${targetFar}`);
  const roc = rocCurve(s);
  let best = 0;
  for (let i = 1; i < roc.length; i++) if (roc[i]!.far <= targetFar) best = i;
  const p = roc[best]!;
  const nImpostor = s.impostor.length;
  return {
    targetFar,
    threshold: thresholdBetween(roc, best, s.direction),
    far: p.far,
    tar: p.tar,
    underResolved: nImpostor * targetFar < 1,
  };
}

/** Fraction of genuine pairs accepted at the best threshold whose FAR <= targetFar. */
export function tarAtFar(s: LabelledScores, targetFar: number): number {
  return operatingPointAtFar(s, targetFar).tar;
}

export interface ThresholdStats {
  threshold: number;
  far: number;
  frr: number;
  /** (true accepts + true rejects) / all pairs. */
  accuracy: number;
  /** Mean of TAR and TRR: accuracy as if genuine and impostor pairs were equally many. */
  balancedAccuracy: number;
}

/** FAR, FRR and accuracy when accepting pairs on the "same" side of `threshold` (inclusive). */
export function statsAtThreshold(s: LabelledScores, threshold: number): ThresholdStats {
  if (!Number.isFinite(threshold)) throw new Error(`threshold must be a finite number, got ${threshold}`);
  const { gen, imp } = oriented(s);
  const t = s.direction === 'higher-is-same' ? threshold : -threshold;
  let ta = 0;
  for (const v of gen) if (v >= t) ta++;
  let fa = 0;
  for (const v of imp) if (v >= t) fa++;
  const far = fa / imp.length;
  const frr = 1 - ta / gen.length;
  return {
    threshold,
    far,
    frr,
    accuracy: (ta + (imp.length - fa)) / (gen.length + imp.length),
    balancedAccuracy: (1 - far + 1 - frr) / 2,
  };
}

/** Whether a score is accepted as "same" at a threshold, in the given direction. */
export function acceptsAt(score: number, threshold: number, direction: ScoreDirection): boolean {
  return direction === 'higher-is-same' ? score >= threshold : score <= threshold;
}

export interface VerificationSummary {
  direction: ScoreDirection;
  genuinePairs: number;
  impostorPairs: number;
  auc: number;
  eer: number;
  eerThreshold: number;
  tarAtFar1e2: number;
  tarAtFar1e3: number;
  /** True where there were too few impostor pairs to resolve that FAR (see FarOperatingPoint). */
  farUnderResolved: { '1e-2': boolean; '1e-3': boolean };
  thresholdAtFar1e2: number;
  thresholdAtFar1e3: number;
}

/** Every standard number at once, from one pass over the scores. */
export function summarize(s: LabelledScores): VerificationSummary {
  const e = equalErrorRate(s);
  const p2 = operatingPointAtFar(s, 1e-2);
  const p3 = operatingPointAtFar(s, 1e-3);
  return {
    direction: s.direction,
    genuinePairs: s.genuine.length,
    impostorPairs: s.impostor.length,
    auc: auc(s),
    eer: e.eer,
    eerThreshold: e.threshold,
    tarAtFar1e2: p2.tar,
    tarAtFar1e3: p3.tar,
    farUnderResolved: { '1e-2': p2.underResolved, '1e-3': p3.underResolved },
    thresholdAtFar1e2: p2.threshold,
    thresholdAtFar1e3: p3.threshold,
  };
}
