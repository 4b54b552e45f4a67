/**
 * Training pairs for the score-map loss, from two sources:
 * - video: exemplar from frame i and search from frame j (|i - j| <= maxGap) of the same sequence,
 *   both cropped around their ground-truth boxes (SiamFC's curation), so the network learns how
 *   an object's appearance changes over time;
 * - stills: exemplar and search cut from ONE image (random shift and scale, photometric jitter)
 *   with distractor patches from other images pasted around the target, so the network learns
 *   to pick the object out of clutter without any video.
 * The search crop is shifted randomly so the target is not always at the centre; the label follows
 * it. Optional hard negatives for video pairs (DaSiamRPN's distractor-aware training, `lookAlikes`):
 * the target of another training sequence (mostly another person here: the same class) is pasted
 * into the search crop beside the target, so the network must score the tracked instance above a
 * look-alike of its class. Everything is seeded by the caller's Rng.
 */
import type { Box } from './boxes.js';
import { cropResize, exemplarSide, meanColor } from './crop.js';
import type { Image } from './data_access.js';
import type { Rng } from '../util/random.js';

export interface PairGeometry {
  exemplarSize: number;
  searchSize: number;
  context: number;
  /** Search-crop pixels per score cell. */
  stride: number;
  scoreSize: number;
}

export interface TrainingPair {
  /** [exemplarSize^2 * 3] in [0,1]. */
  exemplar: Float32Array;
  /** [searchSize^2 * 3] in [0,1]. */
  search: Float32Array;
  /** Target centre in search-crop pixels (continuous coordinates). */
  targetX: number;
  targetY: number;
}

export interface JitterOptions {
  /** Max shift of the search window, in search-crop pixels. */
  maxShift: number;
  /** Scale factors drawn log-uniformly in [1/maxScale, maxScale]. */
  maxScale: number;
}

const DEFAULT_JITTER: JitterOptions = { maxShift: 12, maxScale: 1.1 };

/** SiamFC labels: 1 within `radius` search pixels of the target, 0 elsewhere; balanced weights. */
export function scoreLabels(
  geom: PairGeometry,
  targetX: number,
  targetY: number,
  radius: number,
): { labels: Float32Array; weights: Float32Array } {
  const s = geom.scoreSize;
  const centre = geom.searchSize / 2;
  const labels = new Float32Array(s * s);
  let pos = 0;
  for (let i = 0; i < s; i++) {
    for (let j = 0; j < s; j++) {
      // Cell (i, j) compares the exemplar with the window centred here (centre cell = crop centre).
      const x = centre + geom.stride * (j - (s - 1) / 2);
      const y = centre + geom.stride * (i - (s - 1) / 2);
      if (Math.hypot(x - targetX, y - targetY) <= radius) {
        labels[i * s + j] = 1;
        pos++;
      }
    }
  }
  const neg = s * s - pos;
  const weights = new Float32Array(s * s);
  for (let k = 0; k < s * s; k++) weights[k] = labels[k] ? (pos ? 0.5 / pos : 0) : neg ? 0.5 / neg : 0;
  return { labels, weights };
}

function toImage(crop: Float32Array, size: number): Image {
  const data = new Uint8Array(crop.length);
  for (let i = 0; i < crop.length; i++) data[i] = Math.round(Math.min(1, Math.max(0, crop[i]!)) * 255);
  return { width: size, height: size, channels: 3, data };
}

/** Brightness, contrast and per-channel gain; keeps values in [0,1]. */
function photometric(crop: Float32Array, rng: Rng, strength: number): void {
  const contrast = 1 + strength * rng.uniform(-0.25, 0.25);
  const bright = strength * rng.uniform(-0.1, 0.1);
  const gains = [0, 1, 2].map(() => 1 + strength * rng.uniform(-0.06, 0.06));
  for (let i = 0; i < crop.length; i++) {
    const v = (crop[i]! - 0.5) * contrast + 0.5 + bright;
    crop[i] = Math.min(1, Math.max(0, v * gains[i % 3]!));
  }
}

/** One curated frame: a crop centred on the ground truth, at search-crop scale, with margin. */
export interface CuratedFrame {
  image: Image;
  /** The target's size in the curated image's pixels (it is centred there). */
  target: { w: number; h: number };
}

export const CURATED_MARGIN = 16;

