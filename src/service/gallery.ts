/**
 * The gallery: classes and their enrolled examples, kept in a `GalleryStore` (SQLite file or
 * PostgreSQL), plus what this process derives from it and keeps in memory:
 *
 * - a catalogue (class -> example count, example id -> class), so listings, /healthz and /metrics
 *   cost nothing per call, and prediction needs no database round trip;
 * - a search index (`LiveIndex`): exact while the gallery is small, HNSW past `annThreshold`
 *   examples; rebuilt in a worker thread and written to disk on the thread pool, never inside a
 *   request.
 *
 * The store is the source of truth. With the SQLite store the HNSW graph is also kept in
 * `hnsw.bin` (written a little after changes and at close) and checked against the store on open:
 * labels missing from the file are added, labels the store no longer has are marked deleted, and an
 * unreadable or badly stale file is rebuilt. With a shared store (PostgreSQL) every replica builds
 * its own index on open and then follows the others' committed changes in order.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REFERENCE_DECISIONS, type ReferenceDecision } from '../verification/writer_dependent.js';
import { LiveIndex } from './live_index.js';
import { SqliteStore } from './sqlite_store.js';
import { fromBlob, type ExampleInfo, type GalleryStore, type StoreChange, type StoredExampleInput } from './store.js';
import { durableRename, ExactIndex, HnswIndex, type HnswOptions, type Metric, type Neighbour } from './vector_index.js';

export type { ExampleInfo } from './store.js';

/** Galleries larger than this switch from exact search to HNSW. */
export const DEFAULT_ANN_THRESHOLD = 5_000;

/** More additions than this in one request go to the overlay and trigger a background rebuild. */
const INLINE_HNSW_ADDS = 1_000;
const PAGE = 10_000;

export interface GalleryOptions {
  store: GalleryStore;
  /** Identity of the model whose embeddings this gallery holds (export files carry it). */
  modelId: string;
  dim: number;
  metric: Metric;
  /** Folder where the HNSW graph is kept between runs (hnsw.bin, hnsw.json); none: rebuilt on open. */
  indexDir?: string;
  /** Galleries with more examples than this use HNSW; smaller ones exact search. Default 5,000. */
  annThreshold?: number;
  /** Delay before a changed HNSW graph is written to disk (ms). Default 30,000. */
  flushDelayMs?: number;
  /** Shared stores: how often to poll for other replicas' changes besides notifications (ms). Default 1,000. */
  followIntervalMs?: number;
  hnsw?: HnswOptions;
  /** Called with one-line notes (index rebuilt, repaired...). */
  log?: (line: string) => void;
}

export interface NewExample {
  embedding: Float32Array;
  /** sha256 of the uploaded image bytes (hex). */
  sha256: string;
  /** Where it came from: 'upload', 'import', a file name... */
  source: string;
}

export interface ClassSummary {
  name: string;
  examples: number;
}

export interface GalleryNeighbour extends Neighbour {
  className: string;
  embedding: Float32Array;
}

export interface GalleryExport {
  format: 'fewshot-gallery/1';
  model: { id: string; embeddingDim: number; metric: Metric };
  exportedAt: string;
  /** `decision`: how the class is verified (`Gallery.decisionOf`), present when one is stored. */
  classes: { name: string; decision?: ReferenceDecision; examples: { sha256: string; source: string; createdAt: string; embedding: number[] }[] }[];
}

/** Checks a per-class decision read from a request, an export or the store. */
export function parseClassDecision(value: unknown, what: string): ReferenceDecision {
  if (typeof value !== 'string' || !(REFERENCE_DECISIONS as readonly string[]).includes(value)) {
    throw new Error(`${what}: decision must be ${REFERENCE_DECISIONS.join(' or ')}, got ${JSON.stringify(value)}`);
  }
  return value as ReferenceDecision;
}

