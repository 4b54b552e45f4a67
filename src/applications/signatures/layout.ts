/**
 * The offline-signature layout `.../real/XXXYYZZZ.png` and `.../forge/XXXYYZZZ.png`: written by
 * person XXX, sample YY, claiming to be person ZZZ. A genuine signature is one in `real/` (XXX ==
 * ZZZ); a skilled forgery one in `forge/` (XXX imitating ZZZ). The identity that matters for
 * verification is always the claimed one, ZZZ.
 */
import { decodeImage } from '../../data/image.js';
import { preprocess, type PreprocessConfig } from '../../data/preprocess.js';
import { openSource, isJunkPath, type FileSource } from '../../data/source.js';
import { Rng } from '../../util/random.js';

/**
 * The signature model's own preprocessing, as in the signature literature (Hafemann et al. 2017):
 * grayscale, paper removed by Otsu's threshold, ink inverted (bright on 0), centred on the canvas
 * by its centre of mass and scaled with the aspect ratio kept (src/data/ink_normalize.ts). A blank
 * page is refused.
 */
export const SIGNATURES_PREPROCESS: PreprocessConfig = { height: 48, width: 96, channels: 1, invert: true, ink: { threshold: 'otsu', centre: 'mass' } };

export interface SignatureFile {
  /** Path inside the source, as listed. */
  path: string;
  /** Who wrote it (XXX). */
  writer: string;
  /** Sample number (YY). */
  sample: number;
  /** Whose signature it claims to be (ZZZ): the identity being verified. */
  claimed: string;
  /** True in `real/`, false in `forge/` (a skilled forgery). */
  genuine: boolean;
}

const IMAGE_EXT = /\.(png|jpe?g|pgm|ppm)$/i;
const NAME = /^(\d{3})(\d{2})(\d{3})\.[A-Za-z]+$/;

/**
 * Parses one path of the layout. Returns null for files outside a `real/` or `forge/` folder;
 * throws an Error naming the file when a file inside one does not follow XXXYYZZZ.<ext>.
 */
export function parseSignaturePath(path: string): SignatureFile | null {
  const parts = path.split('/');
  const folder = parts.length >= 2 ? parts[parts.length - 2]!.toLowerCase() : '';
  if (folder !== 'real' && folder !== 'forge') return null;
  const base = parts[parts.length - 1]!;
  if (!IMAGE_EXT.test(base)) {
    throw new Error(`${path}: not an image file name (expected XXXYYZZZ.png in ${folder}/)`);
  }
  const m = NAME.exec(base);
  if (!m) {
    throw new Error(
      `${path}: malformed signature file name '${base}': expected XXXYYZZZ.<ext> with 8 digits ` +
      '(XXX = writer, YY = sample, ZZZ = claimed person), e.g. 00101001.png',
    );
  }
  const [, writer, sample, claimed] = m;
  const genuine = folder === 'real';
  if (genuine && writer !== claimed) {
    throw new Error(`${path}: a genuine signature (in real/) must be written by the person it claims to be, but writer ${writer} != claimed ${claimed}`);
  }
  if (!genuine && writer === claimed) {
    throw new Error(`${path}: a forgery (in forge/) written by the claimed person ${claimed} himself; move it to real/`);
  }
  return { path, writer: writer!, sample: Number(sample), claimed: claimed!, genuine };
}

