/**
 * FewShotClassifier (easyfsl style): process the support set once, then answer queries.
 *
 * - 'prototypes': one mean embedding per class (Snell et al. 2017), scored by the model's
 *   similarity (negative distance); the natural choice for embedding models.
 * - 'examples': every support embedding is kept and a class scores the mean (or max) of its
 *   examples' similarities; the natural choice for pair models, whose head scores pairs.
 *
 * A query whose best score is under the threshold (given, or the model's calibrated one) is
 * answered `unknown`, so an open-set caller can tell "none of these" from a weak match.
 */
import type { Image } from '../data/image.js';
import type { SiameseScorer } from './embedder.js';

export type SupportMode = 'auto' | 'prototypes' | 'examples';

export interface FewShotClassifierOptions {
  mode?: SupportMode;
  /** How 'examples' mode combines a class's example scores. */
  aggregate?: 'mean' | 'max';
  /** Scores under this are `unknown`; undefined = the model's threshold; null = never unknown. */
  threshold?: number | null;
}

/** One class of the support set: a label and 1..K images (decoded, or preprocessed pixels). */
export interface SupportClass {
  label: string;
  images: readonly (Image | Uint8Array)[];
}

export interface RankedClass {
  class: string;
  score: number;
}

/** A query's answer: the best class (or `unknown`), its score and every class ranked, in similarity units (higher = closer). */
export interface Prediction {
  /** The best class, or 'unknown' when its score is under the threshold. */
  label: string;
  unknown: boolean;
  score: number;
  /** Every class, best first. */
  ranked: RankedClass[];
}

export const UNKNOWN = 'unknown';

/** Classifies images by their nearest support class: `fit(supportSet)` embeds the support set once, `predict(images)` ranks its classes for each query (`unknown` under the threshold). `loadClassifier(dir)` of `fewshot/node` builds one from a model folder. */
export class FewShotClassifier {
  readonly mode: 'prototypes' | 'examples';
  readonly threshold: number | null;
  private readonly aggregate: 'mean' | 'max';
  private labels: string[] = [];
  /** Per class: its prototype (1 row) or its examples (K rows). */
  private classEmbeddings: Float32Array[][] = [];

  constructor(
    private readonly scorer: SiameseScorer,
    opts: FewShotClassifierOptions = {},
  ) {
    const mode = opts.mode ?? 'auto';
    if (!['auto', 'prototypes', 'examples'].includes(mode)) throw new Error(`unknown support mode '${mode}'`);
    this.mode = mode === 'auto' ? (scorer.meta.score === 'pair-probability' ? 'examples' : 'prototypes') : mode;
    this.aggregate = opts.aggregate ?? 'mean';
    const t = opts.threshold === undefined ? scorer.meta.threshold?.value ?? null : opts.threshold;
    if (t !== null && !Number.isFinite(t)) throw new Error(`threshold must be a finite number, got ${t}`);
    this.threshold = t;
  }

  get classes(): readonly string[] {
    return this.labels;
  }

  /** Processes the support set (embeds every image once). Replaces any previous support set. */
  fit(support: readonly SupportClass[]): this {
    if (support.length === 0) throw new Error('the support set is empty: give at least one class with one image');
    const pixels: Uint8Array[] = [];
    const owner: number[] = [];
    support.forEach((cls, c) => {
      if (!cls.label) throw new Error(`support class ${c} has no label`);
      if (cls.images.length === 0) throw new Error(`support class '${cls.label}' has no images`);
      cls.images.forEach((img, k) => {
        pixels.push(this.toPixels(img, `support class '${cls.label}' image ${k}`));
        owner.push(c);
      });
    });
    const emb = this.scorer.embed(pixels);
    const grouped: Float32Array[][] = support.map(() => []);
    emb.forEach((e, i) => grouped[owner[i]!]!.push(e));
    return this.fitEmbeddings(support.map((s) => s.label), grouped);
  }

  /**
   * fit() through the scorer's own image preparation, which may be asynchronous: a face model
   * detects and aligns the largest face of each photo first (a photo without one rejects with
   * "<class> image <k>: no face found"). For other models it is the same as fit().
   */
  async fitAsync(support: readonly SupportClass[]): Promise<this> {
    const prepared = await Promise.all(
      support.map(async (cls, c) => ({
        label: cls.label,
        images: await this.prepare(cls.images ?? [], (k) => `support class '${cls.label || c}' image ${k}`),
      })),
    );
    return this.fit(prepared);
  }