/** Code-point order (what SQLite's BINARY and PostgreSQL's "C" collation give). */
export function compareNames(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    // UTF-16 puts surrogates (code points >= 0x10000) below U+E000..U+FFFF: move them above.
    if (x !== y) return (x >= 0xd800 ? (x >= 0xe000 ? x - 0x800 : x + 0x2000) : x) - (y >= 0xd800 ? (y >= 0xe000 ? y - 0x800 : y + 0x2000) : y);
  }
  return a.length - b.length;
}

/** The persistent set of enrolled examples (SQLite) with a vector index for nearest-neighbour search, per model. */
export class Gallery {
  readonly store: GalleryStore;
  readonly modelId: string;
  readonly dim: number;
  readonly metric: Metric;
  private readonly index: LiveIndex;
  private readonly annThreshold: number;
  private readonly flushDelayMs: number;
  private readonly indexDir: string | undefined;
  private readonly log: (line: string) => void;
  /** class name -> its example count (classes without examples included). */
  private readonly counts = new Map<string, ClassSummary>();
  /** example id -> class name (the same string object as the `counts` key). */
  private readonly classOf = new Map<number, string>();
  /** Class names in order; rebuilt only when a class appears or goes. */
  private sortedNames: string[] | null = null;
  private seq = 0;
  private following: NodeJS.Timeout | undefined;
  private catchUpChain: Promise<void> = Promise.resolve();
  private flushTimer: NodeJS.Timeout | undefined;
  private dirty = false;
  private closed = false;

  private constructor(opts: GalleryOptions) {
    this.store = opts.store;
    this.modelId = opts.modelId;
    this.dim = opts.dim;
    this.metric = opts.metric;
    this.annThreshold = opts.annThreshold ?? DEFAULT_ANN_THRESHOLD;
    this.flushDelayMs = opts.flushDelayMs ?? 30_000;
    this.indexDir = opts.indexDir;
    this.log = opts.log ?? (() => {});
    this.index = new LiveIndex(opts.dim, opts.metric, opts.hnsw);
  }

  /** Loads the catalogue and the index from the store; for shared stores, starts following it. */
  static async open(opts: GalleryOptions): Promise<Gallery> {
    if (!Number.isInteger(opts.dim) || opts.dim <= 0) throw new Error(`gallery embedding size must be a positive integer, got ${opts.dim}`);
    const g = new Gallery(opts);
    await g.load();
    if (opts.store.shared) {
      await opts.store.subscribe(() => void g.catchUp().catch((e: Error) => g.log(`gallery: cannot follow the store (${e.message})`)));
      g.following = setInterval(() => void g.catchUp().catch(() => {}), opts.followIntervalMs ?? 1_000);
      g.following.unref();
    }
    return g;
  }

  /**
   * The embedded default: the SQLite store `dir/gallery.db`, with the HNSW graph kept beside it.
   * (The service also locks the folder: see home_lock.ts.)
   */
  static async openFolder(opts: Omit<GalleryOptions, 'store' | 'indexDir'> & { dir: string; legacyModelIds?: string[] }): Promise<Gallery> {
    const store = SqliteStore.open(opts.dir, { modelId: opts.modelId, dim: opts.dim, metric: opts.metric, legacyModelIds: opts.legacyModelIds });
    try {
      return await Gallery.open({ ...opts, store, indexDir: opts.dir });
    } catch (e) {
      await store.close();
      throw e;
    }
  }

  get size(): number {
    return this.classOf.size;
  }

  get searchKind(): 'exact' | 'hnsw' {
    return this.index.kind;
  }

  private get hnswFile(): string | undefined {
    return this.indexDir && join(this.indexDir, 'hnsw.bin');
  }

  private get hnswStateFile(): string | undefined {
    return this.indexDir && join(this.indexDir, 'hnsw.json');
  }

  /** Every row of the store, page by page (no long-lived cursor, so writes can go on meanwhile). */
  private async *pages(): AsyncGenerator<{ id: number; className: string; embedding: Float32Array }[]> {
    let after = 0;
    for (;;) {
      const page = await this.store.examplesAfter(after, PAGE);
      if (page.length === 0) return;
      yield page;
      after = page[page.length - 1]!.id;
    }
  }

