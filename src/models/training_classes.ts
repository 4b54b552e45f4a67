/**
 * Which classes a model was trained on, so that an evaluation can warn when its data holds them
 * (accuracy on seen classes says little about one-shot learning). fewshot.json stores a short
 * digest of each training class name (`training.trainClassDigests`: FNV-1a, 8 hex digits,
 * sorted), compact for thousands of classes and enough to recognise a name. Models saved before
 * the digests existed are judged by their held-out groups (alphabets) instead.
 */
import { OMNIGLOT_BACKGROUND_ALPHABETS } from '../data/split.js';
import type { ModelMetadata } from './metadata.js';

/** FNV-1a (32-bit) of the UTF-16 code units of `name`, as 8 hex digits. */
export function classDigest(name: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(16).padStart(8, '0');
}

/** Digests of the training classes, rotated copies (`@rot90`...) left out: they are the same classes. */
export function trainClassDigests(classNames: readonly string[]): string[] {
  return [...new Set(classNames.filter((c) => !/@rot\d+$/.test(c)).map(classDigest))].sort();
}

export interface SeenClasses {
  /** Classes of the data that the model was trained on. */
  seen: string[];
  /** How it was decided. */
  basis: 'class digests' | 'held-out groups';
}

/** The classes of `data` that the model saw in training, or null when its metadata cannot tell. */
export function seenTrainingClasses(meta: ModelMetadata, data: { classNames: readonly string[]; classGroups: readonly string[] }): SeenClasses | null {
  const training = (meta.training ?? {}) as Record<string, unknown>;
  const digests = training['trainClassDigests'];
  if (Array.isArray(digests)) {
    const set = new Set(digests as string[]);
    return { seen: data.classNames.filter((c) => set.has(classDigest(c))), basis: 'class digests' };
  }
  // Older models: trained on the Omniglot background set minus the held-out alphabets.
  const heldOut = training['validationGroups'];
  const source = String(training['data'] ?? '');
  if (Array.isArray(heldOut) && /images_background/.test(source)) {
    const trainedGroups = new Set(OMNIGLOT_BACKGROUND_ALPHABETS.filter((g) => !(heldOut as string[]).includes(g)));
    return { seen: data.classNames.filter((_, i) => trainedGroups.has(data.classGroups[i] ?? '')), basis: 'held-out groups' };
  }
  return null;
}
