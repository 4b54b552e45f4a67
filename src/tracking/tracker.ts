/**
 * The SiamFC search strategy (Bertinetto et al. 2016), independent of how the score map is made:
 * crop the exemplar once around the first box, then for every frame crop a search region at a few
 * scales around the last position, score it against the exemplar, penalise scale changes and large
 * displacements (cosine window), move to the peak, and update the size with damping. A learned
 * Siamese encoder and raw-pixel NCC plug in as `ResponseScorer`s, so the baseline is searched
 * exactly like the network.
 */
import { boxCenter, boxFromCenter, type Box } from './boxes.js';
import { cropResize, exemplarSide, meanColor } from './crop.js';
import type { Image } from './data_access.js';
import { OnlineTemplate, isOnline } from './online_template.js';
import { applyWindow, argmax, cosineWindow, maxOf, upsample } from './response.js';

/** Makes score maps for search crops against one exemplar crop. */
export interface ResponseScorer {
  readonly name: string;
  /** Search-crop pixels per score-map cell. */
  readonly stride: number;
  /** Exemplar crop [exemplarSize^2 * 3] in [0,1], HWC. */
  setExemplar(crop: Float32Array, size: number): void;
  /**
   * Optional: the first frame's search crop [size^2 * 3] around the target, whose box measures
   * `target` crop pixels, for scorers that learn from the background too (discriminative_scorer.ts).
   * Called once, after setExemplar.
   */
  setContext?(crop: Float32Array, size: number, target: { w: number; h: number }): void;
  /**
   * Optional: the tracker moved by (dx, dy) search-crop pixels from the centre of crop `index` of
   * the last score() call (scorers that learn online, discriminative_scorer.ts).
   */
  observe?(index: number, dx: number, dy: number): void;
  /** One map per search crop; all maps are `size` x `size`, centre cell = crop centre. */
  score(crops: Float32Array[], cropSize: number): { maps: Float32Array[]; size: number };
  /**
   * Optional template arithmetic, needed only by the online options (online_template.ts): the
   * template of an exemplar crop as plain numbers, and setting a (combined) template to score with.
   * Scores must be linear in the template.
   */
  embedTemplate?(crop: Float32Array, size: number): Float32Array;
  setTemplate?(features: Float32Array): void;
  dispose(): void;
}

export interface TrackerParams {
  exemplarSize: number;
  searchSize: number;
  /** Context around the box in the exemplar crop: p = context * (w + h). */
  context: number;
  numScales: number;
  scaleStep: number;
  /** Multiplies the peak of the scales other than the current one. */
  scalePenalty: number;
  /** Damping of the size update (0: never change size, 1: jump). */
  scaleLr: number;
  windowInfluence: number;
  /** Upsampling of the score map (SiamFC: 16 at stride 8); the map is brought to ~stride/upsample px. */
  upsample: number;
  // Online options (online_template.ts), all off when absent.
  /** Running-average rate of the template update on confident frames (0: off). */
  templateRate?: number;
  /** A frame is confident when its APCE >= updateGate x the mean APCE so far (0: every frame). */
  updateGate?: number;
  /** DaSiamRPN's distractor weight: the template minus this x the mean distractor features (0: off). */
  distractorWeight?: number;
  /** A secondary local maximum is a distractor when its (v - min) / (max - min) is at least this (default 0.7). */
  distractorThreshold?: number;
  /** Per-frame decay of older distractors' weights (default 0.1). */
  distractorDecay?: number;
  /** Distractors taken per confident frame, highest first (default 2). */
  maxDistractors?: number;
  /**
   * A first-frame discriminative filter on every network's features (discriminative_scorer.ts):
   * the weight of its map against the Siamese map (0 or absent: off), its ridge weight and label
   * sigma factor (defaults DEFAULT_DISCRIMINATIVE). Applied by loadTracker.
   */
  filterWeight?: number;
  filterLambda?: number;
  filterSigma?: number;
  /** The filter's online learning rate (0 or absent: it learns from the first frame only). */
  filterRate?: number;
  /** Refine the online filter every this many frames (1 or absent: every frame). */
  filterEvery?: number;
  /** Steepest-descent steps per refinement of the online filter (absent: 2). */
  filterSteps?: number;
  /** The online filter learns from frames whose APCE is at least this x the mean so far (0 or absent: every frame). */
  filterGate?: number;
}

/** SiamFC's published hyper-parameters, at our crop sizes. */
export const SIAMFC_PARAMS: TrackerParams = {
  exemplarSize: 63,
  searchSize: 127,
  context: 0.5,
  numScales: 3,
  scaleStep: 1.0375,
  scalePenalty: 0.9745,
  scaleLr: 0.59,
  windowInfluence: 0.176,
  upsample: 8,
};

/** A SiamFC-style tracker: `init(frame, box)` embeds the exemplar once, `update(frame)` searches around the last position at a few scales and returns the new box. */
export class SiamTracker {
  private cx = 0;
  private cy = 0;
  private w = 0;
  private h = 0;
  private zSide = 0;
  private xSide = 0;
  private minSide = 0;
  private maxSide = 0;
  private frameW = 0;
  private frameH = 0;
  private window: Float32Array | null = null;
  private windowSize = 0;
  private readonly scales: number[];
  /** Template update / distractor memory, when the params ask for them. */
  readonly online: OnlineTemplate | null;

