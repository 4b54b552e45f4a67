/**
 * Handcrafted descriptors of an ink-normalised signature canvas (uint8, row-major, ink bright,
 * paper exactly 0: src/data/ink_normalize.ts), for scripts/signature-handcrafted.ts. They are
 * measured there against the frozen COCO features and are not part of the product, so they live
 * with the scripts.
 */

/**
 * Dalal & Triggs' histogram of oriented gradients: central-difference gradients, unsigned
 * orientation voted into `bins` bins with linear interpolation in angle and bilinear in space,
 * `cell` x `cell` pixel cells, 2x2-cell blocks at a one-cell stride, L2-Hys (clip 0.2).
 */
export function hog(px: Uint8Array, height: number, width: number, cell: number, bins: number): Float32Array {
  const ch = Math.floor(height / cell), cw = Math.floor(width / cell);
  if (ch < 2 || cw < 2) throw new Error(`hog: a ${height}x${width} canvas has fewer than 2x2 cells of ${cell} pixels`);
  const hist = new Float64Array(ch * cw * bins);
  const at = (y: number, x: number) => (y >= 0 && y < height && x >= 0 && x < width ? px[y * width + x]! : 0);
  for (let y = 0; y < ch * cell; y++) {
    for (let x = 0; x < cw * cell; x++) {
      const gx = at(y, x + 1) - at(y, x - 1);
      const gy = at(y + 1, x) - at(y - 1, x);
      const mag = Math.hypot(gx, gy);
      if (mag === 0) continue;
      let angle = Math.atan2(gy, gx);
      if (angle < 0) angle += Math.PI;
      if (angle >= Math.PI) angle -= Math.PI;
      const b = (angle / Math.PI) * bins - 0.5;
      const b0 = Math.floor(b), fb = b - b0;
      const lo = (b0 + bins) % bins, hi = (b0 + 1) % bins;
      const cy = (y + 0.5) / cell - 0.5, cx = (x + 0.5) / cell - 0.5;
      const y0 = Math.floor(cy), x0 = Math.floor(cx), fy = cy - y0, fx = cx - x0;
      for (const [yy, wy] of [[y0, 1 - fy], [y0 + 1, fy]] as const) {
        if (yy < 0 || yy >= ch) continue;
        for (const [xx, wx] of [[x0, 1 - fx], [x0 + 1, fx]] as const) {
          if (xx < 0 || xx >= cw) continue;
          const base = (yy * cw + xx) * bins;
          hist[base + lo] += mag * wy * wx * (1 - fb);
          hist[base + hi] += mag * wy * wx * fb;
        }
      }
    }
  }
  const block = 4 * bins;
  const out = new Float32Array((ch - 1) * (cw - 1) * block);
  const v = new Float64Array(block);
  let o = 0;
  for (let by = 0; by + 1 < ch; by++) {
    for (let bx = 0; bx + 1 < cw; bx++) {
      let i = 0;
      for (let dy = 0; dy < 2; dy++) for (let dx = 0; dx < 2; dx++) for (let k = 0; k < bins; k++) v[i++] = hist[((by + dy) * cw + bx + dx) * bins + k]!;
      // L2-Hys: normalise, clip at 0.2, normalise again.
      const n1 = Math.sqrt(v.reduce((s, t) => s + t * t, 0) + 1e-6);
      for (let k = 0; k < block; k++) v[k] = Math.min(v[k]! / n1, 0.2);
      const n2 = Math.sqrt(v.reduce((s, t) => s + t * t, 0) + 1e-6);
      for (let k = 0; k < block; k++) out[o++] = v[k]! / n2;
    }
  }
  return out;
}

/** Uniform 8-neighbour LBP codes (at most two 0/1 transitions) get a bin each; the rest share one. */
const UNIFORM_LBP = (() => {
  const map = new Int32Array(256).fill(-1);
  let next = 0;
  for (let c = 0; c < 256; c++) {
    let transitions = 0;
    for (let i = 0; i < 8; i++) if (((c >> i) & 1) !== ((c >> ((i + 1) % 8)) & 1)) transitions++;
    if (transitions <= 2) map[c] = next++;
  }
  for (let c = 0; c < 256; c++) if (map[c] === -1) map[c] = next;
  return { map, bins: next + 1 };
})();

const NEIGHBOURS = [[-1, -1], [-1, 0], [-1, 1], [0, 1], [1, 1], [1, 0], [1, -1], [0, -1]] as const;

