/**
 * Rotated copies of every class as new classes (Vinyals et al. 2016, Snell et al. 2017 on
 * Omniglot): a character turned by 90, 180 or 270 degrees is a different character, so the
 * training set gets four times as many classes for free. Square images only.
 */
import { ImageDataset } from '../data/image_dataset.js';

/** Rotates an HWC image (square) by k * 90 degrees counter-clockwise. */
export function rotate90(pixels: Uint8Array, size: number, channels: number, k: number, out = new Uint8Array(pixels.length)): Uint8Array {
  const turns = ((k % 4) + 4) % 4;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      let sy = y;
      let sx = x;
      // Destination (y, x) takes the source pixel that lands there after `turns` rotations.
      for (let t = 0; t < turns; t++) {
        const ny = sx;
        const nx = size - 1 - sy;
        sy = ny;
        sx = nx;
      }
      for (let c = 0; c < channels; c++) out[(y * size + x) * channels + c] = pixels[(sy * size + sx) * channels + c]!;
    }
  }
  return out;
}

/** The dataset plus its 90/180/270-degree rotations, each rotation of a class a new class. */
export function withClassRotations(ds: ImageDataset): ImageDataset {
  if (ds.height !== ds.width) throw new Error(`class rotations need square images, got ${ds.height}x${ds.width}`);
  const n = ds.size;
  const size = ds.imageSize;
  const pixels = new Uint8Array(4 * n * size);
  const labels = new Int32Array(4 * n);
  const paths: string[] = [];
  for (let k = 0; k < 4; k++) {
    for (let i = 0; i < n; i++) {
      const dst = pixels.subarray((k * n + i) * size, (k * n + i + 1) * size);
      if (k === 0) dst.set(ds.imagePixels(i));
      else rotate90(ds.imagePixels(i), ds.height, ds.channels, k, dst);
      labels[k * n + i] = k * ds.numClasses + ds.labels[i]!;
      paths.push(k === 0 ? ds.paths[i]! : `${ds.paths[i]}@rot${90 * k}`);
    }
  }
  const classNames = [0, 1, 2, 3].flatMap((k) => ds.classNames.map((c) => (k === 0 ? c : `${c}@rot${90 * k}`)));
  // A rotated alphabet is its own group: within-group episodes then hold same-orientation look-alikes.
  const classGroups = [0, 1, 2, 3].flatMap((k) => ds.classGroups.map((g) => (k === 0 ? g : `${g}@rot${90 * k}`)));
  return new ImageDataset({ height: ds.height, width: ds.width, channels: ds.channels, pixels, labels, classNames, classGroups, paths });
}
