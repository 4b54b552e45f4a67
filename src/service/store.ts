/**
 * Where a gallery's classes and examples live: the source of truth behind the in-memory search
 * index. Two implementations share this interface: `SqliteStore` (one file per model, the embedded
 * default) and `PostgresStore` (one database shared by several stateless replicas). The gallery
 * logic (catalogue, index, validation, export format) is written once, in gallery.ts, on top of it.
 */
import type { Metric } from './vector_index.js';

/** What makes a store belong to one model: embeddings of other models are not comparable. */
export interface StoreIdentity {
  modelId: string;
  dim: number;
  metric: Metric;
  /** Model ids this gallery may have been recorded under before (adopted on open). */
  legacyModelIds?: string[];
}

export interface StoredExampleInput {
  embedding: Float32Array;
  sha256: string;
  source: string;
  /** ISO time; now when omitted. */
  createdAt?: string;
}

export interface ExampleInfo {
  id: number;
  class: string;
  sha256: string;
  source: string;
  createdAt: string;
}

export interface ExampleRow {
  id: number;
  className: string;
  embedding: Float32Array;
}

export interface ExportRow {
  id: number;
  sha256: string;
  source: string;
  createdAt: string;
  embedding: Float32Array;
}

/** One committed change, in commit order (for replicas that follow a shared store). */
export type StoreChange =
  | { seq: number; kind: 'add'; id: number; className: string; embedding: Float32Array }
  | { seq: number; kind: 'remove'; id: number }
  | { seq: number; kind: 'class-added' | 'class-removed'; className: string };

/**
 * Classes to insert: created if new. `decision`, when given, is stored as the class's decision
 * (how a questioned example is verified against it, 'distance' or 'wd': class_verification.ts);
 * omitted: an existing class keeps its own.
 */
export interface ClassInsert {
  name: string;
  examples: StoredExampleInput[];
  decision?: string;
}

export interface InsertResult {
  /** New example ids, in input order (classes in order, examples in order within each). */
  ids: number[];
  /** Ids deleted first (`replace`). */
  removed: number[];
}

export interface GalleryStore {
  readonly kind: 'sqlite' | 'postgres';
  /** For messages: the file or the database (without password). */
  readonly location: string;
  /** True when other processes may write too (the gallery then follows `changesSince`). */
  readonly shared: boolean;
  /**
   * Inserts classes (created if new, even with no examples) and their examples in one transaction;
   * `replace` empties the gallery first, in the same transaction.
   */
  insert(classes: ClassInsert[], opts?: { replace?: boolean }): Promise<InsertResult>;
  /**
   * The decision stored with a class (`ClassInsert.decision`): null when it has none, undefined
   * when there is no such class. Read from the store on every call, so replicas agree at once.
   */
  classDecision(name: string): Promise<string | null | undefined>;
  /** Deletes a class and its examples; null when there was no such class. */
  deleteClass(name: string): Promise<{ ids: number[] } | null>;
  /** Deletes one example; null when there was no such example. */
  deleteExample(id: number): Promise<{ className: string } | null>;
  examplesOf(name: string): Promise<ExampleInfo[] | null>;
  example(id: number): Promise<ExampleInfo | null>;
  /** Examples with id > afterId, by id, at most `limit` (keyset pages: no long-lived cursor). */
  examplesAfter(afterId: number, limit: number): Promise<ExampleRow[]>;
  /** Class names after `afterName` in name order (code-point order), at most `limit`. */
  classNamesAfter(afterName: string | null, limit: number): Promise<string[]>;
  /** Examples of one class with id > afterId, by id. */
  exportPage(className: string, afterId: number, limit: number): Promise<ExportRow[]>;
  /** Every class name, with or without examples. */
  allClassNames(): Promise<string[]>;
  /** The latest change sequence number (0 for stores that are not shared). */
  changeSeq(): Promise<number>;
  /** Changes committed after `seq`, in order, at most `limit`. */
  changesSince(seq: number, limit: number): Promise<StoreChange[]>;
  /** Calls `onChange` soon after another process commits a change (best effort; the gallery also polls). */
  subscribe(onChange: () => void): Promise<void>;
  /** The store's own consistency check: 'ok' when sound. */
  integrityCheck(): Promise<string>;
  close(): Promise<void>;
}

/** The error a store throws when it was made for another model or embedding size. */
export class StoreMismatchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StoreMismatchError';
  }
}

/** Compares what a store recorded with what the model needs; returns the id to adopt, or throws. */
export function checkIdentity(where: string, recorded: Map<string, string>, want: StoreIdentity): 'same' | 'adopt' {
  const id = recorded.get('model_id');
  let verdict: 'same' | 'adopt' = 'same';
  if (id !== want.modelId) {
    if (id !== undefined && want.legacyModelIds?.includes(id)) verdict = 'adopt';
    else throw new StoreMismatchError(`gallery ${where} belongs to model ${id}, not ${want.modelId}`);
  }
  if (recorded.get('dim') !== String(want.dim)) throw new StoreMismatchError(`gallery ${where} holds ${recorded.get('dim')}-value embeddings, the model makes ${want.dim}`);
  if (recorded.get('metric') !== want.metric) throw new StoreMismatchError(`gallery ${where} was indexed with metric ${recorded.get('metric')}, not ${want.metric}`);
  return verdict;
}

export function toBlob(v: Float32Array): Buffer {
  return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
}

export function fromBlob(b: Uint8Array): Float32Array {
  // Copy: the Buffer may be a view into a pool and not 4-byte aligned.
  const out = new Float32Array(b.byteLength / 4);
  new Uint8Array(out.buffer).set(b);
  return out;
}
