/** Where the shipped tracking model lives, and loading `--model DIR` or it with a clear error. */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadTrackingModel } from './model_io.js';

export const DEFAULT_TRACKING_MODEL_DIR = fileURLToPath(new URL('../../models/tracking/', import.meta.url));

export async function loadTrackerModel(dir?: string): ReturnType<typeof loadTrackingModel> {
  const chosen = dir ? resolve(dir) : DEFAULT_TRACKING_MODEL_DIR;
  if (!dir && !existsSync(join(chosen, 'model.json'))) {
    throw new Error(`the shipped tracking model is missing from ${chosen}: train it with 'npm run train:tracking' or pass --model DIR`);
  }
  return loadTrackingModel(chosen);
}

/** One line naming the tracking model a command uses (the shipped one when `dir` is undefined). */
export function describeTrackerModel(dir?: string): string {
  return dir ? `tracking model ${resolve(dir)}` : `no --model given: using the shipped tracking model ${DEFAULT_TRACKING_MODEL_DIR}`;
}
