/**
 * Embeddings of dataset images computed at most once per evaluation pass: every episode of a
 * pass draws from the same cache, so N episodes cost one encoder call per distinct image.
 * A new cache is needed whenever the model's weights change (the trainer makes one per pass).
 */
import type { ImageDataset } from '../data/dataset.js';
import type { SiameseScorer } from '../inference/embedder.js';

/** Embeds each dataset image at most once across many episodes. */
export class EmbeddingCache {
  private readonly cache = new Map<number, Float32Array>();

  constructor(
    readonly scorer: SiameseScorer,
    readonly dataset: ImageDataset,
  ) {
    const [h, w, c] = scorer.inputShape;
    if (dataset.height !== h || dataset.width !== w || dataset.channels !== c) {
      throw new Error(`dataset images are ${dataset.height}x${dataset.width}x${dataset.channels} but the model expects ${h}x${w}x${c}`);
    }
  }

  /** Embeds every index not cached yet, in large batches. */
  prefetch(indices: Iterable<number>): void {
    const missing = [...new Set(indices)].filter((i) => !this.cache.has(i));
    if (missing.length === 0) return;
    const size = this.scorer.inputSize;
    const flat = new Uint8Array(missing.length * size);
    missing.forEach((idx, k) => {
      if (!(idx >= 0 && idx < this.dataset.size)) throw new Error(`image index ${idx} out of range`);
      flat.set(this.dataset.pixels.subarray(idx * size, (idx + 1) * size), k * size);
    });
    const emb = this.scorer.embedFlat(flat, missing.length);
    missing.forEach((idx, k) => this.cache.set(idx, emb[k]!));
  }

  get(indices: ArrayLike<number>): Float32Array[] {
    const list = Array.from(indices);
    this.prefetch(list);
    return list.map((i) => this.cache.get(i)!);
  }
}
