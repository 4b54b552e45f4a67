/**
 * A labelled image dataset held compactly: every image preprocessed to the model size and stored
 * as uint8 in one contiguous buffer (19,280 Omniglot images at 105x105 = 212 MB, at 28x28 = 15 MB),
 * converted to float only batch by batch.
 */
import { decodeImage, type DecodeLimits, type Image } from './image.js';
import { resolveLayout, type LabelledFile, type LayoutName } from './layout.js';
import { preprocess, validatePreprocessConfig, type PreprocessConfig } from './preprocess.js';
import type { FileSource } from './zip_source.js';

export interface ImageDatasetInit {
  height: number;
  width: number;
  channels: 1 | 3;
  pixels: Uint8Array;
  labels: Int32Array;
  classNames: string[];
  classGroups: string[];
  paths: string[];
  /** Source images left out (e.g. no face found), with the reason. */
  skipped?: { path: string; reason: string }[];
}

/** Labelled images preprocessed to one size, as uint8 in one buffer; `indicesByClass()` feeds the samplers, `subset()` / the split functions make train and validation sets. */
export class ImageDataset {
  readonly height: number;
  readonly width: number;
  readonly channels: 1 | 3;
  /** N * height * width * channels, image i at offset i * imageSize. */
  readonly pixels: Uint8Array;
  /** Class index of each image, 0..numClasses-1. */
  readonly labels: Int32Array;
  readonly classNames: string[];
  /** Group of each class (the alphabet for Omniglot), used to split without leaking. */
  readonly classGroups: string[];
  /** Source path of each image (for messages and reports). */
  readonly paths: string[];
  /** Source images left out while loading (e.g. no face found in them), with the reason. */
  readonly skipped: { path: string; reason: string }[];
  private byClass: number[][] | null = null;

  constructor(init: ImageDatasetInit) {
    const { height, width, channels, pixels, labels, classNames, classGroups, paths } = init;
    if (pixels.length !== labels.length * height * width * channels) {
      throw new Error(`ImageDataset: ${pixels.length} pixel bytes for ${labels.length} images of ${height}x${width}x${channels}`);
    }
    if (classGroups.length !== classNames.length) throw new Error('ImageDataset: classGroups and classNames differ in length');
    if (paths.length !== labels.length) throw new Error('ImageDataset: paths and labels differ in length');
    for (let i = 0; i < labels.length; i++) {
      if (!(labels[i]! >= 0 && labels[i]! < classNames.length)) throw new Error(`ImageDataset: label ${labels[i]} of image ${i} is out of range`);
    }
    this.height = height;
    this.width = width;
    this.channels = channels;
    this.pixels = pixels;
    this.labels = labels;
    this.classNames = classNames;
    this.classGroups = classGroups;
    this.paths = paths;
    this.skipped = init.skipped ?? [];
  }

  get size(): number {
    return this.labels.length;
  }

  get numClasses(): number {
    return this.classNames.length;
  }

  /** Bytes per image. */
  get imageSize(): number {
    return this.height * this.width * this.channels;
  }

  /** A view (no copy) of image i's pixels. */
  imagePixels(i: number): Uint8Array {
    if (!(i >= 0 && i < this.size)) throw new RangeError(`image index ${i} is outside 0..${this.size - 1}`);
    const n = this.imageSize;
    return this.pixels.subarray(i * n, (i + 1) * n);
  }

  /** Image i as an Image (a copy), e.g. to encode it as PNG. */
  image(i: number): Image {
    return { width: this.width, height: this.height, channels: this.channels, data: this.imagePixels(i).slice() };
  }

  /** For each class, the indices of its images (ascending). Cached; do not mutate. */
  indicesByClass(): number[][] {
    if (!this.byClass) {
      const out: number[][] = this.classNames.map(() => []);
      for (let i = 0; i < this.labels.length; i++) out[this.labels[i]!]!.push(i);
      this.byClass = out;
    }
    return this.byClass;
  }

  /** The distinct groups, sorted. */
  groups(): string[] {
    return [...new Set(this.classGroups)].sort();
  }

  /** A new dataset with only these classes, relabelled 0..k-1 in the given order. */
  subsetByClasses(classIdx: number[]): ImageDataset {
    const seen = new Set<number>();
    for (const c of classIdx) {
      if (!(Number.isInteger(c) && c >= 0 && c < this.numClasses)) throw new RangeError(`class index ${c} is outside 0..${this.numClasses - 1}`);
      if (seen.has(c)) throw new Error(`class index ${c} given twice`);
      seen.add(c);
    }
    const byClass = this.indicesByClass();
    const indices: number[] = [];
    const labels: number[] = [];
    classIdx.forEach((c, newLabel) => {
      for (const i of byClass[c]!) { indices.push(i); labels.push(newLabel); }
    });
    return this.gather(indices, Int32Array.from(labels), classIdx.map((c) => this.classNames[c]!), classIdx.map((c) => this.classGroups[c]!));
  }

