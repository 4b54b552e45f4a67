/**
 * OTB one-pass evaluation (Wu, Lim & Yang 2013): the success plot is the fraction of frames
 * whose IoU with the ground truth exceeds each overlap threshold in [0, 1]; its area under the
 * curve (mean over 21 thresholds 0, 0.05, ..., 1) is the headline number. The precision plot is
 * the fraction of frames whose centre error is within each pixel threshold; precision at 20 px is
 * the second headline. Frames without ground truth (target absent, `null`) are left out, as the
 * benchmarks do.
 */
import { centerError, iou, type Box } from './boxes.js';

export const SUCCESS_THRESHOLDS: readonly number[] = Array.from({ length: 21 }, (_, i) => i / 20);
export const PRECISION_THRESHOLDS: readonly number[] = Array.from({ length: 51 }, (_, i) => i);

export interface CurvePoint {
  threshold: number;
  value: number;
}

export interface SequenceScores {
  /** Per-frame IoU (NaN where the ground truth is absent). */
  ious: number[];
  /** Per-frame centre error in pixels (NaN where the ground truth is absent). */
  centerErrors: number[];
  success: CurvePoint[];
  precision: CurvePoint[];
  auc: number;
  precision20: number;
  /** Frames that were scored (ground truth present). */
  frames: number;
  /** Scored frames where the box does not overlap the ground truth at all (IoU 0): VOT's failures. */
  failures: number;
}

function pairwise(predicted: readonly Box[], truth: readonly (Box | null)[]): { ious: number[]; errors: number[] } {
  if (predicted.length !== truth.length) {
    throw new Error(`metrics: ${predicted.length} predicted boxes for ${truth.length} ground-truth boxes`);
  }
  const ious: number[] = [];
  const errors: number[] = [];
  predicted.forEach((p, i) => {
    const t = truth[i];
    if (!t) {
      ious.push(NaN);
      errors.push(NaN);
      return;
    }
    for (const v of [p.x, p.y, p.w, p.h]) {
      if (!Number.isFinite(v)) throw new Error(`metrics: predicted box ${i} is not finite: ${JSON.stringify(p)}`);
    }
    ious.push(iou(p, t));
    errors.push(centerError(p, t));
  });
  return { ious, errors };
}

/** Fraction of `values` (NaN ignored) for which `pass(value)` holds. */
function fraction(values: readonly number[], pass: (v: number) => boolean): number {
  let n = 0;
  let k = 0;
  for (const v of values) {
    if (Number.isNaN(v)) continue;
    n++;
    if (pass(v)) k++;
  }
  return n === 0 ? 0 : k / n;
}

export function successCurve(ious: readonly number[]): CurvePoint[] {
  // Strictly greater, as OTB's code: IoU 0 frames never count, even at threshold 0.
  return SUCCESS_THRESHOLDS.map((t) => ({ threshold: t, value: fraction(ious, (v) => v > t) }));
}

export function precisionCurve(errors: readonly number[]): CurvePoint[] {
  return PRECISION_THRESHOLDS.map((t) => ({ threshold: t, value: fraction(errors, (v) => v <= t) }));
}

/** Area under the success plot: the mean of its values over the evenly spaced thresholds. */
export function successAuc(curve: readonly CurvePoint[]): number {
  if (curve.length === 0) return 0;
  return curve.reduce((s, p) => s + p.value, 0) / curve.length;
}

export function scoreSequence(predicted: readonly Box[], truth: readonly (Box | null)[]): SequenceScores {
  const { ious, errors } = pairwise(predicted, truth);
  const success = successCurve(ious);
  const precision = precisionCurve(errors);
  return {
    ious,
    centerErrors: errors,
    success,
    precision,
    auc: successAuc(success),
    precision20: fraction(errors, (v) => v <= 20),
    frames: ious.filter((v) => !Number.isNaN(v)).length,
    failures: ious.filter((v) => v === 0).length,
  };
}
