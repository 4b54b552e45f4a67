/**
 * Choosing a model's decision threshold from labelled validation scores. Thresholds are
 * computed in similarity units (higher = same), the units of SiameseScorer.similarity and of
 * ModelMetadata.threshold. Storing one in a model directory is calibration.ts's job (Node).
 */
import { equalErrorRate, operatingPointAtFar } from './metrics.js';
import type { StoredThreshold } from './score_kind.js';

/** 'eer' for the equal-error threshold, or a number: the target false accept rate. */
export type CalibrationTarget = 'eer' | number;

/** Parses 'eer' or a false accept rate in (0, 1). */
export function parseCalibrationTarget(text: string): CalibrationTarget {
  if (text.toLowerCase() === 'eer') return 'eer';
  const far = Number(text);
  if (!(Number.isFinite(far) && far > 0 && far < 1)) {
    throw new Error(`calibration target must be 'eer' or a false accept rate in (0, 1), got '${text}'`);
  }
  return far;
}

export interface Calibration {
  threshold: StoredThreshold;
  /** FAR and FRR obtained at the threshold on the calibration scores. */
  far: number;
  frr: number;
}

/**
 * The threshold for `target` from genuine and impostor similarities.
 * @param what names the data, for the threshold's `source` string.
 */
export function calibrateThreshold(
  genuine: ArrayLike<number>,
  impostor: ArrayLike<number>,
  target: CalibrationTarget,
  what: string,
): Calibration {
  const scores = { genuine, impostor, direction: 'higher-is-same' as const };
  const counts = `${genuine.length} genuine / ${impostor.length} impostor pairs`;
  if (target === 'eer') {
    const e = equalErrorRate(scores);
    return {
      threshold: { value: e.threshold, source: `eer on ${what} (${counts})`, far: e.far },
      far: e.far,
      frr: e.frr,
    };
  }
  const p = operatingPointAtFar(scores, target);
  if (p.underResolved) {
    // Still usable (zero false accepts on these data), but the caller should know.
    console.error(`fewshot: only ${impostor.length} impostor pairs: FAR ${target} is not resolved, using the strictest zero-false-accept threshold`);
  }
  return {
    threshold: { value: p.threshold, source: `far ${target} on ${what} (${counts})`, far: target },
    far: p.far,
    frr: 1 - p.tar,
  };
}