  /** predict() through the scorer's own (possibly asynchronous) image preparation, as fitAsync(). */
  async predictAsync(queries: readonly (Image | Uint8Array)[]): Promise<Prediction[]> {
    this.ensureFitted();
    return this.predict(await this.prepare(queries, (i) => `query ${i}`));
  }

  /** Decoded images -> model pixels by the scorer (face detection for face models); pixels pass through. */
  private async prepare(items: readonly (Image | Uint8Array)[], what: (i: number) => string): Promise<Uint8Array[]> {
    const images = items.flatMap((x, i) => (x instanceof Uint8Array ? [] : [{ image: x, i }]));
    const pixels = await this.scorer.prepareImages(images.map((x) => x.image), images.map((x) => what(x.i)));
    const out = items.slice() as (Image | Uint8Array)[];
    images.forEach((x, k) => (out[x.i] = pixels[k]!));
    return out as Uint8Array[];
  }

  /** Same as fit() for support embeddings already computed with this classifier's scorer. */
  fitEmbeddings(labels: readonly string[], embeddings: readonly (readonly Float32Array[])[]): this {
    if (labels.length === 0) throw new Error('the support set is empty: give at least one class with one image');
    if (labels.length !== embeddings.length) throw new Error(`${labels.length} labels but ${embeddings.length} embedding groups`);
    if (new Set(labels).size !== labels.length) throw new Error('support class labels must be distinct');
    const dim = embeddings[0]?.[0]?.length ?? 0;
    this.classEmbeddings = embeddings.map((group, c) => {
      if (group.length === 0) throw new Error(`support class '${labels[c]}' has no images`);
      for (const e of group) {
        if (e.length !== dim) throw new Error(`support class '${labels[c]}': embedding size ${e.length}, expected ${dim}`);
        if (e.some((v) => !Number.isFinite(v))) throw new Error(`support class '${labels[c]}': embedding contains NaN or infinity`);
      }
      return this.mode === 'prototypes' ? [mean(group)] : group.slice();
    });
    this.labels = labels.slice();
    return this;
  }

  /** Ranks the support classes for each query image. */
  predict(queries: readonly (Image | Uint8Array)[]): Prediction[] {
    this.ensureFitted();
    const pixels = queries.map((q, i) => this.toPixels(q, `query ${i}`));
    return this.predictEmbeddings(this.scorer.embed(pixels));
  }

  predictEmbeddings(queries: readonly Float32Array[]): Prediction[] {
    this.ensureFitted();
    const flat = this.classEmbeddings.flat();
    const owner = this.classEmbeddings.flatMap((g, c) => g.map(() => c));
    const sims = this.scorer.similarityMatrix(queries, flat);
    return sims.map((row) => {
      const perClass = this.labels.map((): number[] => []);
      row.forEach((s, j) => perClass[owner[j]!]!.push(s));
      const ranked = perClass
        .map((scores, c) => ({ class: this.labels[c]!, score: this.aggregate === 'max' ? Math.max(...scores) : avg(scores) }))
        .sort((x, y) => y.score - x.score);
      const best = ranked[0]!;
      if (Number.isNaN(best.score)) throw new Error('similarity is NaN: the model or its input is broken');
      const unknown = this.threshold !== null && best.score < this.threshold;
      return { label: unknown ? UNKNOWN : best.class, unknown, score: best.score, ranked };
    });
  }

  private ensureFitted(): void {
    if (this.labels.length === 0) throw new Error('FewShotClassifier: call fit() with a support set before predict()');
  }

  private toPixels(img: Image | Uint8Array, what: string): Uint8Array {
    if (img instanceof Uint8Array) {
      if (img.length !== this.scorer.inputSize) {
        throw new Error(`${what}: ${img.length} values, but the model expects ${this.scorer.inputShape.join('x')} = ${this.scorer.inputSize}`);
      }
      return img;
    }
    if (!img || !(img.width > 0) || !(img.height > 0) || !(img.data instanceof Uint8Array)) {
      throw new Error(`${what}: not a decoded image`);
    }
    if (img.data.length !== img.width * img.height * img.channels) {
      throw new Error(`${what}: ${img.data.length} values do not match ${img.width}x${img.height}x${img.channels}`);
    }
    return this.scorer.preprocessImage(img);
  }
}

function avg(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

function mean(group: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(group[0]!.length);
  for (const e of group) for (let i = 0; i < out.length; i++) out[i] += e[i]!;
  for (let i = 0; i < out.length; i++) out[i] /= group.length;
  return out;
}
