/**
 * Node: the tracker's crops in native code (native/src/image_ops.cc's cropPasses), registered with
 * cropResize on import when the addon is built. cropResize still tabulates the taps; the addon
 * runs its two passes, the same double-precision operations in the same order, split over the
 * OpenMP threads, so the crops are bitwise the JavaScript ones (tested). Three search crops of a
 * 1280x720 frame around a large target (boat1) took about 10 ms in JavaScript.
 *
 * Browser-unsafe (the addon): imported by fewshot/node, the CLI and the tracking scripts.
 */
import { loadNativeAddon } from '../backend/native/addon.js';
import { registerCropPasses } from './crop.js';

/**
 * Registers the native passes when the addon is built; returns whether it did. Runs on import,
 * unless FEWSHOT_NATIVE_CROP=0 (A/B measurements).
 */
export function registerNativeCrop(): boolean {
  const { addon } = loadNativeAddon();
  if (!addon) return false;
  const fill = new Float64Array(3);
  registerCropPasses((data, width, channels, xs, ys, rows, taps, out, colour, dst) => {
    fill.set(colour);
    addon.cropPasses(data, width, channels, xs.index, xs.weight, xs.outside, ys.index, ys.weight, ys.outside, ys.first, rows, taps, out, fill, dst);
  });
  return true;
}

if (process.env.FEWSHOT_NATIVE_CROP !== '0') registerNativeCrop();
