/**
 * The gallery's search index while it changes, with the slow work off the event loop.
 *
 * A base index (exact or HNSW) answers searches. Writing the HNSW graph to disk (libuv thread
 * pool) and rebuilding it (worker thread) both need a base nobody changes, so during either the
 * base is *frozen*: new vectors go to a small exact overlay and removals to a tombstone set, and a
 * search merges base (minus tombstones) with overlay. When the work finishes, the overlay and the
 * tombstones are folded into the (possibly new) base. Every request therefore sees every committed
 * change at once, and no request waits for a rebuild or a write.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildHnswInWorker } from './hnsw_build.js';
import { durableRename, ExactIndex, HnswIndex, TopK, type HnswOptions, type Metric, type Neighbour, type VectorIndex } from './vector_index.js';

/** Rows collected for a rebuild, in pages (the gallery reads them from its store). */
export type RowSource = () => AsyncIterable<{ id: number; embedding: Float32Array }[]>;

export class LiveIndex {
  private base: VectorIndex;
  private overlay: ExactIndex | null = null;
  private tombstones = new Set<number>();
  /** Bumped by reset(): background work started before it must not swap its result in. */
  private generation = 0;
  private work: Promise<void> = Promise.resolve();
  private busy = false;

  constructor(readonly dim: number, readonly metric: Metric, private readonly hnswOptions: HnswOptions = {}, base?: VectorIndex) {
    this.base = base ?? new ExactIndex(dim, metric);
  }

  get kind(): 'exact' | 'hnsw' {
    return this.base.kind;
  }

  /** True while a write or rebuild runs in the background. */
  get frozen(): boolean {
    return this.overlay !== null;
  }

  /** Replaces everything (a 'replace' import): pending background work is discarded. */
  reset(base: VectorIndex = new ExactIndex(this.dim, this.metric)): void {
    this.generation++;
    this.base = base;
    if (this.overlay) this.overlay = new ExactIndex(this.dim, this.metric);
    this.tombstones.clear();
  }

  add(id: number, v: Float32Array): void {
    if (this.overlay) this.overlay.add(id, v);
    else this.base.add(id, v);
  }

  remove(id: number): void {
    if (this.overlay) {
      this.overlay.remove(id);
      // Also tombstoned: a rebuild may have read the row from the store before it was deleted.
      this.tombstones.add(id);
    } else this.base.remove(id);
  }

  vector(id: number): Float32Array | undefined {
    if (this.tombstones.has(id)) return undefined;
    return this.overlay?.vector(id) ?? this.base.vector(id);
  }

  search(query: Float32Array, k: number): Neighbour[] {
    if (!this.overlay) return this.base.search(query, k);
    const top = new TopK(k);
    // Over-fetch by the tombstone count so k live results remain after filtering.
    for (const n of this.base.search(query, Math.min(k + this.tombstones.size, this.base.size))) if (!this.tombstones.has(n.id)) top.push(n.id, n.distance);
    for (const n of this.overlay.search(query, k)) top.push(n.id, n.distance);
    return top.result();
  }

  /** Runs `job` with the base frozen, after any earlier job; then folds what changed meanwhile. */
  private schedule(job: (generation: number) => Promise<VectorIndex | null>, builtIds?: () => Set<number>): Promise<void> {
    const run = async () => {
      this.busy = true;
      const generation = this.generation;
      let swapped = false;
      this.overlay = new ExactIndex(this.dim, this.metric);
      this.tombstones = new Set();
      try {
        const fresh = await job(generation);
        if (fresh && generation === this.generation) {
          this.base = fresh;
          swapped = true;
        }
      } finally {
        this.fold(swapped ? builtIds?.() : undefined);
        this.busy = false;
      }
    };
    const p = this.work.then(run);
    this.work = p.catch(() => {});
    return p;
  }

  private fold(alreadyIn?: Set<number>): void {
    const overlay = this.overlay!;
    const tombstones = this.tombstones;
    this.overlay = null;
    this.tombstones = new Set();
    const { ids, data } = overlay.export();
    ids.forEach((id, i) => {
      if (!alreadyIn?.has(id)) this.base.add(id, data.subarray(i * this.dim, (i + 1) * this.dim));
    });
    for (const id of tombstones) this.base.remove(id);
  }

  /** Writes the HNSW base to `file` durably, off the event loop (no-op for an exact base). */
  persist(file: string): Promise<void> {
    if (this.base.kind !== 'hnsw') return Promise.resolve();
    return this.schedule(async () => {
      if (this.base instanceof HnswIndex) await this.base.write(file);
      return null;
    });
  }

  /**
   * Builds a new HNSW graph over `rows` (read page by page from the store, after the freeze, so
   * nothing committed is missed) in a worker thread, loads it on the thread pool and swaps it in.
   * `file`: where the graph is kept (else a temporary file that is removed).
   */
  rebuild(rows: RowSource, file?: string): Promise<void> {
    let built = new Set<number>();
    return this.schedule(
      async (generation) => {
        let ids = new Float64Array(1024);
        let data = new Float32Array(1024 * this.dim);
        let n = 0;
        for await (const page of rows()) {
          if (generation !== this.generation) return null;
          for (const r of page) {
            if (n === ids.length) {
              const moreIds = new Float64Array(ids.length * 2);
              moreIds.set(ids);
              ids = moreIds;
              const moreData = new Float32Array(data.length * 2);
              moreData.set(data);
              data = moreData;
            }
            ids[n] = r.id;
            data.set(r.embedding, n * this.dim);
            n++;
          }
        }
        built = new Set(ids.subarray(0, n));
        const tmpDir = file ? null : mkdtempSync(join(tmpdir(), 'fewshot-hnsw-'));
        const target = file ? `${file}.build` : join(tmpDir!, 'hnsw.bin');
        try {
          await buildHnswInWorker({
            dim: this.dim,
            metric: this.metric,
            ids: ids.slice(0, n),
            data: data.slice(0, n * this.dim),
            capacity: Math.max(1024, Math.ceil(n * 1.25)),
            options: this.hnswOptions,
            file: target,
          });
          const fresh = await HnswIndex.readAsync(target, this.dim, this.metric, this.hnswOptions);
          if (file) await durableRename(target, file);
          return fresh;
        } finally {
          if (tmpDir) rmSync(tmpDir, { recursive: true, force: true });
          else rmSync(target, { force: true });
        }
      },
      () => built,
    );
  }

  /** Resolves when no background work is queued or running. */
  async idle(): Promise<void> {
    while (this.busy) await this.work;
    await this.work;
  }
}
