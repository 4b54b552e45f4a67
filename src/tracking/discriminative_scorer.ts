/**
 * A Siamese network's score map plus a discriminative filter's (discriminative_filter.ts) on the
 * same search features: the Siamese template says "looks like the exemplar", the filter, learned
 * on the first frame's search region, says "looks like the target and not like the background
 * around it". Both come out of one backbone pass per frame; each is standardised over
 * the maps of the call (so the scale choice stays fair, as in FusedScorer) and they are summed
 * with `weight` on the filter. With a `rate`, the filter also learns from the frames it tracks
 * (`observe`, called by the tracker), as DCF trackers and DiMP update their models. Without a
 * context (`setContext` never called) it scores exactly as SiamFCScorer.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConfidenceGate } from './confidence.js';
import { gaussianLabel, learnDiscriminativeFilter, refineFilter } from './discriminative_filter.js';
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
  /**
   * Online update (0: the first frame only): every tracked frame becomes a training sample of
   * weight `rate`, older ones decaying by (1 - rate); the first frame keeps weight 1. The filter is
   * refined by `steps` steepest-descent steps on the first frame and the MEMORY latest samples.
   */
  rate?: number;
  /**
   * Refine every `every`-th tracked frame (samples still join every frame): ECO's sparse update
   * (Danelljan et al. 2017), 1/every of the optimisation's cost (default 1: every frame; on the
   * provided sequences every 5th frame lost most of the filter's gain, docs/tracking.md).
   */
  every?: number;
  /** Steepest-descent steps per refinement (default 2, DiMP's count per frame). */
  steps?: number;
  /**
   * Learn only from frames whose map is confident: APCE at least `gate` x the mean APCE so far
   * (confidence.ts, LMCF's rule; 0: every frame), so a frame the tracker got wrong does not teach
   * the filter its mistake.
   */
  gate?: number;
}

export const DEFAULT_DISCRIMINATIVE: DiscriminativeOptions = { weight: 1, lambda: 0.1, sigmaFactor: 0.1, rate: 0, every: 1, steps: 2, gate: 0 };
/** Tracked frames kept for the online update (the first frame is kept apart). */
const MEMORY = 8;

/** The filter options of a tracker's params, or null when the filter is off. */
export function discriminativeOptions(p: TrackerParams): DiscriminativeOptions | null {
  if (p.filterWeight === undefined || p.filterWeight === 0) return null;
  // `undefined` takes the default; anything else present (a JSON null included) must be valid.
  const or = (v: number | undefined, d: number) => (v === undefined ? d : v);
  const o = {
    weight: p.filterWeight,
    lambda: or(p.filterLambda, DEFAULT_DISCRIMINATIVE.lambda),
    sigmaFactor: or(p.filterSigma, DEFAULT_DISCRIMINATIVE.sigmaFactor),
    rate: or(p.filterRate, 0),
    every: or(p.filterEvery, 1),
    steps: or(p.filterSteps, DEFAULT_DISCRIMINATIVE.steps!),
    gate: or(p.filterGate, 0),
  };
  validateDiscriminative(o);
  return o;
}

/** Checks the options a tracker.json gives. */
export function validateDiscriminative(o: DiscriminativeOptions): void {
  for (const [k, v] of Object.entries(o)) {
    const zeroOk = k === 'weight' || k === 'rate' || k === 'gate';
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || (!zeroOk && v === 0)) throw new Error(`discriminative filter: ${k} must be a finite number > 0 (weight, rate, gate >= 0), got ${String(v)}`);
  }
  if (o.every !== undefined && !Number.isInteger(o.every)) throw new Error(`discriminative filter: every must be a whole number of frames, got ${o.every}`);
  if (o.steps !== undefined && !Number.isInteger(o.steps)) throw new Error(`discriminative filter: steps must be a whole number, got ${o.steps}`);
  if ((o.rate ?? 0) >= 1) throw new Error(`discriminative filter: rate must be below 1, got ${o.rate}`);
}