  private async load(): Promise<void> {
    // The change sequence first: changes committed while loading are applied again, idempotently.
    this.seq = await this.store.changeSeq();
    for (const name of await this.store.allClassNames()) this.counts.set(name, { name, examples: 0 });
    const exact = new ExactIndex(this.dim, this.metric);
    for await (const page of this.pages()) {
      for (const r of page) {
        this.catalogueAdd(r.id, r.className);
        exact.add(r.id, r.embedding);
      }
    }
    const n = exact.size;
    if (n <= this.annThreshold) {
      this.index.reset(exact);
      return;
    }
    if (await this.loadHnswFile(exact)) return;
    // Serve exact search at once; the HNSW graph is built in a worker and swapped in when ready.
    this.index.reset(exact);
    this.startRebuild(`${n} examples and no usable graph file`);
  }

  /** Reads hnsw.bin and brings it in line with the store's rows; false when it is unusable. */
  private async loadHnswFile(rows: ExactIndex): Promise<boolean> {
    const file = this.hnswFile;
    const stateFile = this.hnswStateFile;
    if (!file || !stateFile || !existsSync(file) || !existsSync(stateFile)) return false;
    try {
      const state = JSON.parse(readFileSync(stateFile, 'utf8')) as { dim?: number; metric?: string };
      if (state.dim !== this.dim || state.metric !== this.metric) throw new Error('index made for another embedding size or metric');
      const index = await HnswIndex.readAsync(file, this.dim, this.metric);
      const { ids, data } = rows.export();
      const live = new Set(ids);
      const inGraph = new Set(index.labels());
      let repaired = 0;
      ids.forEach((id, i) => {
        if (!inGraph.has(id)) {
          index.add(id, data.subarray(i * this.dim, (i + 1) * this.dim));
          repaired++;
        }
      });
      // remove() fails (false) for labels already marked deleted in the file: not a repair.
      for (const label of inGraph) if (!live.has(label) && index.remove(label)) repaired++;
      index.reconcileLive(live.size);
      if (repaired > Math.max(1000, live.size / 5)) throw new Error(`${repaired} labels out of date`);
      if (repaired > 0) {
        this.log(`gallery: HNSW index repaired (${repaired} labels brought in line with the database)`);
        this.markDirty();
      }
      this.index.reset(index);
      return true;
    } catch (e) {
      this.log(`gallery: rebuilding HNSW index (${(e as Error).message})`);
      return false;
    }
  }

  /** Starts (or queues) a background HNSW rebuild from the store; searches keep working meanwhile. */
  private startRebuild(why: string, force = false): Promise<void> {
    const t0 = Date.now();
    const p = this.index.rebuild(() => this.pages(), this.hnswFile, { force }).then(
      (swapped) => {
        if (!swapped) return;
        this.log(`gallery: HNSW index built over ${this.size} embeddings in ${((Date.now() - t0) / 1000).toFixed(1)} s (${why})`);
        this.writeState();
        this.markDirty(); // changes folded in after the build are not in the file yet
      },
      (e: Error) => this.log(`gallery: HNSW rebuild failed (${e.message}); still searching the previous index`),
    );
    this.rebuilding = p;
    return p;
  }

  private rebuilding: Promise<void> | undefined;

  /** Resolves once background index work (rebuilds, writes) has finished: for tests and benchmarks. */
  async settled(): Promise<void> {
    await this.rebuilding;
    await this.index.idle();
  }

  private writeState(): void {
    if (!this.hnswStateFile) return;
    const state = { modelId: this.modelId, dim: this.dim, metric: this.metric, savedAt: new Date().toISOString() };
    writeFileSync(`${this.hnswStateFile}.tmp`, JSON.stringify(state));
    void durableRename(`${this.hnswStateFile}.tmp`, this.hnswStateFile).catch((e: Error) => this.log(`gallery: cannot write ${this.hnswStateFile} (${e.message})`));
  }

  private markDirty(): void {
    if (this.index.kind !== 'hnsw' || this.closed || !this.hnswFile) return;
    this.dirty = true;
    if (this.flushTimer) return;
    this.flushTimer = setTimeout(() => {
      this.flushTimer = undefined;
      this.flush().catch((e: Error) => this.log(`gallery: cannot write the HNSW graph (${e.message})`));
    }, this.flushDelayMs);
    this.flushTimer.unref();
  }

