/**
 * Storing a calibrated threshold in a model directory's fewshot.json (Node). Choosing it is in
 * threshold.ts, re-exported here.
 */
import { existsSync, readFileSync } from 'node:fs';
import { writeFileAtomically } from '../util/atomic_file.js';
import { join } from 'node:path';
import type { StoredThreshold } from './score_kind.js';
import type { WriterDependentSettings } from './writer_dependent.js';

export { calibrateThreshold, parseCalibrationTarget, type Calibration, type CalibrationTarget } from './threshold.js';

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
  writeFileAtomically(path, JSON.stringify(meta, null, 2) + '\n');
}
