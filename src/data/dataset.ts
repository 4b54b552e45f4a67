/**
 * Loading an ImageDataset from a directory, a .zip file or a zip URL (Node). The dataset class
 * itself is in image_dataset.ts (browser-safe).
 */
import { validatePreprocessConfig } from './preprocess.js';
import { loadImageDatasetFromSource, type ImageDataset, type LoadImageDatasetOptions } from './image_dataset.js';
import { openSource, type FileSource } from './source.js';

export * from './image_dataset.js';

/** Loads a directory, .zip or zip URL in the class-folders or Omniglot layout. */
export async function loadImageDataset(pathOrUrl: string, opts: LoadImageDatasetOptions): Promise<ImageDataset> {
  validatePreprocessConfig(opts.preprocess);
  return loadOpenedImageDataset(await openSource(pathOrUrl), opts);
}

/** The same from a source already opened (e.g. listed first with selectFiles): face crops when the preprocessing asks for them. */
export async function loadOpenedImageDataset(source: FileSource, opts: LoadImageDatasetOptions): Promise<ImageDataset> {
  if (opts.preprocess.face) {
    const { loadFaceDatasetFromSource } = await import('../applications/faces/dataset.js');
    return loadFaceDatasetFromSource(source, opts);
  }
  return loadImageDatasetFromSource(source, opts);
}
