/**
 * Score-map post-processing shared by every scorer (learned and NCC), so that both are searched
 * the same way: bilinear upsampling, a cosine (Hann) window that penalises large displacements,
 * and peak finding.
 */

/** Bilinear upsampling of a size x size map to `out` x `out` (corners aligned). */
export function upsample(map: Float32Array, size: number, out: number): Float32Array {
  if (out === size) return map.slice();
  const res = new Float32Array(out * out);
  const f = (size - 1) / (out - 1);
  for (let y = 0; y < out; y++) {
    const sy = y * f;
    const y0 = Math.min(size - 2, Math.floor(sy));
    const ay = sy - y0;
    for (let x = 0; x < out; x++) {
      const sx = x * f;
      const x0 = Math.min(size - 2, Math.floor(sx));
      const ax = sx - x0;
      const i = y0 * size + x0;
      const top = map[i]! * (1 - ax) + map[i + 1]! * ax;
      const bottom = map[i + size]! * (1 - ax) + map[i + size + 1]! * ax;
      res[y * out + x] = top * (1 - ay) + bottom * ay;
    }
  }
  return res;
}

/** Outer product of Hann windows, normalised to sum 1. */
export function cosineWindow(size: number): Float32Array {
  const hann = Array.from({ length: size }, (_, i) => (size === 1 ? 1 : 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / (size - 1))));
  const w = new Float32Array(size * size);
  let sum = 0;
  for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) sum += w[y * size + x] = hann[y]! * hann[x]!;
  for (let i = 0; i < w.length; i++) w[i]! /= sum;
  return w;
}

/** SiamFC: shift to non-negative, normalise to sum 1, blend with the window. */
export function applyWindow(map: Float32Array, window: Float32Array, influence: number): Float32Array {
  let min = Infinity;
  for (const v of map) if (v < min) min = v;
  let sum = 0;
  for (const v of map) sum += v - min;
  const res = new Float32Array(map.length);
  for (let i = 0; i < map.length; i++) {
    const r = sum > 0 ? (map[i]! - min) / sum : 1 / map.length;
    res[i] = (1 - influence) * r + influence * window[i]!;
  }
  return res;
}

export function argmax(map: Float32Array): number {
  let best = 0;
  for (let i = 1; i < map.length; i++) if (map[i]! > map[best]!) best = i;
  return best;
}

export function maxOf(map: Float32Array): number {
  let m = -Infinity;
  for (const v of map) if (v > m) m = v;
  return m;
}

export interface MapPeak {
  x: number;
  y: number;
  /** (value - min) / (max - min) of the map: 1 at the global peak. */
  relative: number;
}

/**
 * Local maxima of a size x size map (strictly above their 8 neighbours' maximum, ties to the first)
 * whose relative height is at least `minRelative`, highest first, at most `max` of them, skipping
 * those `exclude(x, y)` rejects (e.g. the target's own peak).
 */
export function secondaryPeaks(
  map: Float32Array,
  size: number,
  opts: { minRelative: number; max: number; exclude?: (x: number, y: number) => boolean },
): MapPeak[] {
  let min = Infinity;
  let max = -Infinity;
  for (const v of map) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (!(max > min)) return [];
  const found: MapPeak[] = [];
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const v = map[y * size + x]!;
      const relative = (v - min) / (max - min);
      if (relative < opts.minRelative) continue;
      let isMax = true;
      for (let dy = -1; dy <= 1 && isMax; dy++) {
        for (let dx = -1; dx <= 1; dx++) {
          if ((dx === 0 && dy === 0) || x + dx < 0 || y + dy < 0 || x + dx >= size || y + dy >= size) continue;
          const n = map[(y + dy) * size + x + dx]!;
          // Plateaus: only the first cell in scan order counts.
          if (n > v || (n === v && (dy < 0 || (dy === 0 && dx < 0)))) {
            isMax = false;
            break;
          }
        }
      }
      if (isMax && !opts.exclude?.(x, y)) found.push({ x, y, relative });
    }
  }
  return found.sort((a, b) => b.relative - a.relative).slice(0, opts.max);
}
