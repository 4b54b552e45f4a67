/**
 * Square crops around the target with context, as SiamFC: the exemplar side is
 * s_z = sqrt((w + p)(h + p)) with p = context * (w + h), the search side is s_x = s_z * search/exemplar,
 * and both are resized to the network's input size. Outside the frame the crop is filled with the
 * frame's mean colour (as SiamFC does), so the border does not look like an edge of the object.
 */
import type { Image } from './data_access.js';

/** Per-channel mean of a frame (RGB; grey frames are repeated). */
export function meanColor(img: Image): [number, number, number] {
  const sums = [0, 0, 0];
  const n = img.width * img.height;
  // A strided sample is enough for a fill colour and keeps large frames cheap.
  const step = Math.max(1, Math.floor(n / 40000));
  let count = 0;
  for (let i = 0; i < n; i += step) {
    for (let c = 0; c < 3; c++) sums[c]! += img.data[i * img.channels + (img.channels === 3 ? c : 0)]!;
    count++;
  }
  return [sums[0]! / count, sums[1]! / count, sums[2]! / count];
}

export function exemplarSide(w: number, h: number, context: number): number {
  const p = context * (w + h);
  return Math.sqrt((w + p) * (h + p));
}

/**
 * Crops the square of side `side` frame pixels centred on (cx, cy) (0-based, pixel centres at
 * +0.5) and resizes it to `out` x `out` RGB, values in [0, 1], HWC. Downscaling averages k x k
 * bilinear samples per output pixel (k = ceil(side / out), at most 4) so that small outputs of big
 * targets do not alias; outside the frame every tap reads `fill`.
 *
 * That filter is separable, so it runs as two 1-D passes with their taps tabulated once per call:
 * each frame row the crop touches is resampled horizontally once (rows are shared between output
 * rows whenever side / out < 2k), then the rows are combined vertically. Per-tap weights, floors
 * and bounds checks are out of the inner loops. A tracker crops three search scales every frame:
 * done tap by tap that took 16 ms of a 1280x720 frame's 42 ms (11 ms now), and 7 ms of a 128x96
 * frame's 28 ms, where every crop overhangs the border (1.6 ms now). In Node the two passes run in
 * native code where the addon is built (native_crop.ts), bitwise the same.
 */
export function cropResize(
  img: Image,
  cx: number,
  cy: number,
  side: number,
  out: number,
  fill: readonly [number, number, number] = meanColor(img),
  target?: Float32Array,
): Float32Array {
  if (!(side > 0) || !Number.isFinite(cx) || !Number.isFinite(cy)) {
    throw new Error(`cropResize: bad crop centre (${cx}, ${cy}) or side ${side}`);
  }
  const res = target ?? new Float32Array(out * out * 3);
  const scale = side / out;
  const k = Math.min(4, Math.max(1, Math.ceil(scale)));
  const { width: W, height: H, channels: C, data } = img;
  if (data.length < W * H * C) throw new Error(`cropResize: the image holds ${data.length} values, ${W}x${H}x${C} needs ${W * H * C}`);
  const xs = axisTaps(cx - side / 2, scale, out, k, W, C);
  const ys = axisTaps(cy - side / 2, scale, out, k, H, 1);
  const taps = 2 * k;
  const rows = ys.last - ys.first + 1;
  if (nativePasses) {
    nativePasses(data, W, C, xs, ys, Math.max(0, rows), taps, out, fill, res);
    return res;
  }
  const g = C === 3 ? 1 : 0; // channel step: grey frames repeat their one channel
  const [f0, f1, f2] = fill;

  // Horizontal pass: each frame row some output row reads, resampled to `out` columns (RGB).
  const rowLen = out * 3;
  const horizontal = scratch(Math.max(0, rows) * rowLen);
  const done = new Uint8Array(Math.max(0, rows));
  for (let t = 0; t < ys.index.length; t++) {
    if (ys.weight[t] === 0) continue;
    const r = ys.index[t]! - ys.first;
    if (done[r]) continue;
    done[r] = 1;
    resampleRow(data, ys.index[t]! * W * C, g, xs, taps, fill, horizontal, r * rowLen);
  }

  // Vertical pass: each output row is a weighted sum of its taps' rows (plus fill for rows outside).
  const acc = new Float64Array(rowLen);
  for (let oy = 0; oy < out; oy++) {
    const outside = ys.outside[oy]!;
    for (let i = 0; i < rowLen; i += 3) {
      acc[i] = outside * f0;
      acc[i + 1] = outside * f1;
      acc[i + 2] = outside * f2;
    }
    for (let j = oy * taps, end = j + taps; j < end; j++) {
      const w = ys.weight[j]!;
      if (w === 0) continue;
      const base = (ys.index[j]! - ys.first) * rowLen;
      for (let i = 0; i < rowLen; i++) acc[i]! += w * horizontal[base + i]!;
    }
    const o = oy * rowLen;
    for (let i = 0; i < rowLen; i++) res[o + i] = acc[i]! / 255;
  }
  return res;
}