  /** Writes the HNSW graph and its state file now, off the event loop (no-op for exact search). */
  async flush(): Promise<void> {
    await this.rebuilding;
    if (this.flushTimer) {
      clearTimeout(this.flushTimer);
      this.flushTimer = undefined;
    }
    const file = this.hnswFile;
    if (!file || this.index.kind !== 'hnsw') return;
    this.dirty = false;
    const t0 = Date.now();
    await this.index.persist(file);
    this.writeState();
    this.log(`gallery: HNSW graph written to ${file} in ${((Date.now() - t0) / 1000).toFixed(1)} s (off the event loop)`);
  }

  // --- the catalogue ------------------------------------------------------------------------
  private catalogueAdd(id: number, className: string): void {
    if (this.classOf.has(id)) return;
    let entry = this.counts.get(className);
    if (!entry) {
      this.counts.set(className, (entry = { name: className, examples: 0 }));
      this.sortedNames = null;
    }
    entry.examples++;
    // The entry's own name string: one copy per class, not one per example.
    this.classOf.set(id, entry.name);
  }

  /** Applies one change (own or another replica's), idempotently. */
  private apply(c: StoreChange): void {
    switch (c.kind) {
      case 'add':
        if (this.classOf.has(c.id)) return;
        this.catalogueAdd(c.id, c.className);
        this.index.add(c.id, c.embedding);
        return;
      case 'remove': {
        const cls = this.classOf.get(c.id);
        if (cls === undefined) return;
        this.classOf.delete(c.id);
        const entry = this.counts.get(cls);
        if (entry) entry.examples = Math.max(0, entry.examples - 1);
        this.index.remove(c.id);
        return;
      }
      case 'class-added':
        if (!this.counts.has(c.className)) {
          this.counts.set(c.className, { name: c.className, examples: 0 });
          this.sortedNames = null;
        }
        return;
      case 'class-removed':
        if (this.counts.delete(c.className)) this.sortedNames = null;
        return;
    }
  }

  /** Applies the shared store's changes committed since the last catch-up, in order. */
  catchUp(): Promise<void> {
    const pass = this.catchUpChain.then(async () => {
      for (;;) {
        const changes = await this.store.changesSince(this.seq, 1_000);
        if (changes.length === 0) break;
        let added = 0;
        for (const c of changes) {
          this.apply(c);
          if (c.kind === 'add') added++;
          this.seq = c.seq;
        }
        if (added > 0) this.afterGrowth();
        this.markDirty();
      }
    });
    this.catchUpChain = pass.catch(() => {});
    return pass;
  }

  /**
   * After a commit: bring memory in line. Never throws, because the data is already stored: a
   * failure here is logged and repaired (by the next catch-up or a rebuild), and the caller still
   * gets its answer. A shared store applies changes only through the ordered change feed.
   */
  private async afterCommit(local: StoreChange[]): Promise<void> {
    try {
      if (this.store.shared) await this.catchUp();
      else {
        for (const c of local) this.apply(c);
        this.afterGrowth();
        this.markDirty();
      }
    } catch (e) {
      this.log(`gallery: the search index missed a committed change (${(e as Error).message}); rebuilding it`);
      if (!this.store.shared) void this.startRebuild('repair after an error', true);
    }
  }

  /** Switches to HNSW once the gallery outgrows exact search (in the background). */
  private afterGrowth(): void {
    if (this.index.kind === 'exact' && !this.index.frozen && this.size > this.annThreshold) void this.startRebuild(`passed ${this.annThreshold} examples`);
  }

  classes(): ClassSummary[] {
    this.sortedNames ??= [...this.counts.keys()].sort(compareNames);
    return this.sortedNames.map((name) => ({ name, examples: this.counts.get(name)!.examples }));
  }

  get classCount(): number {
    return this.counts.size;
  }

