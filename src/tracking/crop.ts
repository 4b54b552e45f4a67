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
 * +0.5) and resizes it to `out` x `out` RGB, values in [0, 1], HWC. Downscaling averages a few
 * bilinear samples per output pixel so that small outputs of big targets do not alias.
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
  const x0 = cx - side / 2;
  const y0 = cy - side / 2;
  const norm = 1 / (k * k * 255);
  const g = C === 3 ? 1 : 0; // channel step: grey frames repeat their one channel
  // Fill colour outside the frame, as 0..255 values per channel.
  const px = (x: number, y: number, ch: number) =>
    x < 0 || y < 0 || x >= W || y >= H ? fill[ch]! : data[(y * W + x) * C + ch * g]!;
  for (let oy = 0; oy < out; oy++) {
    for (let ox = 0; ox < out; ox++) {
      let r = 0;
      let gr = 0;
      let b = 0;
      for (let sy = 0; sy < k; sy++) {
        // Sample position in frame pixel coordinates (pixel i covers [i, i+1), centre i + 0.5).
        const fy = y0 + (oy + (sy + 0.5) / k) * scale - 0.5;
        const iy = Math.floor(fy);
        const ay = fy - iy;
        for (let sx = 0; sx < k; sx++) {
          const fx = x0 + (ox + (sx + 0.5) / k) * scale - 0.5;
          const ix = Math.floor(fx);
          const ax = fx - ix;
          const w00 = (1 - ax) * (1 - ay);
          const w01 = ax * (1 - ay);
          const w10 = (1 - ax) * ay;
          const w11 = ax * ay;
          if (ix >= 0 && iy >= 0 && ix + 1 < W && iy + 1 < H) {
            // Inside the frame (the common case): no bounds checks per tap.
            const o00 = (iy * W + ix) * C;
            const o10 = o00 + W * C;
            r += w00 * data[o00]! + w01 * data[o00 + C]! + w10 * data[o10]! + w11 * data[o10 + C]!;
            gr += w00 * data[o00 + g]! + w01 * data[o00 + C + g]! + w10 * data[o10 + g]! + w11 * data[o10 + C + g]!;
            b += w00 * data[o00 + 2 * g]! + w01 * data[o00 + C + 2 * g]! + w10 * data[o10 + 2 * g]! + w11 * data[o10 + C + 2 * g]!;
          } else {
            r += w00 * px(ix, iy, 0) + w01 * px(ix + 1, iy, 0) + w10 * px(ix, iy + 1, 0) + w11 * px(ix + 1, iy + 1, 0);
            gr += w00 * px(ix, iy, 1) + w01 * px(ix + 1, iy, 1) + w10 * px(ix, iy + 1, 1) + w11 * px(ix + 1, iy + 1, 1);
            b += w00 * px(ix, iy, 2) + w01 * px(ix + 1, iy, 2) + w10 * px(ix, iy + 1, 2) + w11 * px(ix + 1, iy + 1, 2);
          }
        }
      }
      const o = (oy * out + ox) * 3;
      res[o] = r * norm;
      res[o + 1] = gr * norm;
      res[o + 2] = b * norm;
    }
  }
  return res;
}