/**
 * The 1-D taps of one axis: for output index o, k samples at o + (s + 0.5) / k (in output pixels),
 * each a linear interpolation between two source pixels, weights divided by k. A tap outside
 * [0, n) gets weight 0 and index 0, and its weight goes to `outside[o]`, the share of the fill
 * colour. `index` holds source index x `stride` (an offset into the row for x); `first`..`last`
 * is the range of source indices with weight.
 */
function axisTaps(origin: number, scale: number, out: number, k: number, n: number, stride: number): AxisTaps {
  const index = new Int32Array(out * 2 * k);
  const weight = new Float64Array(out * 2 * k);
  const outside = new Float64Array(out);
  let first = n;
  let last = -1;
  for (let o = 0; o < out; o++) {
    for (let s = 0; s < k; s++) {
      const f = origin + (o + (s + 0.5) / k) * scale - 0.5;
      const i = Math.floor(f);
      const a = f - i;
      for (let d = 0; d < 2; d++) {
        const t = (o * k + s) * 2 + d;
        const src = i + d;
        const w = (d === 0 ? 1 - a : a) / k;
        if (src < 0 || src >= n) {
          outside[o]! += w;
        } else {
          index[t] = src * stride;
          weight[t] = w;
          if (src < first) first = src;
          if (src > last) last = src;
        }
      }
    }
  }
  return { index, weight, outside, first, last };
}

export interface AxisTaps {
  index: Int32Array;
  weight: Float64Array;
  outside: Float64Array;
  first: number;
  last: number;
}

/** One frame row (starting at data offset `start`) resampled to `out` RGB values by `xs`. */
function resampleRow(
  data: Uint8Array,
  start: number,
  g: number,
  xs: AxisTaps,
  taps: number,
  fill: readonly [number, number, number],
  dst: Float64Array,
  offset: number,
): void {
  const { index, weight, outside } = xs;
  const [f0, f1, f2] = fill;
  let o = offset;
  for (let ox = 0, j = 0; ox < outside.length; ox++, o += 3) {
    const share = outside[ox]!;
    let red = share * f0;
    let green = share * f1;
    let blue = share * f2;
    for (const end = j + taps; j < end; j++) {
      const w = weight[j]!;
      const p = start + index[j]!;
      red += w * data[p]!;
      green += w * data[p + g]!;
      blue += w * data[p + 2 * g]!;
    }
    dst[o] = red;
    dst[o + 1] = green;
    dst[o + 2] = blue;
  }
}

/**
 * The two passes of cropResize over its taps, done elsewhere (native code: native_crop.ts), with
 * the same operations in the same order so the crops stay bitwise the same.
 */
export type CropPasses = (
  data: Uint8Array,
  width: number,
  channels: number,
  xs: AxisTaps,
  ys: AxisTaps,
  rows: number,
  taps: number,
  out: number,
  fill: readonly [number, number, number],
  dst: Float32Array,
) => void;

let nativePasses: CropPasses | null = null;
/** Installs (or, with null, removes) the passes cropResize runs instead of its own loops. */
export function registerCropPasses(passes: CropPasses | null): void {
  nativePasses = passes;
}

let scratchBuffer = new Float64Array(0);
/** A reused buffer for the horizontal pass (up to a few MB per crop of a large frame). */
function scratch(length: number): Float64Array {
  if (scratchBuffer.length < length) scratchBuffer = new Float64Array(length);
  return scratchBuffer;
}