  /** Examples of a class, or undefined when the class does not exist. */
  async examples(className: string): Promise<ExampleInfo[] | undefined> {
    return (await this.store.examplesOf(className)) ?? undefined;
  }

  /** The decision stored with a class: null when none, undefined when there is no such class. */
  async decisionOf(className: string): Promise<ReferenceDecision | null | undefined> {
    const d = await this.store.classDecision(className);
    return d === null || d === undefined ? d : parseClassDecision(d, `${this.store.location}: class '${className}'`);
  }

  async example(id: number): Promise<ExampleInfo | undefined> {
    return (await this.store.example(id)) ?? undefined;
  }

  embedding(id: number): Float32Array | undefined {
    return this.classOf.has(id) ? this.index.vector(id) : undefined;
  }

  private checkEmbedding(v: Float32Array, what: string): void {
    if (!(v instanceof Float32Array) || v.length !== this.dim) throw new Error(`${what}: embedding must have ${this.dim} values, got ${v?.length}`);
    for (let i = 0; i < v.length; i++) if (!Number.isFinite(v[i]!)) throw new Error(`${what}: embedding value ${i} is not finite (${v[i]})`);
  }

  /**
   * Enrols examples into `className` (created if new) in one transaction: either all are stored
   * or none. `decision` is stored with the class in the same transaction (how questioned examples
   * are verified against it by default); omitted, the class keeps the one it has. Returns the new
   * example ids.
   */
  async enrol(className: string, items: NewExample[], opts: { decision?: ReferenceDecision } = {}): Promise<number[]> {
    if (items.length === 0) throw new Error('nothing to enrol: no examples given');
    items.forEach((it, i) => this.checkEmbedding(it.embedding, `example ${i}`));
    if (opts.decision !== undefined) parseClassDecision(opts.decision, `class '${className}'`);
    const { ids } = await this.store.insert([{ name: className, examples: items, ...(opts.decision ? { decision: opts.decision } : {}) }]);
    await this.afterCommit([{ seq: 0, kind: 'class-added', className }, ...ids.map((id, i) => ({ seq: 0, kind: 'add' as const, id, className, embedding: items[i]!.embedding }))]);
    return ids;
  }

  /**
   * Enrols examples into several classes in one transaction (bulk loading, e.g. benchmarks):
   * one commit instead of one per class. Returns the new ids in input order.
   */
  async enrolBatch(entries: { className: string; example: NewExample }[]): Promise<number[]> {
    entries.forEach((e, i) => this.checkEmbedding(e.example.embedding, `entry ${i} ('${e.className}')`));
    const groups = new Map<string, { name: string; examples: StoredExampleInput[]; at: number[] }>();
    entries.forEach((e, i) => {
      let g = groups.get(e.className);
      if (!g) groups.set(e.className, (g = { name: e.className, examples: [], at: [] }));
      g.examples.push(e.example);
      g.at.push(i);
    });
    const classes = [...groups.values()];
    const { ids } = await this.store.insert(classes);
    const out = new Array<number>(entries.length);
    let k = 0;
    for (const g of classes) for (const i of g.at) out[i] = ids[k++]!;
    await this.addedInBulk(out.map((id, i) => ({ id, className: entries[i]!.className, embedding: entries[i]!.example.embedding })));
    return out;
  }

  /**
   * Many additions at once: they go to the index overlay at once (searchable), and into the graph
   * in the background (a rebuild in a worker when crossing to HNSW, else a chunked fold), instead of
   * thousands of HNSW insertions inside the request.
   */
  private async addedInBulk(rows: { id: number; className: string; embedding: Float32Array }[]): Promise<void> {
    const large = rows.length > INLINE_HNSW_ADDS && (this.index.kind === 'hnsw' || this.size + rows.length > this.annThreshold);
    if (this.store.shared || !large) {
      const changes: StoreChange[] = [...new Set(rows.map((r) => r.className))].map((className) => ({ seq: 0, kind: 'class-added', className }));
      for (const r of rows) changes.push({ seq: 0, kind: 'add', ...r });
      return this.afterCommit(changes);
    }
    try {
      if (this.index.kind === 'exact') void this.startRebuild(`${rows.length} examples added at once`);
      else void this.index.absorb().then(() => this.markDirty());
      for (const r of rows) this.apply({ seq: 0, kind: 'add', ...r });
    } catch (e) {
      this.log(`gallery: the search index missed a bulk addition (${(e as Error).message}); rebuilding it`);
      void this.startRebuild('repair after an error', true);
    }
  }