/** Crop around the box so that the search window (plus margin for shifts) fits, at search scale. */
export function curateFrame(frame: Image, box: Box, geom: PairGeometry): CuratedFrame {
  const size = geom.searchSize + 2 * CURATED_MARGIN;
  const zSide = exemplarSide(box.w, box.h, geom.context);
  const side = ((zSide * geom.searchSize) / geom.exemplarSize) * (size / geom.searchSize);
  const crop = cropResize(frame, box.x + box.w / 2, box.y + box.h / 2, side, size, meanColor(frame));
  return { image: toImage(crop, size), target: { w: (box.w * size) / side, h: (box.h * size) / side } };
}

export class VideoPairSource {
  constructor(
    /** Curated frames per sequence, in frame order (absent-target frames left out). */
    private readonly sequences: CuratedFrame[][],
    private readonly geom: PairGeometry,
    /** `lookAlikes`: probability that a pair gets another sequence's target pasted into its search crop. */
    private readonly opts: { maxGap: number; lookAlikes?: number } & Partial<JitterOptions> = { maxGap: 50 },
  ) {
    if (sequences.filter((s) => s.length >= 2).length === 0) throw new Error('VideoPairSource: no sequence with two frames');
    const p = opts.lookAlikes ?? 0;
    if (!(p >= 0 && p <= 1)) throw new Error(`VideoPairSource: lookAlikes must be a probability, got ${p}`);
    if (p > 0 && sequences.filter((s) => s.length > 0).length < 2) throw new Error('VideoPairSource: look-alikes need a second sequence');
  }

  sample(rng: Rng): TrainingPair {
    const usable = this.sequences.filter((s) => s.length >= 2);
    // Sequences drawn in proportion to length, as frames are.
    const total = usable.reduce((a, s) => a + s.length, 0);
    let r = rng.int(total);
    const seq = usable.find((s) => (r -= s.length) < 0)!;
    // Drawn only when enabled, so that runs without look-alikes keep their pair sequences.
    const lookAlike = (this.opts.lookAlikes ?? 0) > 0 && rng.next() < this.opts.lookAlikes!;
    const i = rng.int(seq.length);
    const gap = Math.min(this.opts.maxGap, seq.length - 1);
    let j = i;
    while (j === i) j = Math.min(seq.length - 1, Math.max(0, i + rng.int(2 * gap + 1) - gap));
    const { exemplarSize: ez, searchSize: sz } = this.geom;
    const zi = seq[i]!.image;
    const xi = seq[j]!.image;
    const c = zi.width / 2;
    const exemplar = cropResize(zi, c, c, ez, ez, [127, 127, 127]);
    const { maxShift, maxScale } = { ...DEFAULT_JITTER, ...this.opts };
    const dx = rng.uniform(-maxShift, maxShift);
    const dy = rng.uniform(-maxShift, maxShift);
    const sc = Math.exp(rng.uniform(-Math.log(maxScale), Math.log(maxScale)));
    const search = cropResize(xi, c + dx, c + dy, sz * sc, sz, [127, 127, 127]);
    const targetX = sz / 2 - dx / sc;
    const targetY = sz / 2 - dy / sc;
    if (lookAlike) this.pasteLookAlike(search, seq, rng, targetX, targetY, seq[j]!.target, sc);
    photometric(search, rng, 0.5);
    return { exemplar, search, targetX, targetY };
  }

  /** Pastes another sequence's target beside this one (not over it), at its curated scale. */
  private pasteLookAlike(search: Float32Array, own: CuratedFrame[], rng: Rng, tx: number, ty: number, target: { w: number; h: number }, sc: number): void {
    const others = this.sequences.filter((s) => s !== own && s.length > 0);
    const other = others[rng.int(others.length)]!;
    const f = other[rng.int(other.length)]!;
    const c = f.image.width / 2;
    const box = { x: c - f.target.w / 2, y: c - f.target.h / 2, w: f.target.w, h: f.target.h };
    const sz = this.geom.searchSize;
    const pw = Math.max(6, Math.round(f.target.w / sc));
    const ph = Math.max(6, Math.round(f.target.h / sc));
    const tw = target.w / sc;
    const th = target.h / sc;
    for (let tries = 0; tries < 10; tries++) {
      const px = rng.uniform(0, Math.max(0, sz - pw));
      const py = rng.uniform(0, Math.max(0, sz - ph));
      if (Math.abs(px + pw / 2 - tx) < (pw + tw) / 2 && Math.abs(py + ph / 2 - ty) < (ph + th) / 2) continue;
      pastePatch(search, sz, f.image, box, Math.round(px), Math.round(py), pw, ph);
      return;
    }
  }
}

export interface StillImage {
  image: Image;
  /** Annotated objects, if any; otherwise random regions are used as objects. */
  boxes?: Box[];
}

