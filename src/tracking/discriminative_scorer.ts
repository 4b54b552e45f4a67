/**
 * A Siamese network's score map plus a discriminative filter's (discriminative_filter.ts) on the
 * same search features: the Siamese template says "looks like the exemplar", the filter, learned
 * once on the first frame's search region, says "looks like the target and not like the
 * background around it". Both come out of one backbone pass per frame; each is standardised over
 * the maps of the call (so the scale choice stays fair, as in FusedScorer) and they are summed
 * with `weight` on the filter. Without a context (`setContext` never called) it scores exactly as
 * SiamFCScorer.
 */
import * as tf from '@tensorflow/tfjs-core';
import { learnDiscriminativeFilter } from './discriminative_filter.js';
import { moments } from './fused_scorer.js';
import { stack, unstackMaps } from './scorers.js';
import type { SiamNetwork } from './siam_network.js';
import type { ResponseScorer, TrackerParams } from './tracker.js';

export interface DiscriminativeOptions {
  /** Weight of the filter's standardised map against the Siamese one's (1). */
  weight: number;
  /** Ridge weight, relative to the mean window energy. */
  lambda: number;
  /** Label sigma = sigmaFactor x sqrt(w h) of the target, as DCF trackers set it. */
  sigmaFactor: number;
}

export const DEFAULT_DISCRIMINATIVE: DiscriminativeOptions = { weight: 1, lambda: 0.1, sigmaFactor: 0.1 };

/** The filter options of a tracker's params, or null when the filter is off. */
export function discriminativeOptions(p: TrackerParams): DiscriminativeOptions | null {
  if (p.filterWeight === undefined || p.filterWeight === 0) return null;
  // `undefined` takes the default; anything else present (a JSON null included) must be valid.
  const or = (v: number | undefined, d: number) => (v === undefined ? d : v);
  const o = { weight: p.filterWeight, lambda: or(p.filterLambda, DEFAULT_DISCRIMINATIVE.lambda), sigmaFactor: or(p.filterSigma, DEFAULT_DISCRIMINATIVE.sigmaFactor) };
  validateDiscriminative(o);
  return o;
}

/** Checks the options a tracker.json gives. */
export function validateDiscriminative(o: DiscriminativeOptions): void {
  for (const [k, v] of Object.entries(o)) {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || (k !== 'weight' && v === 0)) throw new Error(`discriminative filter: ${k} must be a finite number > 0 (weight >= 0), got ${String(v)}`);
  }
}

export class DiscriminativeScorer implements ResponseScorer {
  readonly name = 'siamfc+filter';
  readonly stride: number;
  private exemplar: tf.Tensor4D | null = null;
  private filter: tf.Tensor4D | null = null;

  constructor(
    private readonly network: SiamNetwork,
    private readonly opts: DiscriminativeOptions = DEFAULT_DISCRIMINATIVE,
  ) {
    validateDiscriminative(opts);
    this.stride = network.stride;
  }

  setExemplar(crop: Float32Array, size: number): void {
    this.exemplar?.dispose();
    this.filter?.dispose();
    this.filter = null;
    this.exemplar = tf.tidy(() => this.network.embedExemplar(stack([crop], size)));
  }

  setContext(crop: Float32Array, size: number, target: { w: number; h: number }): void {
    const z = this.exemplar;
    if (!z) throw new Error('DiscriminativeScorer: setExemplar before setContext');
    if (!(target.w > 0 && target.h > 0)) throw new Error(`DiscriminativeScorer: target size ${target.w}x${target.h} must be positive`);
    const sigma = Math.max(0.5, (this.opts.sigmaFactor * Math.sqrt(target.w * target.h)) / this.stride);
    const features = tf.tidy(() => this.network.embedSearch(stack([crop], size)));
    try {
      this.filter?.dispose();
      this.filter = learnDiscriminativeFilter(features, { cells: z.shape[1], lambda: this.opts.lambda, sigma });
    } finally {
      features.dispose();
    }
  }

  score(crops: Float32Array[], cropSize: number): { maps: Float32Array[]; size: number } {
    const z = this.exemplar;
    if (!z) throw new Error('DiscriminativeScorer: setExemplar before score');
    const filter = this.filter;
    const out = tf.tidy(() => {
      const x = this.network.embedSearch(stack(crops, cropSize));
      const s = this.network.correlate(z, x);
      return filter ? [s, tf.conv2d(x, filter, 1, 'valid') as tf.Tensor4D] : [s];
    });
    const siam = out[0]!;
    const learned = out[1] ?? null;
    let a: { maps: Float32Array[]; size: number };
    let b: { maps: Float32Array[]; size: number } | null;
    try {
      a = unstackMaps(siam);
      b = learned ? unstackMaps(learned) : null;
    } finally {
      siam.dispose();
      learned?.dispose();
    }
    if (!b || this.opts.weight === 0) return a;
    if (b.size !== a.size) throw new Error(`DiscriminativeScorer: filter map ${b.size} against score map ${a.size}`);
    const sa = moments(a.maps);
    const sb = moments(b.maps);
    const ka = sa.std > 0 ? 1 / sa.std : 0;
    const kb = sb.std > 0 ? this.opts.weight / sb.std : 0;
    const maps = a.maps.map((m, i) => {
      const f = b.maps[i]!;
      const out = new Float32Array(m.length);
      for (let j = 0; j < m.length; j++) out[j] = (m[j]! - sa.mean) * ka + (f[j]! - sb.mean) * kb;
      return out;
    });
    return { maps, size: a.size };
  }

  dispose(): void {
    this.exemplar?.dispose();
    this.filter?.dispose();
    this.exemplar = null;
    this.filter = null;
  }
}
