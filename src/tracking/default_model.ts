/** Where the shipped tracking models live, and loading `--model DIR` or them with a clear error. */
import { existsSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadTracker, type LoadedTracker } from './loaded_tracker.js';
import { isFused, isPretrained } from './model_io.js';

/** SiamFC on the pretrained CenterNet backbone: the default tracker. */
export const DEFAULT_TRACKING_MODEL_DIR = fileURLToPath(new URL('../../models/tracking/', import.meta.url));
/** The small encoder trained from scratch: faster, less accurate. */
export const SMALL_TRACKING_MODEL_DIR = fileURLToPath(new URL('../../models/tracking-small/', import.meta.url));

export async function loadTrackerModel(dir?: string): Promise<LoadedTracker> {
  const chosen = dir ? resolve(dir) : DEFAULT_TRACKING_MODEL_DIR;
  if (!dir && !existsSync(join(chosen, 'tracker.json'))) {
    throw new Error(`the shipped tracking model is missing from ${chosen}: train it with 'npm run train:tracking' or pass --model DIR`);
  }
  return loadTracker(chosen);
}

/**
 * The models `eval-track` compares: the given folders, or both shipped ones (pretrained first).
 * Names: siamfc-pretrained / siamfc-small, plus the folder name when two would clash.
 */
export async function loadTrackerModels(dirs?: string[]): Promise<Array<LoadedTracker & { name: string }>> {
  const chosen = dirs && dirs.length > 0 ? dirs.map((d) => resolve(d)) : [DEFAULT_TRACKING_MODEL_DIR, SMALL_TRACKING_MODEL_DIR].filter((d) => existsSync(join(d, 'tracker.json')));
  if (chosen.length === 0) throw new Error(`no shipped tracking model in ${DEFAULT_TRACKING_MODEL_DIR}: train one with 'npm run train:tracking' or pass --model DIR`);
  const loaded = await Promise.all(chosen.map((d) => loadTracker(d)));
  // A fused tracker's members are pretrained-backbone networks: it is the pretrained tracker.
  const kinds = loaded.map((l) => (isPretrained(l.meta.network) || isFused(l.meta.network) ? 'siamfc-pretrained' : 'siamfc-small'));
  return loaded.map((l, i) => ({ ...l, name: kinds.filter((k) => k === kinds[i]).length > 1 ? `${kinds[i]}:${basename(chosen[i]!)}` : kinds[i]! }));
}

/** One line naming the tracking model a command uses (the shipped one when `dir` is undefined). */
export function describeTrackerModel(dir?: string): string {
  return dir ? `tracking model ${resolve(dir)}` : `no --model given: using the shipped tracking model ${DEFAULT_TRACKING_MODEL_DIR}`;
}

/** One line naming the tracking models `eval-track` compares (the shipped ones unless given). */
export function describeTrackerModels(models: ReadonlyArray<{ name: string; dir?: string }>): string {
  return `tracking models ${models.map((m) => m.name).join(', ')}`;
}