  constructor(
    private readonly scorer: ResponseScorer,
    readonly params: TrackerParams = SIAMFC_PARAMS,
  ) {
    const half = (params.numScales - 1) / 2;
    this.scales = Array.from({ length: params.numScales }, (_, i) => params.scaleStep ** (i - half));
    this.online = isOnline(params) ? new OnlineTemplate(scorer, params) : null;
  }

  init(frame: Image, box: Box): void {
    if (!(box.w > 0 && box.h > 0)) throw new Error(`tracker init: the first box must have a positive size, got ${JSON.stringify(box)}`);
    [this.cx, this.cy] = boxCenter(box);
    this.w = box.w;
    this.h = box.h;
    this.frameW = frame.width;
    this.frameH = frame.height;
    const p = this.params;
    this.zSide = exemplarSide(box.w, box.h, p.context);
    this.xSide = (this.zSide * p.searchSize) / p.exemplarSize;
    this.minSide = 0.2 * this.xSide;
    this.maxSide = 5 * this.xSide;
    const fill = meanColor(frame);
    const crop = cropResize(frame, this.cx, this.cy, this.zSide, p.exemplarSize, fill);
    if (this.online) this.online.init(crop, p.exemplarSize);
    else this.scorer.setExemplar(crop, p.exemplarSize);
    if (this.scorer.setContext) {
      const toCrop = p.searchSize / this.xSide;
      const search = cropResize(frame, this.cx, this.cy, this.xSide, p.searchSize, fill);
      this.scorer.setContext(search, p.searchSize, { w: box.w * toCrop, h: box.h * toCrop });
    }
    this.window = null;
  }

  get box(): Box {
    return boxFromCenter(this.cx, this.cy, this.w, this.h);
  }

  update(frame: Image): Box {
    const p = this.params;
    const fill = meanColor(frame);
    const sides = this.scales.map((s) => this.xSide * s);
    const crops = sides.map((side) => cropResize(frame, this.cx, this.cy, side, p.searchSize, fill));
    const { maps, size } = this.scorer.score(crops, p.searchSize);
    // A stride-1 map (NCC) is already at pixel resolution; a strided one is refined by upsampling.
    const up = this.scorer.stride === 1 ? 1 : p.upsample;
    const upSize = (size - 1) * up + 1;
    // Best scale: the highest peak, with the scale changes penalised. Bilinear upsampling with
    // aligned corners keeps every map value and only adds convex combinations of them, so the
    // peak of the raw map is the peak of the upsampled one: only the winner is upsampled.
    const mid = (p.numScales - 1) / 2;
    let best = mid;
    let bestPeak = -Infinity;
    maps.forEach((m, i) => {
      const peak = maxOf(m) * (i === mid ? 1 : p.scalePenalty);
      if (peak > bestPeak) {
        bestPeak = peak;
        best = i;
      }
    });
    if (!this.window || this.windowSize !== upSize) {
      this.window = cosineWindow(upSize);
      this.windowSize = upSize;
    }
    const response = applyWindow(upsample(maps[best]!, size, upSize), this.window, p.windowInfluence);
    const peak = argmax(response);
    const py = Math.floor(peak / upSize);
    const px = peak % upSize;
    // Displacement from the map centre -> search-crop pixels -> frame pixels.
    const cellPx = (this.scorer.stride * (size - 1)) / (upSize - 1);
    const toFrame = sides[best]! / p.searchSize;
    const [cx0, cy0] = [this.cx, this.cy];
    const dx = (px - (upSize - 1) / 2) * cellPx;
    const dy = (py - (upSize - 1) / 2) * cellPx;
    this.scorer.observe?.(best, dx, dy);
    this.cx += dx * toFrame;
    this.cy += dy * toFrame;
    this.cx = Math.min(Math.max(this.cx, 0), this.frameW);
    this.cy = Math.min(Math.max(this.cy, 0), this.frameH);
    // Damped size update.
    const s = (1 - p.scaleLr) + p.scaleLr * this.scales[best]!;
    this.xSide = Math.min(Math.max(this.xSide * s, this.minSide), this.maxSide);
    const applied = this.xSide / sides[mid]!;
    this.zSide *= applied;
    this.w *= applied;
    this.h *= applied;
    if (this.online) {
      // Raw map cell -> frame position, relative to the centre this frame was searched around.
      const cellToFrame = (x: number, y: number): [number, number] => [
        cx0 + (x - (size - 1) / 2) * this.scorer.stride * toFrame,
        cy0 + (y - (size - 1) / 2) * this.scorer.stride * toFrame,
      ];
      this.online.observe(
        maps[best]!,
        size,
        (x, y) => {
          const [fx, fy] = cellToFrame(x, y);
          return Math.abs(fx - this.cx) <= this.w / 2 && Math.abs(fy - this.cy) <= this.h / 2;
        },
        () => cropResize(frame, this.cx, this.cy, this.zSide, p.exemplarSize, fill),
        (peak) => cropResize(frame, ...cellToFrame(peak.x, peak.y), this.zSide, p.exemplarSize, fill),
      );
    }
    return this.box;
  }

  dispose(): void {
    this.scorer.dispose();
  }
}
