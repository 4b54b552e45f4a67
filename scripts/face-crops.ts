/**
 * Aligned face crops of a data file, cached on disk (keyed by the file's name, size and mtime) so
 * that the face scripts detect each photo once across runs.
 */
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { ImageDataset, loadImageDataset } from '../src/data/dataset.js';
import type { PreprocessConfig } from '../src/data/preprocess.js';
import '../src/data/jpeg_turbo.js';

export async function cachedFaceDataset(file: string, preprocess: PreprocessConfig, cacheDir: string): Promise<ImageDataset> {
  const st = statSync(file);
  // The detector settings are part of the key: another detector finds other boxes.
  const f = preprocess.face;
  const detector = f?.detector && f.detector !== 'ssd-mobilenet-v1' ? `-${f.detector}-${f.inputSize}` : '';
  const key = join(cacheDir, `${basename(file)}-${st.size}-${Math.round(st.mtimeMs)}${detector}`);
  if (existsSync(`${key}.json`)) {
    const j = JSON.parse(readFileSync(`${key}.json`, 'utf8'));
    return new ImageDataset({ ...j, labels: Int32Array.from(j.labels), pixels: new Uint8Array(readFileSync(`${key}.bin`)) });
  }
  const t0 = Date.now();
  const ds = await loadImageDataset(file, { layout: 'class-folders', preprocess });
  console.error(`${file}: ${ds.size} faces in ${((Date.now() - t0) / 1000).toFixed(0)} s, ${ds.skipped.length} skipped`);
  mkdirSync(cacheDir, { recursive: true });
  writeFileSync(`${key}.bin`, ds.pixels);
  const { height, width, channels, classNames, classGroups, paths, skipped } = ds;
  writeFileSync(`${key}.json`, JSON.stringify({ height, width, channels, classNames, classGroups, paths, skipped, labels: Array.from(ds.labels) }));
  return ds;
}
