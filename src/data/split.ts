/**
 * Train / validation splits that never leak a class: by group (Omniglot alphabet) or by class,
 * chosen with a seed. Images of one class always end up on the same side.
 */
import { Rng } from '../util/random.js';
import { type ImageDataset } from './dataset.js';

export interface Split {
  train: ImageDataset;
  validation: ImageDataset;
}

export interface GroupSplitOptions {
  /** Exactly these groups go to validation (every name must exist). */
  validationGroups?: string[];
  /** Otherwise this fraction of the groups, at least one, drawn with the seed (default 0.2). */
  validationFraction?: number;
  seed: number;
}

function countFor(total: number, fraction: number, what: string): number {
  if (!(fraction > 0 && fraction < 1)) throw new Error(`split: validationFraction must be in (0, 1), got ${fraction}`);
  if (total < 2) throw new Error(`split: need at least 2 ${what} to split, have ${total}`);
  return Math.min(total - 1, Math.max(1, Math.round(total * fraction)));
}

function splitClasses(ds: ImageDataset, isValidation: (classIdx: number) => boolean): Split {
  const train: number[] = [];
  const validation: number[] = [];
  for (let c = 0; c < ds.numClasses; c++) (isValidation(c) ? validation : train).push(c);
  return { train: ds.subsetByClasses(train), validation: ds.subsetByClasses(validation) };
}

/** Splits by group (e.g. alphabet): every class of a validation group goes to validation. */
export function splitByGroup(ds: ImageDataset, opts: GroupSplitOptions): Split {
  const groups = ds.groups();
  let chosen: Set<string>;
  if (opts.validationGroups) {
    const known = new Set(groups);
    const missing = opts.validationGroups.filter((g) => !known.has(g));
    if (missing.length) throw new Error(`splitByGroup: unknown validation group(s) ${missing.join(', ')}`);
    chosen = new Set(opts.validationGroups);
    if (chosen.size === 0 || chosen.size === groups.length) {
      throw new Error(`splitByGroup: validation groups must be a non-empty proper subset of the ${groups.length} groups`);
    }
  } else {
    const k = countFor(groups.length, opts.validationFraction ?? 0.2, 'groups');
    chosen = new Set(new Rng(opts.seed).sample(groups, k));
  }
  return splitClasses(ds, (c) => chosen.has(ds.classGroups[c]!));
}

/** Splits by class, ignoring groups: a fraction of the classes, drawn with the seed, for validation. */
export function splitByClass(ds: ImageDataset, opts: { validationFraction: number; seed: number }): Split {
  const k = countFor(ds.numClasses, opts.validationFraction, 'classes');
  const all = Array.from({ length: ds.numClasses }, (_, i) => i);
  const chosen = new Set(new Rng(opts.seed).sample(all, k));
  return splitClasses(ds, (c) => chosen.has(c));
}

/** The 30 alphabets of Omniglot's background set, sorted. */
export const OMNIGLOT_BACKGROUND_ALPHABETS: readonly string[] = Object.freeze([
  'Alphabet_of_the_Magi', 'Anglo-Saxon_Futhorc', 'Arcadian', 'Armenian', 'Asomtavruli_(Georgian)', 'Balinese',
  'Bengali', 'Blackfoot_(Canadian_Aboriginal_Syllabics)', 'Braille', 'Burmese_(Myanmar)', 'Cyrillic',
  'Early_Aramaic', 'Futurama', 'Grantha', 'Greek', 'Gujarati', 'Hebrew',
  'Inuktitut_(Canadian_Aboriginal_Syllabics)', 'Japanese_(hiragana)', 'Japanese_(katakana)', 'Korean', 'Latin',
  'Malay_(Jawi_-_Arabic)', 'Mkhedruli_(Georgian)', 'N_Ko', 'Ojibwe_(Canadian_Aboriginal_Syllabics)', 'Sanskrit',
  'Syriac_(Estrangelo)', 'Tagalog', 'Tifinagh',
]);

/** Seed of this project's fixed Omniglot validation alphabets. */
export const OMNIGLOT_VALIDATION_SEED = 2015;

/**
 * The background alphabets this project holds out for validation (model selection, early
 * stopping): `count` of the 30 drawn with `seed`, sorted. The evaluation alphabets stay unseen.
 * Defaults give a fixed list (see docs/data.md).
 */
export function omniglotValidationAlphabets(count = 6, seed = OMNIGLOT_VALIDATION_SEED): string[] {
  if (!(Number.isInteger(count) && count >= 1 && count < OMNIGLOT_BACKGROUND_ALPHABETS.length)) {
    throw new Error(`omniglotValidationAlphabets: count must be in 1..${OMNIGLOT_BACKGROUND_ALPHABETS.length - 1}`);
  }
  return new Rng(seed).sample(OMNIGLOT_BACKGROUND_ALPHABETS, count).sort();
}