interface Sample {
  features: tf.Tensor4D;
  label: tf.Tensor4D;
  /** conv(features, current filter) - label, kept exact by refineFilter (it saves a convolution a frame). */
  residual: tf.Tensor4D;
}

export class DiscriminativeScorer implements ResponseScorer {
  readonly name = 'siamfc+filter';
  readonly stride: number;
  private exemplar: tf.Tensor4D | null = null;
  private filter: tf.Tensor4D | null = null;
  private ridge = 0;
  private sigma = 0;
  private first: Sample | null = null;
  private recent: Sample[] = [];
  /** Tracked frames since the last refinement. */
  private pending = 0;
  /** The last score() call's search features and filter responses, kept only for the online update. */
  private lastFeatures: tf.Tensor4D | null = null;
  private lastResponses: tf.Tensor4D | null = null;
  /** The maps the last score() call returned, for the confidence gate. */
  private lastMaps: Float32Array[] = [];
  private readonly gate: ConfidenceGate;

  constructor(
    private readonly network: SiamNetwork,
    private readonly opts: DiscriminativeOptions = DEFAULT_DISCRIMINATIVE,
  ) {
    validateDiscriminative(opts);
    this.stride = network.stride;
    this.gate = new ConfidenceGate(opts.gate ?? 0);
  }

  setExemplar(crop: Float32Array, size: number): void {
    this.dispose();
    this.exemplar = tf.tidy(() => this.network.embedExemplar(stack([crop], size)));
  }

  setContext(crop: Float32Array, size: number, target: { w: number; h: number }): void {
    const z = this.exemplar;
    if (!z) throw new Error('DiscriminativeScorer: setExemplar before setContext');
    if (!(target.w > 0 && target.h > 0)) throw new Error(`DiscriminativeScorer: target size ${target.w}x${target.h} must be positive`);
    this.forgetSamples();
    this.sigma = Math.max(0.5, (this.opts.sigmaFactor * Math.sqrt(target.w * target.h)) / this.stride);
    const features = tf.tidy(() => this.network.embedSearch(stack([crop], size)));
    let learned: ReturnType<typeof learnDiscriminativeFilter>;
    try {
      learned = learnDiscriminativeFilter(features, { cells: z.shape[1], lambda: this.opts.lambda, sigma: this.sigma });
    } catch (e) {
      features.dispose();
      throw e;
    }
    this.filter?.dispose();
    this.filter = learned.filter;
    this.ridge = learned.ridge;
    if ((this.opts.rate ?? 0) > 0) {
      const out = features.shape[1] - z.shape[1] + 1;
      const label = this.label(out, 0, 0);
      const residual = tf.tidy(() => tf.sub(tf.conv2d(features, learned.filter, 1, 'valid'), label) as tf.Tensor4D);
      this.first = { features, label, residual };
    } else {
      features.dispose();
    }
  }

  /**
   * The tracker moved by (dx, dy) search-crop pixels from the centre of crop `index` of the last
   * score() call: with an online rate, that crop's features, labelled with a Gaussian at the new
   * position, join the samples and the filter is refined.
   */
  observe(index: number, dx: number, dy: number): void {
    const last = this.lastFeatures;
    const responses = this.lastResponses;
    this.lastFeatures = null;
    this.lastResponses = null;
    const rate = this.opts.rate ?? 0;
    if (!last || !responses || rate === 0 || !this.filter || !this.first) {
      last?.dispose();
      responses?.dispose();
      return;
    }
    try {
      if (!(index >= 0 && index < last.shape[0])) throw new Error(`DiscriminativeScorer.observe: crop ${index} of ${last.shape[0]}`);
      if ((this.opts.gate ?? 0) > 0 && !this.gate.accept(this.lastMaps[index]!)) return;
      const out = responses.shape[1];
      const label = this.label(out, dy / this.stride, dx / this.stride);
      // The filter has not changed since score(): its map of this crop is the new sample's response.
      const [features, residual] = tf.tidy(() => [tf.slice(last, [index, 0, 0, 0], [1, -1, -1, -1]), tf.sub(tf.slice(responses, [index, 0, 0, 0], [1, -1, -1, -1]), label)] as tf.Tensor4D[]);
      this.recent.push({ features: features!, label, residual: residual! });
      if (this.recent.length > MEMORY) disposeSample(this.recent.shift()!);
      if (++this.pending < (this.opts.every ?? 1)) return;
      this.pending = 0;
      this.refine(rate);
    } finally {
      tf.dispose([last, responses]);
    }
  }

