/**
 * Late fusion of several score-map makers: each member scores the same search crops, its maps are
 * brought onto one grid (the finest member stride) and standardised, and the fused map is their
 * weighted sum. No retraining: networks cut at different backbone depths (e.g. stride 4 and 8)
 * fail on different sequences, and fusion asks whether their maps complement each other.
 */
import type { ResponseScorer } from './tracker.js';

/** Checks fusion weights: one per member, finite, >= 0, and not all zero. */
export function validateWeights(weights: readonly number[], members: number): void {
  if (weights.length !== members) throw new Error(`FusedScorer: ${weights.length} weights for ${members} members`);
  for (const w of weights) {
    if (!Number.isFinite(w) || w < 0) throw new Error(`FusedScorer: weights must be finite and >= 0, got [${weights.join(', ')}]`);
  }
  if (!(weights.reduce((a, b) => a + b, 0) > 0)) throw new Error(`FusedScorer: weights must not sum to 0, got [${weights.join(', ')}]`);
}

/**
 * Bilinear resampling of a centred `size` x `size` map of stride `stride` onto a centred `out` x
 * `out` grid of stride `outStride`, matching cells by their pixel displacement from the crop
 * centre (not by corners: the two grids cover different extents). Outside the source map the
 * edge value is used (clamped).
 */
export function resampleCentred(map: Float32Array, size: number, stride: number, out: number, outStride: number): Float32Array {
  // Source coordinate of each output row/column, computed once for both axes (square maps).
  const i0 = new Int32Array(out);
  const a = new Float32Array(out);
  for (let i = 0; i < out; i++) {
    const src = ((i - (out - 1) / 2) * outStride) / stride + (size - 1) / 2;
    const s = Math.min(Math.max(src, 0), size - 1);
    const lo = Math.min(Math.floor(s), Math.max(size - 2, 0));
    i0[i] = lo;
    a[i] = size === 1 ? 0 : s - lo;
  }
  const res = new Float32Array(out * out);
  const step = size === 1 ? 0 : 1;
  for (let y = 0; y < out; y++) {
    const r0 = i0[y]! * size;
    const r1 = r0 + step * size;
    const ay = a[y]!;
    for (let x = 0; x < out; x++) {
      const c0 = i0[x]!;
      const c1 = c0 + step;
      const ax = a[x]!;
      const top = map[r0 + c0]! * (1 - ax) + map[r0 + c1]! * ax;
      const bottom = map[r1 + c0]! * (1 - ax) + map[r1 + c1]! * ax;
      res[y * out + x] = top * (1 - ay) + bottom * ay;
    }
  }
  return res;
}

/**
 * Mean and standard deviation over all the maps of one member in one call: members output raw
 * logits on unrelated scales, and sharing the statistics across the scales of a call keeps the
 * peak comparison between scales (the tracker's scale choice) meaningful. Taken on the member's
 * own grid, so the clamped edge of a resampled coarse map is not counted twice.
 */
export function moments(maps: readonly Float32Array[]): { mean: number; std: number } {
  let n = 0;
  let sum = 0;
  for (const m of maps) {
    n += m.length;
    for (const v of m) sum += v;
  }
  const mean = sum / n;
  let sq = 0;
  for (const m of maps) for (const v of m) sq += (v - mean) ** 2;
  return { mean, std: Math.sqrt(sq / n) };
}

/**
 * A ResponseScorer whose maps are the weighted sum of its members' standardised maps, on the grid
 * of the finest member stride. The output grid spans the widest member's displacement range
 * (coarser members are clamped beyond theirs). Members must centre their maps on the crop centre,
 * as ResponseScorer requires; nothing else (stride, map size, scale) need agree.
 *
 * No `embedTemplate` / `setTemplate`: a fused template is not a linear template of one network,
 * so the online options (online_template.ts) are unsupported with fused scorers.
 */
export class FusedScorer implements ResponseScorer {
  readonly name: string;
  readonly stride: number;
  private readonly weights: readonly number[];

  /** `weights[i]` weighs `members[i]`; disposing this scorer disposes every member. */
  constructor(
    private readonly members: readonly ResponseScorer[],
    weights: readonly number[],
  ) {
    if (members.length < 2) throw new Error(`FusedScorer: needs at least 2 members, got ${members.length}`);
    validateWeights(weights, members.length);
    this.weights = [...weights];
    this.stride = Math.min(...members.map((m) => m.stride));
    this.name = `fused(${members.map((m, i) => `${m.name}/${m.stride}:${weights[i]}`).join(',')})`;
  }

  setExemplar(crop: Float32Array, size: number): void {
    for (const m of this.members) m.setExemplar(crop, size);
  }

  setContext(crop: Float32Array, size: number, target: { w: number; h: number }): void {
    for (const m of this.members) m.setContext?.(crop, size, target);
  }

  observe(index: number, dx: number, dy: number): void {
    // Displacements are in crop pixels, the same for every member whatever its grid.
    for (const m of this.members) m.observe?.(index, dx, dy);
  }

  score(crops: Float32Array[], cropSize: number): { maps: Float32Array[]; size: number } {
    // Zero-weight members add nothing: they are not run (a network pass saved).
    const active = this.members.map((m, i) => ({ m, w: this.weights[i]! })).filter((e) => e.w > 0);
    const results = active.map(({ m }) => ({ name: m.name, stride: m.stride, ...m.score(crops, cropSize) }));
    // The fine grid spans the widest displacement range of the members run, so a peak that one
    // member sees near its edge is not cut off. Odd, so that its centre cell is the crop centre.
    const halfCells = Math.max(...results.map((r) => Math.ceil((((r.size - 1) / 2) * r.stride) / this.stride)));
    const size = 2 * halfCells + 1;
    const fused = crops.map(() => new Float32Array(size * size));
    results.forEach((r, k) => {
      if (r.maps.length !== crops.length) throw new Error(`FusedScorer: member ${r.name} returned ${r.maps.length} maps for ${crops.length} crops`);
      const { mean, std } = moments(r.maps);
      // Bilinear weights sum to 1, so standardising after resampling equals standardising before.
      // A constant member (no information) contributes zeros rather than NaN.
      const scale = std > 0 ? active[k]!.w / std : 0;
      r.maps.forEach((m, i) => {
        const up = resampleCentred(m, r.size, r.stride, size, this.stride);
        const f = fused[i]!;
        for (let j = 0; j < f.length; j++) f[j]! += (up[j]! - mean) * scale;
      });
    });
    return { maps: fused, size };
  }

  dispose(): void {
    for (const m of this.members) m.dispose();
  }
}
