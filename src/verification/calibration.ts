/**
 * Choosing and storing a model's decision threshold from labelled validation scores.
 * Thresholds are computed and stored in similarity units (higher = same), the units of
 * SiameseScorer.similarity and of ModelMetadata.threshold.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { equalErrorRate, operatingPointAtFar } from './metrics.js';
import type { StoredThreshold } from './score_kind.js';
import type { WriterDependentSettings } from './writer_dependent.js';

/** 'eer' for the equal-error threshold, or a number: the target false accept rate. */
export type CalibrationTarget = 'eer' | number;

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

/**
 * Stores `threshold` in the model's fewshot.json, keeping every other field. Written to a
 * temporary file and renamed so that a crash never leaves a half-written metadata file.
 */
export function writeThreshold(modelDir: string, threshold: StoredThreshold): void {
  if (!Number.isFinite(threshold.value)) throw new Error(`refusing to store a non-finite threshold (${threshold.value})`);
  updateMetadataFile(modelDir, (meta) => { meta.threshold = threshold; });
}

/** Stores the writer-dependent decision's settings (threshold on the log-odds, penalty), likewise. */
export function writeWriterDependentSettings(modelDir: string, settings: WriterDependentSettings): void {
  if (settings.threshold && !Number.isFinite(settings.threshold.value)) throw new Error(`refusing to store a non-finite threshold (${settings.threshold.value})`);
  updateMetadataFile(modelDir, (meta) => { meta.writerDependent = { ...(meta.writerDependent as object | undefined), ...settings }; });
}

function updateMetadataFile(modelDir: string, update: (meta: Record<string, unknown>) => void): void {
  const path = join(modelDir, 'fewshot.json');
  if (!existsSync(path)) throw new Error(`${path}: no fewshot.json in the model folder, cannot store the threshold`);
  let meta: Record<string, unknown>;
  try {
    meta = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch (err) {
    throw new Error(`${path}: not valid JSON (${(err as Error).message})`, { cause: err });
  }
  update(meta);
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, JSON.stringify(meta, null, 2) + '\n');
  renameSync(tmp, path);
}
