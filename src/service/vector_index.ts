/**
 * Nearest-neighbour search over gallery embeddings.
 *
 * Two implementations behind one interface: `ExactIndex` (brute force, exact, in memory) for small
 * galleries, and `HnswIndex` (hnswlib's HNSW graph, approximate, persisted to a file) for large ones.
 * Distances follow hnswlib's conventions so that both rank identically: 'l2' is the squared
 * Euclidean distance, 'cosine' is 1 - cosine similarity. Labels are gallery example ids.
 */
import { closeSync, existsSync, openSync, readSync, rmSync } from 'node:fs';
import { open, rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import hnswlib from 'hnswlib-node';

type HierarchicalNSW = InstanceType<typeof hnswlib.HierarchicalNSW>;

export type Metric = 'l2' | 'cosine';

export interface Neighbour {
  id: number;
  distance: number;
}

export interface VectorIndex {
  readonly kind: 'exact' | 'hnsw';
  /** Number of live (not deleted) vectors. */
  readonly size: number;
  add(id: number, vector: Float32Array): void;
  /** Returns false when `id` was not in the index. */
  remove(id: number): boolean;
  /** Up to `k` nearest live vectors, nearest first. */
  search(query: Float32Array, k: number): Neighbour[];
  /** The stored vector of a live id (a copy). */
  vector(id: number): Float32Array | undefined;
}

/** Distance between two vectors under `metric` (same values hnswlib returns). */
export function metricDistance(metric: Metric, a: Float32Array, b: Float32Array, offset = 0): number {
  const d = a.length;
  if (metric === 'l2') {
    let s = 0;
    for (let i = 0; i < d; i++) {
      const t = a[i]! - b[offset + i]!;
      s += t * t;
    }
    return s;
  }
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < d; i++) {
    const x = a[i]!;
    const y = b[offset + i]!;
    dot += x * y;
    na += x * x;
    nb += y * y;
  }
  const denom = Math.sqrt(na) * Math.sqrt(nb);
  return denom > 0 ? 1 - dot / denom : 1;
}

/** Keeps the k smallest distances seen so far (k is small, so a sorted array beats a heap). */
export class TopK {
  readonly ids: number[] = [];
  readonly distances: number[] = [];
  constructor(private readonly k: number) {}
  get worst(): number {
    return this.ids.length < this.k ? Infinity : this.distances[this.distances.length - 1]!;
  }
  push(id: number, distance: number): void {
    if (this.k <= 0 || !(distance < this.worst)) return;
    let i = this.distances.length;
    while (i > 0 && this.distances[i - 1]! > distance) i--;
    this.ids.splice(i, 0, id);
    this.distances.splice(i, 0, distance);
    if (this.ids.length > this.k) {
      this.ids.pop();
      this.distances.pop();
    }
  }
  result(): Neighbour[] {
    return this.ids.map((id, i) => ({ id, distance: this.distances[i]! }));
  }
}

/** Brute-force index over a growable row-major matrix; removal swaps the last row into the hole. */
export class ExactIndex implements VectorIndex {
  readonly kind = 'exact' as const;
  private data: Float32Array;
  private ids: number[] = [];
  private rowOf = new Map<number, number>();

  constructor(readonly dim: number, readonly metric: Metric, capacity = 1024) {
    this.data = new Float32Array(Math.max(1, capacity) * dim);
  }

  get size(): number {
    return this.ids.length;
  }

  add(id: number, vector: Float32Array): void {
    if (vector.length !== this.dim) throw new Error(`embedding has ${vector.length} values, the index expects ${this.dim}`);
    if (this.rowOf.has(id)) throw new Error(`example ${id} is already in the index`);
    const row = this.ids.length;
    if ((row + 1) * this.dim > this.data.length) {
      const grown = new Float32Array(this.data.length * 2);
      grown.set(this.data);
      this.data = grown;
    }
    this.data.set(vector, row * this.dim);
    this.ids.push(id);
    this.rowOf.set(id, row);
  }

  remove(id: number): boolean {
    const row = this.rowOf.get(id);
    if (row === undefined) return false;
    const last = this.ids.length - 1;
    if (row !== last) {
      const lastId = this.ids[last]!;
      this.data.copyWithin(row * this.dim, last * this.dim, (last + 1) * this.dim);
      this.ids[row] = lastId;
      this.rowOf.set(lastId, row);
    }
    this.ids.pop();
    this.rowOf.delete(id);
    return true;
  }

  has(id: number): boolean {
    return this.rowOf.has(id);
  }

  vector(id: number): Float32Array | undefined {
    const row = this.rowOf.get(id);
    return row === undefined ? undefined : this.data.slice(row * this.dim, (row + 1) * this.dim);
  }

  /** Ids and a copy of their rows (row i of `data` belongs to ids[i]); the last `limit` rows when given. */
  export(limit = this.ids.length): { ids: number[]; data: Float32Array } {
    const from = Math.max(0, this.ids.length - limit);
    return { ids: this.ids.slice(from), data: this.data.slice(from * this.dim, this.ids.length * this.dim) };
  }

  search(query: Float32Array, k: number): Neighbour[] {
    if (query.length !== this.dim) throw new Error(`query has ${query.length} values, the index expects ${this.dim}`);
    const top = new TopK(Math.min(k, this.ids.length));
    for (let r = 0; r < this.ids.length; r++) {
      top.push(this.ids[r]!, metricDistance(this.metric, query, this.data, r * this.dim));
    }
    return top.result();
  }
}