  /** Deletes a class and its examples; returns how many examples went, or null when there was no such class. */
  async deleteClass(className: string): Promise<number | null> {
    const r = await this.store.deleteClass(className);
    if (!r) return null;
    await this.afterCommit([...r.ids.map((id) => ({ seq: 0, kind: 'remove' as const, id })), { seq: 0, kind: 'class-removed', className }]);
    return r.ids.length;
  }

  /** Deletes one example (its class stays, possibly empty); null when there was no such example. */
  async deleteExample(id: number): Promise<{ className: string } | null> {
    const r = await this.store.deleteExample(id);
    if (!r) return null;
    await this.afterCommit([{ seq: 0, kind: 'remove', id }]);
    return r;
  }

  /** The k nearest examples to `query` by the gallery metric (approximate when the index is HNSW). */
  nearest(query: Float32Array, k: number): GalleryNeighbour[] {
    this.checkEmbedding(query, 'query');
    const out: GalleryNeighbour[] = [];
    for (const n of this.index.search(query, k)) {
      const className = this.classOf.get(n.id);
      const embedding = className === undefined ? undefined : this.index.vector(n.id);
      if (className !== undefined && embedding) out.push({ ...n, className, embedding });
    }
    return out;
  }

  /** Every embedding with its id, page by page from the store (benchmarks, exact scans). */
  async *scan(): AsyncGenerator<{ id: number; embedding: Float32Array }> {
    for await (const page of this.pages()) yield* page;
  }

  /** All examples with their class names and embeddings, by id (small galleries only). */
  snapshot(limit: number): { id: number; className: string; embedding: Float32Array }[] {
    if (this.size > limit) throw new Error(`gallery has ${this.size} examples, more than the ${limit} a snapshot may hold`);
    return [...this.classOf.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([id, className]) => ({ id, className, embedding: this.index.vector(id)! }));
  }

  /**
   * The export (`fewshot-gallery/1` JSON) as text chunks, read from the store class by class in
   * pages: memory stays flat however large the gallery is.
   */
  async *exportChunks(): AsyncGenerator<string> {
    const header = { format: 'fewshot-gallery/1', model: { id: this.modelId, embeddingDim: this.dim, metric: this.metric }, exportedAt: new Date().toISOString() };
    yield `${JSON.stringify(header).slice(0, -1)},"classes":[`;
    let after: string | null = null;
    let firstClass = true;
    for (;;) {
      const names = await this.store.classNamesAfter(after, 500);
      if (names.length === 0) break;
      for (const name of names) {
        const decision = await this.store.classDecision(name);
        yield `${firstClass ? '' : ','}{"name":${JSON.stringify(name)},${decision ? `"decision":${JSON.stringify(decision)},` : ''}"examples":[`;
        firstClass = false;
        let afterId = 0;
        let first = true;
        for (;;) {
          const rows = await this.store.exportPage(name, afterId, 1_000);
          if (rows.length === 0) break;
          const parts = rows.map((r) => JSON.stringify({ sha256: r.sha256, source: r.source, createdAt: r.createdAt, embedding: Array.from(r.embedding) }));
          yield (first ? '' : ',') + parts.join(',');
          first = false;
          afterId = rows[rows.length - 1]!.id;
        }
        yield ']}';
      }
      after = names[names.length - 1]!;
    }
    yield ']}';
  }

  /** The whole export as one object (small galleries; the HTTP route streams `exportChunks`). */
  async exportJson(): Promise<GalleryExport> {
    let text = '';
    for await (const chunk of this.exportChunks()) text += chunk;
    return JSON.parse(text) as GalleryExport;
  }