/**
 * Uniform local binary patterns of the ink's gray levels (pen pressure and stroke texture), one
 * normalised histogram per cell of a `gridY` x `gridX` grid. Pixels whose 3x3 neighbourhood is all
 * paper are not counted: the paper would otherwise dominate every histogram.
 */
export function lbp(px: Uint8Array, height: number, width: number, gridY: number, gridX: number): Float32Array {
  const bins = UNIFORM_LBP.bins;
  const hist = new Float32Array(gridY * gridX * bins);
  for (let y = 1; y < height - 1; y++) {
    for (let x = 1; x < width - 1; x++) {
      const c = px[y * width + x]!;
      let code = 0, any = c;
      for (let i = 0; i < 8; i++) {
        const v = px[(y + NEIGHBOURS[i]![0]) * width + x + NEIGHBOURS[i]![1]]!;
        any |= v;
        if (v >= c) code |= 1 << i;
      }
      if (any === 0) continue;
      const cell = Math.min(gridY - 1, Math.floor((y * gridY) / height)) * gridX + Math.min(gridX - 1, Math.floor((x * gridX) / width));
      hist[cell * bins + UNIFORM_LBP.map[code]!]! += 1;
    }
  }
  for (let c = 0; c < gridY * gridX; c++) {
    const cellHist = hist.subarray(c * bins, (c + 1) * bins);
    const total = cellHist.reduce((a, b) => a + b, 0);
    if (total > 0) for (let k = 0; k < bins; k++) cellHist[k] = cellHist[k]! / total;
  }
  return hist;
}

/** What inkGeometry returns, in order. */
export const INK_GEOMETRY_NAMES = ['log aspect ratio', 'ink density', 'centre x', 'centre y', 'stroke width', 'spread x', 'spread y', 'mean ink level', 'ink level sd', 'gradient orientation coherence'] as const;

/**
 * Global shape of the ink, the classic signature descriptors (aspect ratio, density, centre of
 * mass, spread, stroke width relative to height, gray level, slant), measured in the ink's
 * trimmed bounding box so that they do not depend on the canvas size. The ink normalisation keeps
 * the aspect ratio, so the canvas carries it.
 */
export function inkGeometry(px: Uint8Array, height: number, width: number, trim = 0.005): number[] {
  const colMass = new Float64Array(width), rowMass = new Float64Array(height);
  let n = 0, sum = 0, sum2 = 0, sx = 0, sy = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const v = px[y * width + x]!;
      if (v === 0) continue;
      colMass[x]++; rowMass[y]++; n++; sum += v; sum2 += v * v; sx += x; sy += y;
    }
  }
  if (n === 0) throw new Error('inkGeometry: the canvas has no ink');
  const extent = (mass: Float64Array): [number, number] => {
    let acc = 0, lo = 0, hi = mass.length - 1;
    for (let i = 0; i < mass.length; i++) if ((acc += mass[i]!) > trim * n) { lo = i; break; }
    acc = 0;
    for (let i = mass.length - 1; i >= 0; i--) if ((acc += mass[i]!) > trim * n) { hi = i; break; }
    return [lo, hi];
  };
  const [x0, x1] = extent(colMass), [y0, y1] = extent(rowMass);
  const W = x1 - x0 + 1, H = y1 - y0 + 1;
  const mx = sx / n, my = sy / n;
  let vx = 0, vy = 0, edges = 0, gxx = 0, gyy = 0, gxy = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const on = px[y * width + x]! > 0;
      if (on) {
        vx += (x - mx) ** 2; vy += (y - my) ** 2;
        // Ink runs start where paper turns to ink: ink area / run starts ~ stroke width.
        if (x > 0 && px[y * width + x - 1] === 0) edges++;
        if (y > 0 && px[(y - 1) * width + x] === 0) edges++;
      }
      if (x > 0 && y > 0 && x < width - 1 && y < height - 1) {
        const gx = px[y * width + x + 1]! - px[y * width + x - 1]!, gy = px[(y + 1) * width + x]! - px[(y - 1) * width + x]!;
        gxx += gx * gx; gyy += gy * gy; gxy += gx * gy;
      }
    }
  }
  const mean = sum / n;
  return [
    Math.log(W / H), n / (W * H), (mx - x0) / W, (my - y0) / H, n / Math.max(1, edges) / H,
    Math.sqrt(vx / n) / W, Math.sqrt(vy / n) / H, mean / 255, Math.sqrt(Math.max(0, sum2 / n - mean * mean)) / 255,
    gxy / Math.sqrt(gxx * gyy + 1e-9),
  ];
}
