/**
 * Recognition against the gallery: find candidate examples by nearest-neighbour search (exact or
 * HNSW), score them with the model's own similarity (pair head or negative distance), and rank
 * classes by their best example (1-nearest-neighbour over enrolled examples).
 */
import type { Gallery } from './gallery.js';
import type { EmbeddingModel } from './model.js';

export interface Prediction {
  class: string;
  score: number;
}

export interface Recognition {
  /** Best first, at most `top` classes. */
  predictions: Prediction[];
  /** True when the gallery is empty or the best score is below the threshold. */
  unknown: boolean;
  threshold: number | null;
  /** The example that matched best. */
  nearest: { id: number; class: string; score: number } | null;
  search: 'exact' | 'hnsw';
}

export interface RecognizeOptions {
  threshold: number | null;
  /** Classes returned (default 5). */
  top?: number;
  /** Examples re-scored with the model after the index search (default 64). */
  candidates?: number;
}

export function recognize(model: EmbeddingModel, gallery: Gallery, query: Float32Array, opts: RecognizeOptions): Recognition {
  const top = opts.top ?? 5;
  const neighbours = gallery.nearest(query, opts.candidates ?? 64);
  const base = { threshold: opts.threshold, search: gallery.searchKind };
  if (neighbours.length === 0) return { predictions: [], unknown: true, nearest: null, ...base };
  const scores = model.similarity(
    query,
    neighbours.map((n) => n.embedding),
  );
  const best = new Map<string, number>();
  let nearest = { id: neighbours[0]!.id, class: neighbours[0]!.className, score: -Infinity };
  neighbours.forEach((n, i) => {
    const s = scores[i]!;
    if (!(s <= (best.get(n.className) ?? -Infinity))) best.set(n.className, s);
    if (s > nearest.score) nearest = { id: n.id, class: n.className, score: s };
  });
  const predictions = [...best.entries()]
    .map(([cls, score]) => ({ class: cls, score }))
    .sort((a, b) => b.score - a.score || (a.class < b.class ? -1 : 1))
    .slice(0, top);
  const unknown = opts.threshold !== null && !(predictions[0]!.score >= opts.threshold);
  return { predictions, unknown, nearest, ...base };
}