  /**
   * Imports an export (validated completely before anything is written, then one transaction).
   * `replace` empties the gallery first. Returns how many classes and examples were added.
   */
  async importJson(data: unknown, opts: { replace?: boolean; validateName?: (name: string) => void } = {}): Promise<{ classes: number; examples: number }> {
    const d = data as Partial<GalleryExport> | null;
    if (!d || typeof d !== 'object' || d.format !== 'fewshot-gallery/1') throw new Error("not a gallery export: expected format 'fewshot-gallery/1'");
    if (!d.model || d.model.embeddingDim !== this.dim) throw new Error(`export holds ${d.model?.embeddingDim}-value embeddings, this gallery ${this.dim}`);
    if (d.model.id !== this.modelId) throw new Error(`export was made with model ${d.model.id}, this gallery belongs to ${this.modelId}`);
    if (!Array.isArray(d.classes)) throw new Error('export has no classes array');
    const seen = new Set<string>();
    const parsed = d.classes.map((c, ci) => {
      if (!c || typeof c.name !== 'string') throw new Error(`class ${ci} has no name`);
      opts.validateName?.(c.name);
      if (seen.has(c.name)) throw new Error(`class '${c.name}' appears twice`);
      seen.add(c.name);
      if (!Array.isArray(c.examples)) throw new Error(`class '${c.name}' has no examples array`);
      return {
        name: c.name,
        ...(c.decision !== undefined ? { decision: parseClassDecision(c.decision, `class '${c.name}'`) } : {}),
        examples: c.examples.map((e, ei) => {
          const what = `class '${c.name}' example ${ei}`;
          if (!e || !Array.isArray(e.embedding)) throw new Error(`${what} has no embedding`);
          if (typeof e.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(e.sha256)) throw new Error(`${what} has no valid sha256`);
          const v = Float32Array.from(e.embedding);
          this.checkEmbedding(v, what);
          const source = typeof e.source === 'string' ? e.source.slice(0, 200) : 'import';
          const createdAt = typeof e.createdAt === 'string' && !Number.isNaN(Date.parse(e.createdAt)) ? e.createdAt : new Date().toISOString();
          return { embedding: v, sha256: e.sha256, source, createdAt };
        }),
      };
    });
    const { ids } = await this.store.insert(parsed, { replace: opts.replace });
    const rows: { id: number; className: string; embedding: Float32Array }[] = [];
    let k = 0;
    for (const c of parsed) for (const e of c.examples) rows.push({ id: ids[k++]!, className: c.name, embedding: e.embedding });
    if (!this.store.shared) {
      if (opts.replace) {
        this.counts.clear();
        this.classOf.clear();
        this.sortedNames = null;
        this.index.reset();
      }
      for (const c of parsed) this.apply({ seq: 0, kind: 'class-added', className: c.name });
    }
    await this.addedInBulk(rows);
    return { classes: parsed.length, examples: rows.length };
  }

  /** The store's own consistency check: 'ok' when sound. */
  integrityCheck(): Promise<string> {
    return this.store.integrityCheck();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.following) clearInterval(this.following);
    if (this.flushTimer) clearTimeout(this.flushTimer);
    await this.catchUpChain;
    // A graph build can take minutes: stop it (the next start builds again) rather than wait.
    this.index.cancelRebuilds();
    await this.settled();
    if (this.dirty || (this.index.kind === 'hnsw' && this.hnswFile && !existsSync(this.hnswFile))) {
      this.closed = false; // flush() is allowed once more
      await this.flush().catch((e: Error) => this.log(`gallery: cannot write the HNSW graph (${e.message})`));
      this.closed = true;
    }
    await this.store.close();
  }
}

/** Folder of the gallery for a model under the service home. */
export function galleryDir(home: string, modelId: string): string {
  if (!/^[A-Za-z0-9_.-]+$/.test(modelId)) throw new Error(`model id '${modelId}' cannot name a folder`);
  return join(home, 'galleries', modelId);
}

/** Embeddings of a stored blob (re-exported for tools that read gallery.db directly). */
export { fromBlob };