  /** Steepest descent on the first frame and the recent samples; every sample's residual follows the new filter. */
  private refine(rate: number): void {
    const samples = [this.first!, ...this.recent];
    // The first frame weighs 1; the k-th latest tracked frame rate x (1 - rate)^k.
    const weights = Float32Array.from(samples, (_, j) => (j === 0 ? 1 : rate * (1 - rate) ** (samples.length - 1 - j)));
    const steps = this.opts.steps ?? DEFAULT_DISCRIMINATIVE.steps!;
    const { filter, residuals } = tf.tidy(() => {
      const cat = (pick: (q: Sample) => tf.Tensor4D) => tf.concat(samples.map(pick)) as tf.Tensor4D;
      const r = refineFilter(this.filter!, cat((q) => q.features), cat((q) => q.label), weights, this.ridge, steps, cat((q) => q.residual));
      return { filter: r.filter, residuals: tf.split(r.residual, samples.length) as tf.Tensor4D[] };
    });
    this.filter!.dispose();
    this.filter = filter;
    samples.forEach((q, j) => {
      q.residual.dispose();
      q.residual = residuals[j]!;
    });
  }

  /** A Gaussian label on the out x out filter-response grid, displaced by (dy, dx) cells from its centre. */
  private label(out: number, dy: number, dx: number): tf.Tensor4D {
    const c = (out - 1) / 2;
    return tf.tensor4d(gaussianLabel(out, c + dy, c + dx, this.sigma), [1, out, out, 1]);
  }

  private forgetSamples(): void {
    for (const q of [...(this.first ? [this.first] : []), ...this.recent]) disposeSample(q);
    this.first = null;
    this.recent = [];
    this.pending = 0;
    this.gate.reset();
    this.lastMaps = [];
    this.lastFeatures?.dispose();
    this.lastResponses?.dispose();
    this.lastFeatures = null;
    this.lastResponses = null;
  }

  score(crops: Float32Array[], cropSize: number): { maps: Float32Array[]; size: number } {
    const z = this.exemplar;
    if (!z) throw new Error('DiscriminativeScorer: setExemplar before score');
    const filter = this.filter;
    const online = (this.opts.rate ?? 0) > 0 && filter !== null;
    const out = tf.tidy(() => {
      const x = this.network.embedSearch(stack(crops, cropSize));
      const s = this.network.correlate(z, x);
      return filter ? [s, tf.conv2d(x, filter, 1, 'valid') as tf.Tensor4D, ...(online ? [x] : [])] : [s];
    });
    const siam = out[0]!;
    const learned = out[1] ?? null;
    this.lastFeatures?.dispose();
    this.lastResponses?.dispose();
    this.lastFeatures = out[2] ?? null;
    this.lastResponses = online ? learned : null;
    let a: { maps: Float32Array[]; size: number };
    let b: { maps: Float32Array[]; size: number } | null;
    try {
      a = unstackMaps(siam);
      b = learned ? unstackMaps(learned) : null;
    } finally {
      siam.dispose();
      if (!online) learned?.dispose();
    }
    if (!b || this.opts.weight === 0) {
      this.lastMaps = a.maps;
      return a;
    }
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
    this.lastMaps = maps;
    return { maps, size: a.size };
  }

  dispose(): void {
    this.forgetSamples();
    this.exemplar?.dispose();
    this.filter?.dispose();
    this.exemplar = null;
    this.filter = null;
  }
}

function disposeSample(q: Sample): void {
  tf.dispose([q.features, q.label, q.residual]);
}