function randomBox(img: Image, rng: Rng): Box {
  const m = Math.min(img.width, img.height);
  const w = Math.max(8, m * rng.uniform(0.1, 0.4) * Math.exp(rng.uniform(-0.4, 0.4)));
  const h = Math.max(8, m * rng.uniform(0.1, 0.4) * Math.exp(rng.uniform(-0.4, 0.4)));
  return { x: rng.uniform(0, Math.max(1, img.width - w)), y: rng.uniform(0, Math.max(1, img.height - h)), w, h };
}

export class StillPairSource {
  constructor(
    private readonly stills: StillImage[],
    private readonly geom: PairGeometry,
    private readonly opts: Partial<JitterOptions> & { maxDistractors?: number; annotatedFraction?: number } = {},
  ) {
    if (stills.length < 2) throw new Error('StillPairSource: needs at least 2 images (distractors come from the others)');
  }

  private pick(rng: Rng): { img: Image; box: Box; index: number } {
    const index = rng.int(this.stills.length);
    const s = this.stills[index]!;
    const annotated = s.boxes && s.boxes.length > 0 && rng.next() < (this.opts.annotatedFraction ?? 0.7);
    const box = annotated ? s.boxes![rng.int(s.boxes!.length)]! : randomBox(s.image, rng);
    return { img: s.image, box, index };
  }

  sample(rng: Rng): TrainingPair {
    const { exemplarSize: ez, searchSize: sz, context } = this.geom;
    const { img, box, index } = this.pick(rng);
    const cx = box.x + box.w / 2;
    const cy = box.y + box.h / 2;
    const zSide = exemplarSide(box.w, box.h, context);
    const xSide = (zSide * sz) / ez;
    const fill = meanColor(img);
    const exemplar = cropResize(img, cx, cy, zSide, ez, fill);
    const { maxShift, maxScale } = { ...DEFAULT_JITTER, ...this.opts };
    const dx = rng.uniform(-maxShift, maxShift);
    const dy = rng.uniform(-maxShift, maxShift);
    const sc = Math.exp(rng.uniform(-Math.log(maxScale), Math.log(maxScale)));
    const toFrame = xSide / sz;
    const search = cropResize(img, cx + dx * toFrame, cy + dy * toFrame, xSide * sc, sz, fill);
    const tx = sz / 2 - dx / sc;
    const ty = sz / 2 - dy / sc;
    // Target size in search pixels: distractors are pasted at a comparable size.
    const tw = box.w / toFrame / sc;
    const th = box.h / toFrame / sc;
    const n = rng.int((this.opts.maxDistractors ?? 3) + 1);
    for (let k = 0; k < n; k++) {
      let other = this.pick(rng);
      for (let tries = 0; tries < 5 && other.index === index; tries++) other = this.pick(rng);
      if (other.index === index) continue;
      const pw = Math.max(6, Math.round(tw * rng.uniform(0.7, 1.3)));
      const ph = Math.max(6, Math.round(th * rng.uniform(0.7, 1.3)));
      // Somewhere in the crop, but not on the target centre (that would change the answer).
      const px = rng.uniform(0, sz - pw);
      const py = rng.uniform(0, sz - ph);
      if (Math.abs(px + pw / 2 - tx) < (pw + tw) / 2 && Math.abs(py + ph / 2 - ty) < (ph + th) / 2) continue;
      pastePatch(search, sz, other.img, other.box, Math.round(px), Math.round(py), pw, ph);
    }
    photometric(search, rng, 1);
    return { exemplar, search, targetX: tx, targetY: ty };
  }
}

/** Resizes `box` of `src` to pw x ph and writes it into the square crop at (px, py). */
function pastePatch(crop: Float32Array, size: number, src: Image, box: Box, px: number, py: number, pw: number, ph: number): void {
  for (let y = 0; y < ph; y++) {
    const oy = py + y;
    if (oy < 0 || oy >= size) continue;
    const sy = Math.min(src.height - 1, Math.max(0, Math.floor(box.y + ((y + 0.5) * box.h) / ph)));
    for (let x = 0; x < pw; x++) {
      const ox = px + x;
      if (ox < 0 || ox >= size) continue;
      const sx = Math.min(src.width - 1, Math.max(0, Math.floor(box.x + ((x + 0.5) * box.w) / pw)));
      for (let c = 0; c < 3; c++) {
        crop[(oy * size + ox) * 3 + c] = src.data[(sy * src.width + sx) * src.channels + (src.channels === 3 ? c : 0)]! / 255;
      }
    }
  }
}