export interface HnswOptions {
  /** Graph degree (hnswlib's M). */
  m?: number;
  efConstruction?: number;
  /** Search breadth; raised to k when a search asks for more. */
  efSearch?: number;
  seed?: number;
}

/** hnswlib HNSW graph; deletions are marks (slots are reused by later additions). */
export class HnswIndex implements VectorIndex {
  readonly kind = 'hnsw' as const;
  private readonly index: HierarchicalNSW;
  private live = 0;
  private readonly efSearch: number;

  private constructor(readonly dim: number, readonly metric: Metric, index: HierarchicalNSW, live: number, efSearch: number) {
    this.index = index;
    this.live = live;
    this.efSearch = efSearch;
    index.setEf(efSearch);
  }

  static create(dim: number, metric: Metric, capacity: number, opts: HnswOptions = {}): HnswIndex {
    const index = new hnswlib.HierarchicalNSW(metric, dim);
    index.initIndex(Math.max(16, capacity), opts.m ?? 16, opts.efConstruction ?? 100, opts.seed ?? 100, true);
    return new HnswIndex(dim, metric, index, 0, opts.efSearch ?? 64);
  }

  /**
   * Reads an index file. The caller must reconcile it with the source of truth (`labels()` and
   * `reconcileLive`), because the file does not say which labels were marked deleted.
   */
  static read(file: string, dim: number, metric: Metric, opts: HnswOptions = {}): HnswIndex {
    checkHeaderDim(file, dim);
    const index = new hnswlib.HierarchicalNSW(metric, dim);
    index.readIndexSync(file, true);
    return new HnswIndex(dim, metric, index, index.getCurrentCount(), opts.efSearch ?? 64);
  }

  /** `read` on libuv's thread pool: the event loop keeps serving while a large graph loads. */
  static async readAsync(file: string, dim: number, metric: Metric, opts: HnswOptions = {}): Promise<HnswIndex> {
    checkHeaderDim(file, dim);
    const index = new hnswlib.HierarchicalNSW(metric, dim);
    await index.readIndex(file, true);
    return new HnswIndex(dim, metric, index, index.getCurrentCount(), opts.efSearch ?? 64);
  }

  get size(): number {
    return this.live;
  }

  /** Every label stored in the graph, including ones marked deleted. */
  labels(): number[] {
    return this.index.getIdsList();
  }

  /** After `read`: sets the live count once the caller has marked stale labels deleted. */
  reconcileLive(live: number): void {
    this.live = live;
  }

  add(id: number, vector: Float32Array): void {
    if (vector.length !== this.dim) throw new Error(`embedding has ${vector.length} values, the index expects ${this.dim}`);
    // Reused (replaced) deleted slots do not grow the count, so only grow when truly full.
    if (this.index.getCurrentCount() >= this.index.getMaxElements()) this.index.resizeIndex(this.index.getMaxElements() * 2);
    this.index.addPoint(Array.from(vector), id, true);
    this.live++;
  }

  remove(id: number): boolean {
    try {
      this.index.markDelete(id);
    } catch {
      return false; // unknown or already deleted label
    }
    this.live--;
    return true;
  }

  vector(id: number): Float32Array | undefined {
    try {
      return Float32Array.from(this.index.getPoint(id));
    } catch {
      return undefined;
    }
  }

  search(query: Float32Array, k: number): Neighbour[] {
    if (query.length !== this.dim) throw new Error(`query has ${query.length} values, the index expects ${this.dim}`);
    const n = Math.min(k, this.live);
    if (n <= 0) return [];
    this.index.setEf(Math.max(this.efSearch, n));
    const r = this.index.searchKnn(Array.from(query), n);
    return r.neighbors.map((id, i) => ({ id, distance: r.distances[i]! }));
  }

  /**
   * Writes the graph durably on libuv's thread pool: temporary file, fsync, rename, fsync of the
   * folder, so a crash leaves either the old file or the new one. The caller must not change the
   * graph until this resolves (searches are fine: both only read).
   */
  async write(file: string): Promise<void> {
    const tmp = `${file}.tmp`;
    await this.index.writeIndex(tmp);
    await durableRename(tmp, file);
  }

  static remove(file: string): void {
    if (existsSync(file)) rmSync(file);
  }
}

/** hnswlib trusts the dimension it is given, so check the file's own: its header stores the byte
 * offsets of the vector and of the label inside each element (size_t fields 5 and 6). */
function checkHeaderDim(file: string, dim: number): void {
  const header = Buffer.alloc(48);
  const fd = openSync(file, 'r');
  try {
    if (readSync(fd, header, 0, 48, 0) !== 48) throw new Error(`index file ${file} is truncated`);
  } finally {
    closeSync(fd);
  }
  const fileDim = Number(header.readBigUInt64LE(32) - header.readBigUInt64LE(40)) / 4;
  if (fileDim !== dim) throw new Error(`index file ${file} holds ${fileDim}-value vectors, expected ${dim}`);
}

/** fsync `tmp`, rename it over `file`, fsync the folder (so the rename itself survives a crash). */
export async function durableRename(tmp: string, file: string): Promise<void> {
  const fh = await open(tmp, 'r+');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, file);
  const dir = await open(dirname(file), 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}
