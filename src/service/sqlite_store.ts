/**
 * The embedded gallery store: one SQLite file per model (better-sqlite3, WAL, synchronous=FULL so
 * an acknowledged enrolment survives a crash). Only one process may use it (see home_lock.ts), so
 * it never has changes of others to follow. better-sqlite3 is synchronous; every call here is one
 * short statement or transaction, and bulk reads go by keyset pages, so the event loop never waits
 * on a whole-table scan.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import {
  checkIdentity,
  fromBlob,
  toBlob,
  type ExampleInfo,
  type ExampleRow,
  type ExportRow,
  type GalleryStore,
  type ClassInsert,
  type InsertResult,
  type StoreChange,
  type StoreIdentity,
  type StoredExampleInput,
} from './store.js';

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
CREATE TABLE IF NOT EXISTS class_decisions (
  class_id INTEGER PRIMARY KEY REFERENCES classes(id) ON DELETE CASCADE,
  decision TEXT NOT NULL
);
`;

const INFO = 'SELECT e.id AS id, c.name AS class, e.sha256 AS sha256, e.source AS source, e.created_at AS createdAt FROM examples e JOIN classes c ON c.id = e.class_id';

export class SqliteStore implements GalleryStore {
  readonly kind = 'sqlite' as const;
  readonly shared = false;
  readonly location: string;
  private readonly db: Database.Database;
  private readonly stmts;

  private constructor(file: string, db: Database.Database) {
    this.location = file;
    this.db = db;
    this.stmts = {
      classId: db.prepare<[string], { id: number }>('SELECT id FROM classes WHERE name = ?'),
      insertClass: db.prepare<[string, string]>('INSERT OR IGNORE INTO classes (name, created_at) VALUES (?, ?)'),
      insertExample: db.prepare<[number, Buffer, string, string, string]>(
        'INSERT INTO examples (class_id, embedding, sha256, source, created_at) VALUES (?, ?, ?, ?, ?)',
      ),
      examplesOf: db.prepare<[string], ExampleInfo>(`${INFO} WHERE c.name = ? ORDER BY e.id`),
      exampleInfo: db.prepare<[number], ExampleInfo>(`${INFO} WHERE e.id = ?`),
      exampleIdsOfClass: db.prepare<[number], { id: number }>('SELECT id FROM examples WHERE class_id = ?'),
      deleteClass: db.prepare<[number]>('DELETE FROM classes WHERE id = ?'),
      deleteExamplesOfClass: db.prepare<[number]>('DELETE FROM examples WHERE class_id = ?'),
      deleteExample: db.prepare<[number]>('DELETE FROM examples WHERE id = ?'),
      allIds: db.prepare<[], { id: number }>('SELECT id FROM examples'),
      examplesAfter: db.prepare<[number, number], { id: number; className: string; embedding: Buffer }>(
        'SELECT e.id AS id, c.name AS className, e.embedding AS embedding FROM examples e JOIN classes c ON c.id = e.class_id WHERE e.id > ? ORDER BY e.id LIMIT ?',
      ),
      classNamesAfter: db.prepare<[string, number], { name: string }>('SELECT name FROM classes WHERE name > ? ORDER BY name LIMIT ?'),
      exportPage: db.prepare<[string, number, number], { id: number; sha256: string; source: string; createdAt: string; embedding: Buffer }>(
        'SELECT e.id AS id, e.sha256 AS sha256, e.source AS source, e.created_at AS createdAt, e.embedding AS embedding FROM examples e WHERE e.class_id = (SELECT id FROM classes WHERE name = ?) AND e.id > ? ORDER BY e.id LIMIT ?',
      ),
      allClassNames: db.prepare<[], { name: string }>('SELECT name FROM classes'),
      setDecision: db.prepare<[number, string]>('INSERT OR REPLACE INTO class_decisions (class_id, decision) VALUES (?, ?)'),
      decisionOf: db.prepare<[string], { decision: string | null }>('SELECT d.decision AS decision FROM classes c LEFT JOIN class_decisions d ON d.class_id = c.id WHERE c.name = ?'),
    };
  }

  /** Opens (or creates) `dir/gallery.db`; refuses a database made for another model or size. */
  static open(dir: string, identity: StoreIdentity): SqliteStore {
    mkdirSync(dir, { recursive: true });
    const file = join(dir, 'gallery.db');
    const db = new Database(file);
    try {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      db.pragma('foreign_keys = ON');
      db.pragma('busy_timeout = 5000');
      db.exec(SCHEMA);
      const meta = new Map(db.prepare<[], { key: string; value: string }>('SELECT key, value FROM meta').all().map((r) => [r.key, r.value]));
      const put = db.prepare('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)');
      if (meta.size === 0) {
        db.transaction(() => {
          put.run('format', 'fewshot-gallery/1');
          put.run('model_id', identity.modelId);
          put.run('dim', String(identity.dim));
          put.run('metric', identity.metric);
        })();
      } else if (checkIdentity(dir, meta, identity) === 'adopt') {
        put.run('model_id', identity.modelId);
      }
    } catch (e) {
      db.close();
      throw e;
    }
    return new SqliteStore(file, db);
  }

  async insert(classes: ClassInsert[], opts: { replace?: boolean } = {}): Promise<InsertResult> {
    const now = new Date().toISOString();
    return this.db.transaction(() => {
      const removed = opts.replace ? this.stmts.allIds.all().map((r) => r.id) : [];
      if (opts.replace) this.db.exec('DELETE FROM examples; DELETE FROM classes;');
      const ids: number[] = [];
      for (const c of classes) {
        this.stmts.insertClass.run(c.name, now);
        const classId = this.stmts.classId.get(c.name)!.id;
        if (c.decision !== undefined) this.stmts.setDecision.run(classId, c.decision);
        for (const e of c.examples) {
          ids.push(Number(this.stmts.insertExample.run(classId, toBlob(e.embedding), e.sha256, e.source, e.createdAt ?? now).lastInsertRowid));
        }
      }
      return { ids, removed };
    })();
  }

  async deleteClass(name: string): Promise<{ ids: number[] } | null> {
    return this.db.transaction(() => {
      const row = this.stmts.classId.get(name);
      if (!row) return null;
      const ids = this.stmts.exampleIdsOfClass.all(row.id).map((r) => r.id);
      this.stmts.deleteExamplesOfClass.run(row.id);
      this.stmts.deleteClass.run(row.id);
      return { ids };
    })();
  }

  async deleteExample(id: number): Promise<{ className: string } | null> {
    return this.db.transaction(() => {
      const info = this.stmts.exampleInfo.get(id);
      if (!info) return null;
      this.stmts.deleteExample.run(id);
      return { className: info.class };
    })();
  }

  async classDecision(name: string): Promise<string | null | undefined> {
    const row = this.stmts.decisionOf.get(name);
    return row ? row.decision : undefined;
  }

  async examplesOf(name: string): Promise<ExampleInfo[] | null> {
    if (!this.stmts.classId.get(name)) return null;
    return this.stmts.examplesOf.all(name);
  }

  async example(id: number): Promise<ExampleInfo | null> {
    return this.stmts.exampleInfo.get(id) ?? null;
  }

  async examplesAfter(afterId: number, limit: number): Promise<ExampleRow[]> {
    return this.stmts.examplesAfter.all(afterId, limit).map((r) => ({ id: r.id, className: r.className, embedding: fromBlob(r.embedding) }));
  }

  async classNamesAfter(afterName: string | null, limit: number): Promise<string[]> {
    // '' sorts before every valid name (names are never empty).
    return this.stmts.classNamesAfter.all(afterName ?? '', limit).map((r) => r.name);
  }

  async exportPage(className: string, afterId: number, limit: number): Promise<ExportRow[]> {
    return this.stmts.exportPage.all(className, afterId, limit).map((r) => ({ ...r, embedding: fromBlob(r.embedding) }));
  }

  async allClassNames(): Promise<string[]> {
    return this.stmts.allClassNames.all().map((r) => r.name);
  }

  async changeSeq(): Promise<number> {
    return 0;
  }

  async changesSince(): Promise<StoreChange[]> {
    return [];
  }

  async subscribe(): Promise<void> {}

  async integrityCheck(): Promise<string> {
    const rows = this.db.pragma('integrity_check') as { integrity_check: string }[];
    return rows.map((r) => r.integrity_check).join('; ');
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}