  /** A new dataset with these images (classes kept, even if some end up empty). */
  subset(indices: ArrayLike<number>): ImageDataset {
    const idx = Array.from(indices);
    const labels = Int32Array.from(idx, (i) => this.labels[i]!);
    return this.gather(idx, labels, this.classNames.slice(), this.classGroups.slice());
  }

  private gather(indices: number[], labels: Int32Array, classNames: string[], classGroups: string[]): ImageDataset {
    const n = this.imageSize;
    const pixels = new Uint8Array(indices.length * n);
    indices.forEach((i, k) => pixels.set(this.imagePixels(i), k * n));
    return new ImageDataset({
      height: this.height, width: this.width, channels: this.channels, pixels, labels, classNames, classGroups,
      paths: indices.map((i) => this.paths[i]!),
    });
  }
}

export interface LoadImageDatasetOptions {
  layout?: LayoutName;
  preprocess: PreprocessConfig;
  onProgress?(done: number, total: number): void;
  /** Keep only classes of these groups (e.g. some alphabets). */
  groups?: string[];
  /** Keep only the classes this accepts (e.g. those a model never saw in training), after `groups`. */
  classFilter?(name: string, group: string): boolean;
  /** Keep at most this many images per class (the first by path), e.g. for quick runs. */
  maxPerClass?: number;
  limits?: DecodeLimits;
}

/** Loads a dataset from an opened source (a ZipSource from bytes in a browser; loadImageDataset in Node opens paths and URLs). */
export function loadImageDatasetFromSource(source: FileSource, opts: LoadImageDatasetOptions): ImageDataset {
  const cfg = opts.preprocess;
  validatePreprocessConfig(cfg);
  const { files, newIndex, classNames, classGroups } = selectFiles(source, opts);
  const n = files.length;
  const imageSize = cfg.height * cfg.width * cfg.channels;
  const pixels = new Uint8Array(n * imageSize);
  const labels = new Int32Array(n);
  const paths: string[] = new Array(n);
  const progressEvery = Math.max(1, Math.floor(n / 100));
  for (let i = 0; i < n; i++) {
    const f = files[i]!;
    const where = `${source.location}: ${f.path}`;
    const img = decodeImage(source.read(f.path), where, opts.limits);
    pixels.set(preprocess(img, cfg), i * imageSize);
    labels[i] = newIndex[f.label]!;
    paths[i] = f.path;
    if (opts.onProgress && ((i + 1) % progressEvery === 0 || i + 1 === n)) opts.onProgress(i + 1, n);
  }
  return new ImageDataset({ height: cfg.height, width: cfg.width, channels: cfg.channels, pixels, labels, classNames, classGroups, paths });
}

/** The files a load keeps (layout, groups and maxPerClass applied) and their new class indices. */
export function selectFiles(source: FileSource, opts: LoadImageDatasetOptions): { files: LabelledFile[]; newIndex: Int32Array; classNames: string[]; classGroups: string[] } {
  const layout = resolveLayout(source, opts.layout ?? 'auto');
  let keepClass = layout.classNames.map(() => true);
  if (opts.groups) {
    const known = new Set(layout.classGroups);
    const missing = opts.groups.filter((g) => !known.has(g));
    if (missing.length) throw new Error(`${source.location}: no group named ${missing.join(', ')} (have ${[...known].sort().join(', ')})`);
    const want = new Set(opts.groups);
    keepClass = layout.classGroups.map((g) => want.has(g));
  }
  if (opts.classFilter) keepClass = keepClass.map((keep, i) => keep && opts.classFilter!(layout.classNames[i]!, layout.classGroups[i]!));
  // New, dense class indices for the kept classes.
  const newIndex = new Int32Array(layout.classNames.length).fill(-1);
  const classNames: string[] = [];
  const classGroups: string[] = [];
  layout.classNames.forEach((name, i) => {
    if (!keepClass[i]) return;
    newIndex[i] = classNames.length;
    classNames.push(name);
    classGroups.push(layout.classGroups[i]!);
  });
  const perClass = new Int32Array(layout.classNames.length);
  const files = layout.files.filter((f) => {
    if (newIndex[f.label]! < 0) return false;
    if (opts.maxPerClass !== undefined && perClass[f.label]! >= opts.maxPerClass) return false;
    perClass[f.label]!++;
    return true;
  });
  return { files, newIndex, classNames, classGroups };
}