/** Every signature file of a source, sorted by path; throws when the layout is absent. */
export function listSignatureFiles(source: FileSource): SignatureFile[] {
  const out: SignatureFile[] = [];
  for (const p of source.list()) {
    if (isJunkPath(p)) continue;
    const f = parseSignaturePath(p);
    if (f) out.push(f);
  }
  if (out.length === 0) {
    throw new Error(`${source.location}: no signatures found: expected images in folders named real/ and forge/ (e.g. dataset3/real/00101001.png)`);
  }
  if (!out.some((f) => f.genuine)) throw new Error(`${source.location}: no genuine signatures (real/ folder is empty or missing)`);
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** Signatures decoded and preprocessed to the model's input size. */
export interface SignatureSet {
  files: SignatureFile[];
  height: number;
  width: number;
  channels: 1 | 3;
  /** files.length * height * width * channels, uint8 (model input = value / 255). */
  pixels: Uint8Array;
  location: string;
}

export function signaturePixels(set: SignatureSet, i: number): Uint8Array {
  const n = set.height * set.width * set.channels;
  return set.pixels.subarray(i * n, (i + 1) * n);
}

/** Reads, decodes and preprocesses every signature of a folder, zip or URL in the layout. */
export async function loadSignatures(
  pathOrUrl: string,
  cfg: PreprocessConfig,
  onProgress?: (done: number, total: number) => void,
): Promise<SignatureSet> {
  const source = await openSource(pathOrUrl);
  const files = listSignatureFiles(source);
  const size = cfg.height * cfg.width * cfg.channels;
  const pixels = new Uint8Array(files.length * size);
  files.forEach((f, i) => {
    const name = `${source.location}/${f.path}`;
    const img = decodeImage(source.read(f.path), name);
    let px: Uint8Array;
    try {
      px = preprocess(img, cfg);
    } catch (err) {
      throw new Error(`${name}: ${(err as Error).message}`, { cause: err });
    }
    pixels.set(px, i * size);
    onProgress?.(i + 1, files.length);
  });
  return { files, height: cfg.height, width: cfg.width, channels: cfg.channels, pixels, location: source.location };
}

/** Claimed identities present, sorted. */
export function signaturePersons(files: readonly SignatureFile[]): string[] {
  return [...new Set(files.map((f) => f.claimed))].sort();
}

/**
 * Writer-independent split (the SigNet protocol): the test persons' signatures, genuine and
 * forged, never appear in training. Split by claimed identity, seeded.
 */
export function splitByPerson(
  set: SignatureSet,
  opts: { testPersons?: readonly string[]; testFraction?: number; seed?: number },
): { train: SignatureSet; test: SignatureSet; trainPersons: string[]; testPersons: string[] } {
  const persons = signaturePersons(set.files);
  let test: string[];
  if (opts.testPersons) {
    const missing = opts.testPersons.filter((p) => !persons.includes(p));
    if (missing.length) throw new Error(`test persons not in the data: ${missing.join(', ')}`);
    test = [...opts.testPersons].sort();
  } else {
    const frac = opts.testFraction ?? 0.3;
    if (!(frac > 0 && frac < 1)) throw new Error(`testFraction must be in (0, 1), got ${frac}`);
    const k = Math.max(1, Math.round(persons.length * frac));
    test = new Rng(opts.seed ?? 0).shuffle([...persons]).slice(0, k).sort();
  }
  const testSet = new Set(test);
  const train = persons.filter((p) => !testSet.has(p));
  if (train.length === 0) throw new Error('writer-independent split left no training person');
  return { train: subset(set, (f) => !testSet.has(f.claimed)), test: subset(set, (f) => testSet.has(f.claimed)), trainPersons: train, testPersons: test };
}

/**
 * Learning curves over writers: a seeded `fraction` of a set's claimed persons (at least 2) and
 * their signatures, genuine and forged. Same seed, same persons; the others are dropped whole.
 */
export function subsampleWriters(set: SignatureSet, fraction: number, seed: number): { set: SignatureSet; persons: string[] } {
  if (!(fraction > 0 && fraction <= 1)) throw new Error(`writer fraction must be in (0, 1], got ${fraction}`);
  const all = signaturePersons(set.files);
  const n = Math.min(all.length, Math.max(2, Math.round(all.length * fraction)));
  const persons = new Rng(seed).shuffle([...all]).slice(0, n).sort();
  const keep = new Set(persons);
  return { set: subset(set, (f) => keep.has(f.claimed)), persons };
}

/**
 * Cross-validation over writers: the claimed persons shuffled (seeded) into `folds` groups of
 * near-equal size. Fold i tests on group i and trains on the others.
 */
export function writerFolds(files: readonly SignatureFile[], folds: number, seed: number): string[][] {
  const persons = signaturePersons(files);
  if (!(Number.isInteger(folds) && folds >= 2 && folds <= persons.length)) {
    throw new Error(`cross-validation needs 2..${persons.length} folds (one person at least per fold), got ${folds}`);
  }
  const shuffled = new Rng(seed).shuffle([...persons]);
  return Array.from({ length: folds }, (_, f) => shuffled.filter((_, i) => i % folds === f).sort());
}

export function subset(set: SignatureSet, keep: (f: SignatureFile) => boolean): SignatureSet {
  const size = set.height * set.width * set.channels;
  const idx = set.files.map((f, i) => (keep(f) ? i : -1)).filter((i) => i >= 0);
  const pixels = new Uint8Array(idx.length * size);
  idx.forEach((i, k) => pixels.set(set.pixels.subarray(i * size, (i + 1) * size), k * size));
  return { ...set, files: idx.map((i) => set.files[i]!), pixels };
}
