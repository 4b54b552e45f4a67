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
/** HNSW insertions per event-loop turn while folding (~a few ms). */
const FOLD_BATCH = 32;

export type RowSource = () => AsyncIterable<{ id: number; embedding: Float32Array }[]>;

export class LiveIndex {
  private base: VectorIndex;
  private overlay: ExactIndex | null = null;
  private tombstones = new Set<number>();
  /** Bumped by reset(): background work started before it must not swap its result in. */
  private generation = 0;
  private work: Promise<unknown> = Promise.resolve();
  /** Jobs queued or running; the base stays frozen until none is left. */
  private pending = 0;
  private queuedRebuild: Promise<boolean> | null = null;
  /** Ids the latest rebuild put in the base (the overlay may hold them too until folded). */
  private lastBuilt: Set<number> | null = null;
  private readonly cancelled = new AbortController();

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
    this.lastBuilt = null;
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

  /**
   * Runs `job` after any earlier one. The base is frozen from now until the queue is empty: changes
   * meanwhile go to the overlay and tombstones, and are folded into the base after each job.
   */
  private schedule(job: (generation: number) => Promise<{ index: VectorIndex; built: Set<number> } | null>): Promise<boolean> {
    if (!this.overlay) {
      this.overlay = new ExactIndex(this.dim, this.metric);
      this.tombstones = new Set();
    }
    this.pending++;
    const run = async (): Promise<boolean> => {
      const generation = this.generation;
      try {
        const fresh = await job(generation);
        if (!fresh || generation !== this.generation) return false;
        this.base = fresh.index;
        this.lastBuilt = fresh.built;
        return true;
      } finally {
        // A queued rebuild will read every committed row anyway: folding now would be wasted work
        // (the overlay stays searchable until then, and the tombstones are kept).
        if (!this.queuedRebuild) await this.fold();
        this.pending--;
        if (this.pending === 0 && this.overlay && this.overlay.size === 0 && this.tombstones.size === 0) {
          this.overlay = null;
          this.lastBuilt = null;
        }
      }
    };
    const p = this.work.then(run);
    this.work = p.catch(() => {});
    return p;
  }

  /**
   * Moves the overlay into the base a few vectors at a time, yielding between batches, so that even
   * tens of thousands of HNSW insertions never hold the event loop for more than a few
   * milliseconds. Searches stay exact meanwhile (base + rest of the overlay - tombstones).
   */
  private async fold(): Promise<void> {
    // Re-read this.overlay each turn: reset() may have replaced it (and the base) meanwhile.
    while (this.overlay && this.overlay.size > 0) {
      const overlay = this.overlay;
      const { ids, data } = overlay.export(FOLD_BATCH);
      ids.forEach((id, i) => {
        // Rows the last rebuild read from the store are in the base already.
        if (!this.lastBuilt?.has(id) && !this.tombstones.has(id)) this.base.add(id, data.subarray(i * this.dim, (i + 1) * this.dim));
        overlay.remove(id);
      });
      if (overlay.size > 0) await new Promise((r) => setImmediate(r));
    }
    for (const id of this.tombstones) this.base.remove(id);
    this.tombstones.clear();
  }

  /** Takes many additions into the overlay and folds them into the base in the background. */
  absorb(): Promise<void> {
    return this.schedule(async () => null).then(() => {});
  }

  /** Writes the HNSW base to `file` durably, off the event loop (no-op for an exact base). */
  persist(file: string): Promise<void> {
    if (this.base.kind !== 'hnsw') return Promise.resolve();
    return this.schedule(async () => {
      if (this.base instanceof HnswIndex) await this.base.write(file);
      return null;
    }).then(() => {});
  }

  /**
   * Builds a new HNSW graph over `rows` (read page by page from the store, after the freeze, so
   * nothing committed is missed) in a worker thread, loads it on the thread pool and swaps it in.
   * `file`: where the graph is kept (else a temporary file that is removed).
   */
  /** Resolves true when a new graph was swapped in (false: skipped, superseded or cancelled). */
  rebuild(rows: RowSource, file?: string, opts: { force?: boolean } = {}): Promise<boolean> {
    // A rebuild not yet started will read everything committed until it starts: one is enough.
    if (this.queuedRebuild) return this.queuedRebuild;
    const p = this.schedule(async (generation) => {
        this.queuedRebuild = null;
        // Queued behind a build that already produced a graph: the fold adds what came since.
        if (!opts.force && this.base.kind === 'hnsw') return null;
        let ids = new Float64Array(1024);
        let data = new Float32Array(1024 * this.dim);
        let n = 0;
        for await (const page of rows()) {
          if (generation !== this.generation || this.cancelled.signal.aborted) return null;
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
        const built = new Set(ids.subarray(0, n));
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
            signal: this.cancelled.signal,
          });
          const fresh = await HnswIndex.readAsync(target, this.dim, this.metric, this.hnswOptions);
          if (file) await durableRename(target, file);
          return { index: fresh, built };
        } finally {
          if (tmpDir) rmSync(tmpDir, { recursive: true, force: true });
          else rmSync(target, { force: true });
        }
      });
    this.queuedRebuild = p;
    return p;
  }

  /** Stops a running graph build (at shutdown): the exact index it would have replaced stays. */
  cancelRebuilds(): void {
    this.cancelled.abort();
  }

  /** Resolves when no background work is queued or running. */
  async idle(): Promise<void> {
    while (this.pending > 0) await this.work;
  }
}
