/**
 * Downscaling of a frame (used to keep still images for training small in memory; the crops are
 * resampled anyway, so detail below the crop resolution is not lost). The resampling itself is
 * src/data's area-averaging `resize`.
 */
import type { Image } from './data_access.js';
import { resize } from '../data/preprocess.js';

export function downscaleTo(img: Image, maxSide: number): { image: Image; factor: number } {
  const f = Math.min(1, maxSide / Math.max(img.width, img.height));
  if (f === 1) return { image: img, factor: 1 };
  const w = Math.max(1, Math.round(img.width * f));
  const h = Math.max(1, Math.round(img.height * f));
  return { image: resize(img, w, h), factor: w / img.width };
}
