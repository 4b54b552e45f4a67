/**
 * Loading a labelled dataset for a face model: every image is decoded, its largest face found and
 * aligned (pipeline.ts); an image with no face is skipped with a warning naming it, and the count
 * is kept in `dataset.skipped` for the commands' --json. Corrupt files still stop the load.
 */
import { ImageDataset, selectFiles, type LoadImageDatasetOptions } from '../../data/dataset.js';
import { decodeImage } from '../../data/image.js';
import type { FileSource } from '../../data/source.js';
import { NoFaceFoundError } from '../../inference/embedder.js';
import { ALIGNED_FACE_SIZE, FacePipeline } from './pipeline.js';

export async function loadFaceDatasetFromSource(source: FileSource, opts: LoadImageDatasetOptions): Promise<ImageDataset> {
  const cfg = opts.preprocess;
  if (!cfg.face || cfg.height !== ALIGNED_FACE_SIZE || cfg.width !== ALIGNED_FACE_SIZE || cfg.channels !== 3) {
    throw new Error(`face datasets are ${ALIGNED_FACE_SIZE}x${ALIGNED_FACE_SIZE}x3 aligned crops with preprocess.face set`);
  }
  const pipeline = await FacePipeline.load();
  const { files, newIndex, classNames, classGroups } = selectFiles(source, opts);
  const crops: Uint8Array[] = [];
  const labels: number[] = [];
  const paths: string[] = [];
  const skipped: { path: string; reason: string }[] = [];
  const progressEvery = Math.max(1, Math.floor(files.length / 100));
  for (let i = 0; i < files.length; i++) {
    const f = files[i]!;
    const where = `${source.location}: ${f.path}`;
    const img = decodeImage(source.read(f.path), where, opts.limits);
    try {
      crops.push((await pipeline.alignLargest(img, where, cfg.face)).pixels);
      labels.push(newIndex[f.label]!);
      paths.push(f.path);
    } catch (e) {
      if (!(e instanceof NoFaceFoundError)) throw e;
      skipped.push({ path: f.path, reason: 'no face found' });
      process.stderr.write(`fewshot: skipping ${where}: no face found\n`);
    }
    if (opts.onProgress && ((i + 1) % progressEvery === 0 || i + 1 === files.length)) opts.onProgress(i + 1, files.length);
  }
  // A class whose every image was skipped is dropped (and named), so that every class has examples.
  const kept = classNames.map((_, c) => labels.includes(c));
  const remap = new Int32Array(classNames.length).fill(-1);
  let next = 0;
  kept.forEach((k, c) => { if (k) remap[c] = next++; });
  const dropped = classNames.filter((_, c) => !kept[c]);
  if (dropped.length) process.stderr.write(`fewshot: no face found in any image of ${dropped.join(', ')}: left out\n`);
  if (crops.length === 0) throw new Error(`${source.location}: no face found in any of its ${files.length} images`);
  const size = ALIGNED_FACE_SIZE * ALIGNED_FACE_SIZE * 3;
  const pixels = new Uint8Array(crops.length * size);
  crops.forEach((c, i) => pixels.set(c, i * size));
  return new ImageDataset({
    height: ALIGNED_FACE_SIZE, width: ALIGNED_FACE_SIZE, channels: 3, pixels,
    labels: Int32Array.from(labels, (l) => remap[l]!),
    classNames: classNames.filter((_, c) => kept[c]),
    classGroups: classGroups.filter((_, c) => kept[c]),
    paths,
    skipped,
  });
}
