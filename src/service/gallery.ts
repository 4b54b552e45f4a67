/**
 * The gallery: classes and their enrolled examples, persisted in SQLite (WAL, synchronous=FULL so
 * an acknowledged enrolment survives a crash), plus a nearest-neighbour index over the embeddings.
 *
 * SQLite is the source of truth. The search index is derived from it: an in-memory exact index
 * while the gallery is small, an HNSW graph once it passes `annThreshold` examples. The HNSW graph
 * is updated on every enrolment/deletion, written to `hnsw.bin` a little later (debounced) and at
 * close, and checked against the database when the gallery opens: labels missing from the file are
 * added, labels the database no longer has are marked deleted, and an unreadable file is rebuilt.
 */
import { mkdirSync, existsSync, readFileSync, writeFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { ExactIndex, HnswIndex, type HnswOptions, type Metric, type Neighbour, type VectorIndex } from './vector_index.js';

/** Galleries larger than this switch from exact search to HNSW. */
export const DEFAULT_ANN_THRESHOLD = 5_000;

export interface GalleryOptions {
  /** Folder of this gallery (created if missing): gallery.db, hnsw.bin, hnsw.json. */
  dir: string;
  /** Identity of the model whose embeddings this gallery holds; refusing a mismatch protects the data. */
  modelId: string;
  dim: number;
  metric: Metric;
  /** Galleries with more examples than this use HNSW; smaller ones exact search. Default 5,000 (exact search over more costs more than HNSW). */
  annThreshold?: number;
  /** Delay before a changed HNSW graph is written to disk (ms). Default 5,000. */
  flushDelayMs?: number;
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

export interface ExampleInfo {
  id: number;
  class: string;
  sha256: string;
  source: string;
  createdAt: string;
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
  classes: { name: string; examples: { sha256: string; source: string; createdAt: string; embedding: number[] }[] }[];
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS classes (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL UNIQUE,
  created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS examples (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  class_id INTEGER NOT NULL REFERENCES classes(id) ON DELETE CASCADE,
  embedding BLOB NOT NULL,
  sha256 TEXT NOT NULL,
  source TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS examples_by_class ON examples(class_id);
`;

function toBlob(v: Float32Array): Buffer {
  return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
}

function fromBlob(b: Buffer): Float32Array {
  // Copy: the Buffer may be a view into a pool and not 4-byte aligned.
  const out = new Float32Array(b.byteLength / 4);
  new Uint8Array(out.buffer).set(b);
  return out;
}

/** The persistent set of enrolled examples (SQLite) with a vector index for nearest-neighbour search, per model. */
export class Gallery {
  readonly dir: string;
  readonly modelId: string;
  readonly dim: number;
  readonly metric: Metric;
  private readonly db: Database.Database;
  private index: VectorIndex;
  private readonly annThreshold: number;
  private readonly flushDelayMs: number;
  private readonly hnswOptions: HnswOptions;
  private readonly log: (line: string) => void;
  private flushTimer: NodeJS.Timeout | undefined;
  private dirty = false;
  private closed = false;
  private readonly stmts;

  private constructor(opts: GalleryOptions, db: Database.Database) {
    this.dir = opts.dir;
    this.modelId = opts.modelId;
    this.dim = opts.dim;
    this.metric = opts.metric;
    this.db = db;
    this.annThreshold = opts.annThreshold ?? DEFAULT_ANN_THRESHOLD;
    this.flushDelayMs = opts.flushDelayMs ?? 5_000;
    this.hnswOptions = opts.hnsw ?? {};
    this.log = opts.log ?? (() => {});
    this.stmts = {
      classId: db.prepare<[string], { id: number }>('SELECT id FROM classes WHERE name = ?'),
      insertClass: db.prepare<[string, string]>('INSERT OR IGNORE INTO classes (name, created_at) VALUES (?, ?)'),
      insertExample: db.prepare<[number, Buffer, string, string, string]>(
        'INSERT INTO examples (class_id, embedding, sha256, source, created_at) VALUES (?, ?, ?, ?, ?)',
      ),
      listClasses: db.prepare<[], ClassSummary>(
        'SELECT c.name AS name, COUNT(e.id) AS examples FROM classes c LEFT JOIN examples e ON e.class_id = c.id GROUP BY c.id ORDER BY c.name',
      ),
      examplesOf: db.prepare<[string], ExampleInfo>(
        'SELECT e.id AS id, c.name AS class, e.sha256 AS sha256, e.source AS source, e.created_at AS createdAt FROM examples e JOIN classes c ON c.id = e.class_id WHERE c.name = ? ORDER BY e.id',
      ),
      exampleIdsOfClass: db.prepare<[number], { id: number }>('SELECT id FROM examples WHERE class_id = ?'),
      deleteClass: db.prepare<[number]>('DELETE FROM classes WHERE id = ?'),
      deleteExamplesOfClass: db.prepare<[number]>('DELETE FROM examples WHERE class_id = ?'),
      deleteExample: db.prepare<[number]>('DELETE FROM examples WHERE id = ?'),
      example: db.prepare<[number], { className: string; embedding: Buffer }>(
        'SELECT c.name AS className, e.embedding AS embedding FROM examples e JOIN classes c ON c.id = e.class_id WHERE e.id = ?',
      ),
      exampleInfo: db.prepare<[number], ExampleInfo>(
        'SELECT e.id AS id, c.name AS class, e.sha256 AS sha256, e.source AS source, e.created_at AS createdAt FROM examples e JOIN classes c ON c.id = e.class_id WHERE e.id = ?',
      ),
      count: db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM examples'),
      allEmbeddings: db.prepare<[], { id: number; embedding: Buffer }>('SELECT id, embedding FROM examples'),
      allIds: db.prepare<[], { id: number }>('SELECT id FROM examples'),
      exportRows: db.prepare<[], { name: string; sha256: string; source: string; createdAt: string; embedding: Buffer }>(
        'SELECT c.name AS name, e.sha256 AS sha256, e.source AS source, e.created_at AS createdAt, e.embedding AS embedding FROM examples e JOIN classes c ON c.id = e.class_id ORDER BY c.name, e.id',
      ),
      emptyClasses: db.prepare<[], { name: string }>(
        'SELECT c.name AS name FROM classes c WHERE NOT EXISTS (SELECT 1 FROM examples e WHERE e.class_id = c.id) ORDER BY c.name',
      ),
    };
    this.index = new ExactIndex(this.dim, this.metric); // replaced by loadIndex()
  }

  /** Opens (or creates) the gallery in `opts.dir`; refuses a database made for another model or size. */
  static open(opts: GalleryOptions): Gallery {
    if (!Number.isInteger(opts.dim) || opts.dim <= 0) throw new Error(`gallery embedding size must be a positive integer, got ${opts.dim}`);
    mkdirSync(opts.dir, { recursive: true });
    const db = new Database(join(opts.dir, 'gallery.db'));
    try {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      db.pragma('foreign_keys = ON');
      db.pragma('busy_timeout = 5000');
      db.exec(SCHEMA);
      const meta = new Map(db.prepare<[], { key: string; value: string }>('SELECT key, value FROM meta').all().map((r) => [r.key, r.value]));
      if (meta.size === 0) {
        const put = db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)');
        db.transaction(() => {
          put.run('format', 'fewshot-gallery/1');
          put.run('model_id', opts.modelId);
          put.run('dim', String(opts.dim));
          put.run('metric', opts.metric);
        })();
      } else {
        if (meta.get('model_id') !== opts.modelId)
          throw new Error(`gallery ${opts.dir} belongs to model ${meta.get('model_id')}, not ${opts.modelId}`);
        if (meta.get('dim') !== String(opts.dim))
          throw new Error(`gallery ${opts.dir} holds ${meta.get('dim')}-value embeddings, the model makes ${opts.dim}`);
        if (meta.get('metric') !== opts.metric)
          throw new Error(`gallery ${opts.dir} was indexed with metric ${meta.get('metric')}, not ${opts.metric}`);
      }
    } catch (e) {
      db.close();
      throw e;
    }
    const g = new Gallery(opts, db);
    g.loadIndex();
    return g;
  }

  get size(): number {
    return this.stmts.count.get()!.n;
  }

  get searchKind(): 'exact' | 'hnsw' {
    return this.index.kind;
  }

  private get hnswFile(): string {
    return join(this.dir, 'hnsw.bin');
  }

  private get hnswStateFile(): string {
    return join(this.dir, 'hnsw.json');
  }

  /** Chooses exact or HNSW by size and brings the index in line with the database. */
  private loadIndex(): void {
    const n = this.size;
    if (n <= this.annThreshold) {
      const exact = new ExactIndex(this.dim, this.metric, Math.max(1024, n));
      for (const row of this.stmts.allEmbeddings.iterate()) exact.add(row.id, fromBlob(row.embedding));
      this.index = exact;
      return;
    }
    this.index = this.readOrRebuildHnsw(n);
  }

  private readOrRebuildHnsw(n: number): HnswIndex {
    if (existsSync(this.hnswFile) && existsSync(this.hnswStateFile)) {
      try {
        const state = JSON.parse(readFileSync(this.hnswStateFile, 'utf8')) as { dim?: number; metric?: string; modelId?: string };
        if (state.dim !== this.dim || state.metric !== this.metric || state.modelId !== this.modelId) throw new Error('index made for another model');
        const index = HnswIndex.read(this.hnswFile, this.dim, this.metric, this.hnswOptions);
        const repaired = this.reconcile(index);
        if (repaired > Math.max(1000, n / 5)) throw new Error(`${repaired} labels out of date`);
        if (repaired > 0) {
          this.log(`gallery: HNSW index repaired (${repaired} labels brought in line with the database)`);
          this.markDirty();
        }
        return index;
      } catch (e) {
        this.log(`gallery: rebuilding HNSW index (${(e as Error).message})`);
      }
    }
    return this.rebuildHnsw(n);
  }

  /** Adds database rows missing from the graph and deletes graph labels the database lacks. */
  private reconcile(index: HnswIndex): number {
    const inGraph = new Set(index.labels());
    let repaired = 0;
    let live = 0;
    const seen = new Set<number>();
    for (const row of this.stmts.allIds.iterate()) {
      seen.add(row.id);
      if (!inGraph.has(row.id)) {
        index.add(row.id, fromBlob(this.stmts.example.get(row.id)!.embedding));
        repaired++;
      }
    }
    for (const label of inGraph) {
      // remove() fails (false) for labels already marked deleted in the file: not a repair.
      if (!seen.has(label) && index.remove(label)) repaired++;
    }
    live = seen.size;
    index.reconcileLive(live);
    return repaired;
  }

  private rebuildHnsw(n: number): HnswIndex {
    const t0 = Date.now();
    const index = HnswIndex.create(this.dim, this.metric, Math.max(1024, Math.ceil(n * 1.25)), this.hnswOptions);
    for (const row of this.stmts.allEmbeddings.iterate()) index.add(row.id, fromBlob(row.embedding));
    this.log(`gallery: HNSW index built over ${n} embeddings in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    this.index = index;
    this.flush();
    return index;
  }

  private markDirty(): void {
    if (this.index.kind !== 'hnsw' || this.closed) return;
    this.dirty = true;
    if (this.flushTimer) return;
    this.flushTimer = setTimeout(() => {
      this.flushTimer = undefined;
      this.flush();
    }, this.flushDelayMs);
    this.flushTimer.unref();
  }

  /** Writes the HNSW graph and its state file now (no-op for exact search). */
  flush(): void {
    if (this.flushTimer) {
      clearTimeout(this.flushTimer);
      this.flushTimer = undefined;
    }
    if (!(this.index instanceof HnswIndex)) return;
    this.index.write(this.hnswFile);
    const state = { modelId: this.modelId, dim: this.dim, metric: this.metric, size: this.index.size, savedAt: new Date().toISOString() };
    writeFileSync(`${this.hnswStateFile}.tmp`, JSON.stringify(state));
    renameSync(`${this.hnswStateFile}.tmp`, this.hnswStateFile);
    this.dirty = false;
  }

  private checkEmbedding(v: Float32Array, what: string): void {
    if (!(v instanceof Float32Array) || v.length !== this.dim) throw new Error(`${what}: embedding must have ${this.dim} values, got ${v?.length}`);
    for (let i = 0; i < v.length; i++) if (!Number.isFinite(v[i]!)) throw new Error(`${what}: embedding value ${i} is not finite (${v[i]})`);
  }

  /**
   * Enrols examples into `className` (created if new) in one transaction: either all are stored
   * or none. Returns the new example ids.
   */
  enrol(className: string, items: NewExample[]): number[] {
    if (items.length === 0) throw new Error('nothing to enrol: no examples given');
    items.forEach((it, i) => this.checkEmbedding(it.embedding, `example ${i}`));
    const now = new Date().toISOString();
    const ids = this.db.transaction(() => {
      this.stmts.insertClass.run(className, now);
      const classId = this.stmts.classId.get(className)!.id;
      return items.map((it) => Number(this.stmts.insertExample.run(classId, toBlob(it.embedding), it.sha256, it.source, now).lastInsertRowid));
    })();
    items.forEach((it, i) => this.index.add(ids[i]!, it.embedding));
    this.afterGrowth();
    this.markDirty();
    return ids;
  }

  /**
   * Enrols examples into several classes in one transaction (bulk loading, e.g. benchmarks):
   * one commit instead of one per class. Returns the new ids in input order.
   */
  enrolBatch(entries: { className: string; example: NewExample }[]): number[] {
    entries.forEach((e, i) => this.checkEmbedding(e.example.embedding, `entry ${i} ('${e.className}')`));
    const now = new Date().toISOString();
    const ids = this.db.transaction(() => {
      const classIds = new Map<string, number>();
      return entries.map(({ className, example }) => {
        let classId = classIds.get(className);
        if (classId === undefined) {
          this.stmts.insertClass.run(className, now);
          classId = this.stmts.classId.get(className)!.id;
          classIds.set(className, classId);
        }
        return Number(this.stmts.insertExample.run(classId, toBlob(example.embedding), example.sha256, example.source, now).lastInsertRowid);
      });
    })();
    entries.forEach((e, i) => this.index.add(ids[i]!, e.example.embedding));
    this.afterGrowth();
    this.markDirty();
    return ids;
  }

  /** Switches to HNSW once the gallery outgrows exact search. */
  private afterGrowth(): void {
    if (this.index.kind === 'exact' && this.index.size > this.annThreshold) this.index = this.rebuildHnsw(this.index.size);
  }

  classes(): ClassSummary[] {
    return this.stmts.listClasses.all();
  }

  /** Examples of a class, or undefined when the class does not exist. */
  examples(className: string): ExampleInfo[] | undefined {
    if (!this.stmts.classId.get(className)) return undefined;
    return this.stmts.examplesOf.all(className);
  }

  example(id: number): ExampleInfo | undefined {
    return this.stmts.exampleInfo.get(id);
  }

  embedding(id: number): Float32Array | undefined {
    const row = this.stmts.example.get(id);
    return row ? fromBlob(row.embedding) : undefined;
  }

  /** Deletes a class and its examples; false when there was no such class. */
  deleteClass(className: string): boolean {
    const row = this.stmts.classId.get(className);
    if (!row) return false;
    const ids = this.db.transaction(() => {
      const ids = this.stmts.exampleIdsOfClass.all(row.id).map((r) => r.id);
      this.stmts.deleteExamplesOfClass.run(row.id);
      this.stmts.deleteClass.run(row.id);
      return ids;
    })();
    for (const id of ids) this.index.remove(id);
    this.markDirty();
    return true;
  }

  /** Deletes one example (its class stays, possibly empty); false when there was no such example. */
  deleteExample(id: number): boolean {
    const changes = this.stmts.deleteExample.run(id).changes;
    if (changes === 0) return false;
    this.index.remove(id);
    this.markDirty();
    return true;
  }

  /** The k nearest examples to `query` by the gallery metric (approximate when the index is HNSW). */
  nearest(query: Float32Array, k: number): GalleryNeighbour[] {
    this.checkEmbedding(query, 'query');
    const out: GalleryNeighbour[] = [];
    for (const n of this.index.search(query, k)) {
      const row = this.stmts.example.get(n.id);
      if (row) out.push({ ...n, className: row.className, embedding: fromBlob(row.embedding) });
    }
    return out;
  }

  /** Every embedding with its id, for exact scans (benchmarks, in-page search of small galleries). */
  *scan(): Generator<{ id: number; embedding: Float32Array }> {
    for (const row of this.stmts.allEmbeddings.iterate()) yield { id: row.id, embedding: fromBlob(row.embedding) };
  }

  /** All examples with their class names and embeddings (for small galleries only). */
  snapshot(limit: number): { id: number; className: string; embedding: Float32Array }[] {
    if (this.size > limit) throw new Error(`gallery has ${this.size} examples, more than the ${limit} a snapshot may hold`);
    const rows = this.db
      .prepare<[], { id: number; className: string; embedding: Buffer }>(
        'SELECT e.id AS id, c.name AS className, e.embedding AS embedding FROM examples e JOIN classes c ON c.id = e.class_id ORDER BY e.id',
      )
      .all();
    return rows.map((r) => ({ id: r.id, className: r.className, embedding: fromBlob(r.embedding) }));
  }

  exportJson(): GalleryExport {
    const classes = new Map<string, GalleryExport['classes'][number]>();
    for (const r of this.stmts.emptyClasses.all()) classes.set(r.name, { name: r.name, examples: [] });
    for (const r of this.stmts.exportRows.iterate()) {
      let c = classes.get(r.name);
      if (!c) classes.set(r.name, (c = { name: r.name, examples: [] }));
      c.examples.push({ sha256: r.sha256, source: r.source, createdAt: r.createdAt, embedding: Array.from(fromBlob(r.embedding)) });
    }
    return {
      format: 'fewshot-gallery/1',
      model: { id: this.modelId, embeddingDim: this.dim, metric: this.metric },
      exportedAt: new Date().toISOString(),
      classes: [...classes.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
    };
  }

  /**
   * Imports an export (validated completely before anything is written, then one transaction).
   * `replace` empties the gallery first. Returns how many classes and examples were added.
   */
  importJson(data: unknown, opts: { replace?: boolean; validateName?: (name: string) => void } = {}): { classes: number; examples: number } {
    const d = data as Partial<GalleryExport> | null;
    if (!d || typeof d !== 'object' || d.format !== 'fewshot-gallery/1') throw new Error("not a gallery export: expected format 'fewshot-gallery/1'");
    if (!d.model || d.model.embeddingDim !== this.dim) throw new Error(`export holds ${d.model?.embeddingDim}-value embeddings, this gallery ${this.dim}`);
    if (d.model.id !== this.modelId) throw new Error(`export was made with model ${d.model.id}, this gallery belongs to ${this.modelId}`);
    if (!Array.isArray(d.classes)) throw new Error('export has no classes array');
    const parsed = d.classes.map((c, ci) => {
      if (!c || typeof c.name !== 'string') throw new Error(`class ${ci} has no name`);
      opts.validateName?.(c.name);
      if (!Array.isArray(c.examples)) throw new Error(`class '${c.name}' has no examples array`);
      return {
        name: c.name,
        examples: c.examples.map((e, ei) => {
          const what = `class '${c.name}' example ${ei}`;
          if (!e || !Array.isArray(e.embedding)) throw new Error(`${what} has no embedding`);
          if (typeof e.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(e.sha256)) throw new Error(`${what} has no valid sha256`);
          const v = Float32Array.from(e.embedding);
          this.checkEmbedding(v, what);
          return { embedding: v, sha256: e.sha256, source: typeof e.source === 'string' ? e.source : 'import', createdAt: typeof e.createdAt === 'string' ? e.createdAt : new Date().toISOString() };
        }),
      };
    });
    const now = new Date().toISOString();
    const added: { id: number; v: Float32Array }[] = [];
    let removed: number[] = [];
    this.db.transaction(() => {
      if (opts.replace) {
        removed = this.stmts.allIds.all().map((r) => r.id);
        this.db.exec('DELETE FROM examples; DELETE FROM classes;');
      }
      for (const c of parsed) {
        this.stmts.insertClass.run(c.name, now);
        const classId = this.stmts.classId.get(c.name)!.id;
        for (const e of c.examples) {
          const id = Number(this.stmts.insertExample.run(classId, toBlob(e.embedding), e.sha256, e.source, e.createdAt).lastInsertRowid);
          added.push({ id, v: e.embedding });
        }
      }
    })();
    for (const id of removed) this.index.remove(id);
    for (const a of added) this.index.add(a.id, a.v);
    this.afterGrowth();
    this.markDirty();
    return { classes: parsed.length, examples: added.length };
  }

  /** SQLite's own consistency check: 'ok' when the database file is sound. */
  integrityCheck(): string {
    const rows = this.db.pragma('integrity_check') as { integrity_check: string }[];
    return rows.map((r) => r.integrity_check).join('; ');
  }

  close(): void {
    if (this.closed) return;
    if (this.dirty) this.flush();
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.closed = true;
    this.db.close();
  }
}

/** Folder of the gallery for a model under the service home. */
export function galleryDir(home: string, modelId: string): string {
  if (!/^[A-Za-z0-9_.-]+$/.test(modelId)) throw new Error(`model id '${modelId}' cannot name a folder`);
  return join(home, 'galleries', modelId);
}
