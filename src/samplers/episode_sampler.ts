/**
 * C-way K-shot Q-query episodes (Vinyals et al. 2016): `way` distinct classes, `shot` support and
 * `query` query images per class, support and query disjoint. Support (and query) are grouped by
 * class in episode order: support[c * shot + k] belongs to episode class c.
 */
import type { Rng } from '../util/random.js';
import { checkClassIndices, checkIntAtLeast, classesWithAtLeast, toRng, type ClassIndices } from './class_indices.js';

export interface EpisodeOptions {
  way: number;
  shot: number;
  query: number;
  /** Names for error messages (e.g. ImageDataset.classNames). */
  classNames?: readonly string[];
  /** Leave out classes with fewer than shot + query images instead of failing. Default false. */
  skipSmallClasses?: boolean;
}

export interface Episode {
  /** Dataset class ids of the episode's classes; episode label c stands for classes[c]. */
  classes: number[];
  support: Int32Array;
  supportLabels: Int32Array;
  query: Int32Array;
  queryLabels: Int32Array;
}

/** N-way K-shot episodes: `way` classes, `shot` support and `query` query images of each, relabelled 0..way-1. */
export class EpisodeSampler {
  readonly way: number;
  readonly shot: number;
  readonly query: number;
  private readonly rng: Rng;
  private readonly eligible: number[];

  constructor(
    private readonly classIndices: ClassIndices,
    opts: EpisodeOptions,
    rng: Rng | number = 0,
  ) {
    checkClassIndices(classIndices, 'EpisodeSampler');
    this.rng = toRng(rng);
    const { way, shot, query } = opts;
    checkIntAtLeast(way, 2, 'EpisodeSampler', 'way');
    checkIntAtLeast(shot, 1, 'EpisodeSampler', 'shot');
    checkIntAtLeast(query, 1, 'EpisodeSampler', 'query');
    this.way = way;
    this.shot = shot;
    this.query = query;
    const need = shot + query;
    if (!opts.skipSmallClasses) {
      const small = classIndices.findIndex((m) => m.length < need);
      if (small >= 0) {
        const name = opts.classNames?.[small] ?? `#${small}`;
        throw new Error(
          `EpisodeSampler: class ${name} has ${classIndices[small]!.length} images, fewer than shot + query = ${need}`,
        );
      }
    }
    this.eligible = classesWithAtLeast(classIndices, need);
    if (this.eligible.length < way) {
      throw new Error(
        `EpisodeSampler: ${way}-way episodes need ${way} classes with >= ${need} images each, only ${this.eligible.length} have`,
      );
    }
  }

  sample(): Episode {
    const classes = this.rng.sample(this.eligible, this.way);
    const support = new Int32Array(this.way * this.shot);
    const supportLabels = new Int32Array(this.way * this.shot);
    const query = new Int32Array(this.way * this.query);
    const queryLabels = new Int32Array(this.way * this.query);
    classes.forEach((c, label) => {
      const images = this.rng.sample(this.classIndices[c]!, this.shot + this.query);
      for (let k = 0; k < this.shot; k++) {
        support[label * this.shot + k] = images[k]!;
        supportLabels[label * this.shot + k] = label;
      }
      for (let k = 0; k < this.query; k++) {
        query[label * this.query + k] = images[this.shot + k]!;
        queryLabels[label * this.query + k] = label;
      }
    });
    return { classes, support, supportLabels, query, queryLabels };
  }
}
