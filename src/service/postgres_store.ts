/**
 * The gallery in PostgreSQL, for several stateless replicas sharing one database (`fewshot serve
 * --store postgres://...`). One database holds one model's gallery (the meta table refuses
 * another model). Every write transaction also appends to a change log (`fewshot_changes`) and
 * sends NOTIFY; replicas LISTEN and also poll, and apply the log in sequence order. Writers take a
 * transaction-level advisory lock, so sequence order is commit order and no replica can skip a
 * change that commits late.
 */
import pg from 'pg';
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
CREATE TABLE IF NOT EXISTS fewshot_meta (key text PRIMARY KEY, value text NOT NULL);
CREATE TABLE IF NOT EXISTS fewshot_classes (
  id bigserial PRIMARY KEY,
  name text COLLATE "C" NOT NULL UNIQUE,
  created_at text NOT NULL
);
CREATE TABLE IF NOT EXISTS fewshot_examples (
  id bigserial PRIMARY KEY,
  class_id bigint NOT NULL REFERENCES fewshot_classes(id) ON DELETE CASCADE,
  embedding bytea NOT NULL,
  sha256 text NOT NULL,
  source text NOT NULL,
  created_at text NOT NULL
);
CREATE INDEX IF NOT EXISTS fewshot_examples_by_class ON fewshot_examples(class_id, id);
CREATE TABLE IF NOT EXISTS fewshot_class_decisions (
  class_id bigint PRIMARY KEY REFERENCES fewshot_classes(id) ON DELETE CASCADE,
  decision text NOT NULL
);
CREATE TABLE IF NOT EXISTS fewshot_changes (
  seq bigserial PRIMARY KEY,
  kind text NOT NULL,
  example_id bigint,
  class_name text
);
`;

/** Advisory lock keys: schema set-up, and the one writer at a time. */
const INIT_LOCK = 0x66657773; // 'fews'
const WRITE_LOCK = 0x686f7421;
const CHANNEL = 'fewshot_changes';

const INFO = 'SELECT e.id::float8 AS id, c.name AS class, e.sha256, e.source, e.created_at AS "createdAt" FROM fewshot_examples e JOIN fewshot_classes c ON c.id = e.class_id';

function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'postgres://(unparseable URL)';
  }
}

export class PostgresStore implements GalleryStore {
  readonly kind = 'postgres' as const;
  readonly shared = true;
  readonly location: string;
  private listener: pg.Client | null = null;
  private closed = false;

  private constructor(private readonly url: string, private readonly pool: pg.Pool, private readonly dim: number) {
    this.location = redact(url);
  }

  static async open(url: string, identity: StoreIdentity): Promise<PostgresStore> {
    const pool = new pg.Pool({ connectionString: url, max: 4 });
    // An idle client that loses its server must not crash the process: the next query fails instead.
    pool.on('error', () => {});
    const store = new PostgresStore(url, pool, identity.dim);
    try {
      await store.transaction(async (c) => {
        await c.query('SELECT pg_advisory_xact_lock($1)', [INIT_LOCK]);
        await c.query(SCHEMA);
        const rows = (await c.query<{ key: string; value: string }>('SELECT key, value FROM fewshot_meta')).rows;
        const meta = new Map(rows.map((r) => [r.key, r.value]));
        const put = 'INSERT INTO fewshot_meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value';
        if (meta.size === 0) {
          for (const [k, v] of [['format', 'fewshot-gallery/1'], ['model_id', identity.modelId], ['dim', String(identity.dim)], ['metric', identity.metric]]) await c.query(put, [k, v]);
        } else if (checkIdentity(store.location, meta, identity) === 'adopt') {
          await c.query(put, ['model_id', identity.modelId]);
        }
      });
    } catch (e) {
      await pool.end();
      throw e;
    }
    return store;
  }

  private async transaction<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    const c = await this.pool.connect();
    try {
      await c.query('BEGIN');
      const out = await fn(c);
      await c.query('COMMIT');
      return out;
    } catch (e) {
      await c.query('ROLLBACK').catch(() => {});
      throw e;
    } finally {
      c.release();
    }
  }

  /** A write: serialized with every other writer, logged, announced on commit. */
  private write<T>(fn: (c: pg.PoolClient, log: (kind: StoreChange['kind'], ids: number[] | null, className: string | null) => Promise<void>) => Promise<T>): Promise<T> {
    return this.transaction(async (c) => {
      await c.query('SELECT pg_advisory_xact_lock($1)', [WRITE_LOCK]);
      let logged = false;
      const log = async (kind: StoreChange['kind'], ids: number[] | null, className: string | null) => {
        logged = true;
        if (ids) await c.query('INSERT INTO fewshot_changes (kind, example_id, class_name) SELECT $1, unnest($2::bigint[]), $3', [kind, ids, className]);
        else await c.query('INSERT INTO fewshot_changes (kind, class_name) VALUES ($1, $2)', [kind, className]);
      };
      const out = await fn(c, log);
      if (logged) await c.query(`NOTIFY ${CHANNEL}`);
      return out;
    });
  }

  async insert(classes: ClassInsert[], opts: { replace?: boolean } = {}): Promise<InsertResult> {
    const now = new Date().toISOString();
    return this.write(async (c, log) => {
      let removed: number[] = [];
      if (opts.replace) {
        removed = (await c.query<{ id: number }>('SELECT id::float8 AS id FROM fewshot_examples ORDER BY id')).rows.map((r) => r.id);
        const names = (await c.query<{ name: string }>('SELECT name FROM fewshot_classes')).rows.map((r) => r.name);
        await c.query('DELETE FROM fewshot_examples');
        await c.query('DELETE FROM fewshot_classes');
        if (removed.length) await log('remove', removed, null);
        for (const n of names) await log('class-removed', null, n);
      }
      const ids: number[] = [];
      for (const cls of classes) {
        const created = await c.query<{ id: string }>('INSERT INTO fewshot_classes (name, created_at) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING RETURNING id', [cls.name, now]);
        const classId = created.rows[0]?.id ?? (await c.query<{ id: string }>('SELECT id FROM fewshot_classes WHERE name = $1', [cls.name])).rows[0]!.id;
        if (created.rows.length) await log('class-added', null, cls.name);
        if (cls.decision !== undefined) {
          await c.query('INSERT INTO fewshot_class_decisions (class_id, decision) VALUES ($1, $2) ON CONFLICT (class_id) DO UPDATE SET decision = EXCLUDED.decision', [classId, cls.decision]);
        }
        if (cls.examples.length === 0) continue;
        // One statement per class; nextval runs in row order and no other writer holds the lock,
        // so the ascending ids are the input order.
        const r = await c.query<{ id: number }>(
          'INSERT INTO fewshot_examples (class_id, embedding, sha256, source, created_at) SELECT $1, * FROM unnest($2::bytea[], $3::text[], $4::text[], $5::text[]) RETURNING id::float8 AS id',
          [classId, cls.examples.map((e) => toBlob(e.embedding)), cls.examples.map((e) => e.sha256), cls.examples.map((e) => e.source), cls.examples.map((e) => e.createdAt ?? now)],
        );
        const got = r.rows.map((row) => row.id).sort((a, b) => a - b);
        ids.push(...got);
        await log('add', got, cls.name);
      }
      return { ids, removed };
    });
  }

  async deleteClass(name: string): Promise<{ ids: number[] } | null> {
    return this.write(async (c, log) => {
      const cls = (await c.query<{ id: string }>('SELECT id FROM fewshot_classes WHERE name = $1', [name])).rows[0];
      if (!cls) return null;
      const ids = (await c.query<{ id: number }>('DELETE FROM fewshot_examples WHERE class_id = $1 RETURNING id::float8 AS id', [cls.id])).rows.map((r) => r.id);
      await c.query('DELETE FROM fewshot_classes WHERE id = $1', [cls.id]);
      if (ids.length) await log('remove', ids, null);
      await log('class-removed', null, name);
      return { ids };
    });
  }

  async deleteExample(id: number): Promise<{ className: string } | null> {
    return this.write(async (c, log) => {
      const r = await c.query<{ name: string }>(
        'DELETE FROM fewshot_examples e USING fewshot_classes c WHERE e.id = $1 AND c.id = e.class_id RETURNING c.name AS name',
        [id],
      );
      if (!r.rows[0]) return null;
      await log('remove', [id], null);
      return { className: r.rows[0].name };
    });
  }

  async classDecision(name: string): Promise<string | null | undefined> {
    const r = await this.pool.query<{ decision: string | null }>(
      'SELECT d.decision FROM fewshot_classes c LEFT JOIN fewshot_class_decisions d ON d.class_id = c.id WHERE c.name = $1',
      [name],
    );
    return r.rows[0] ? r.rows[0].decision : undefined;
  }

  async examplesOf(name: string): Promise<ExampleInfo[] | null> {
    const exists = await this.pool.query('SELECT 1 FROM fewshot_classes WHERE name = $1', [name]);
    if (exists.rowCount === 0) return null;
    return (await this.pool.query<ExampleInfo>(`${INFO} WHERE c.name = $1 ORDER BY e.id`, [name])).rows;
  }

  async example(id: number): Promise<ExampleInfo | null> {
    return (await this.pool.query<ExampleInfo>(`${INFO} WHERE e.id = $1`, [id])).rows[0] ?? null;
  }

  async examplesAfter(afterId: number, limit: number): Promise<ExampleRow[]> {
    const r = await this.pool.query<{ id: number; className: string; embedding: Buffer }>(
      'SELECT e.id::float8 AS id, c.name AS "className", e.embedding FROM fewshot_examples e JOIN fewshot_classes c ON c.id = e.class_id WHERE e.id > $1 ORDER BY e.id LIMIT $2',
      [afterId, limit],
    );
    return r.rows.map((row) => ({ id: row.id, className: row.className, embedding: fromBlob(row.embedding) }));
  }

  async classNamesAfter(afterName: string | null, limit: number): Promise<string[]> {
    const r = await this.pool.query<{ name: string }>('SELECT name FROM fewshot_classes WHERE name > $1 ORDER BY name LIMIT $2', [afterName ?? '', limit]);
    return r.rows.map((row) => row.name);
  }

  async exportPage(className: string, afterId: number, limit: number): Promise<ExportRow[]> {
    const r = await this.pool.query<{ id: number; sha256: string; source: string; createdAt: string; embedding: Buffer }>(
      'SELECT e.id::float8 AS id, e.sha256, e.source, e.created_at AS "createdAt", e.embedding FROM fewshot_examples e WHERE e.class_id = (SELECT id FROM fewshot_classes WHERE name = $1) AND e.id > $2 ORDER BY e.id LIMIT $3',
      [className, afterId, limit],
    );
    return r.rows.map((row) => ({ ...row, embedding: fromBlob(row.embedding) }));
  }

  async allClassNames(): Promise<string[]> {
    return (await this.pool.query<{ name: string }>('SELECT name FROM fewshot_classes')).rows.map((r) => r.name);
  }

  async changeSeq(): Promise<number> {
    // Under the writers' lock: no write is half-way, so everything up to this seq is committed.
    return this.transaction(async (c) => {
      await c.query('SELECT pg_advisory_xact_lock($1)', [WRITE_LOCK]);
      return Number((await c.query<{ seq: string | null }>('SELECT max(seq) AS seq FROM fewshot_changes')).rows[0]!.seq ?? 0);
    });
  }

  async changesSince(seq: number, limit: number): Promise<StoreChange[]> {
    const r = await this.pool.query<{ seq: number; kind: StoreChange['kind']; example_id: number | null; class_name: string | null; embedding: Buffer | null; current_class: string | null }>(
      `SELECT ch.seq::float8 AS seq, ch.kind, ch.example_id::float8 AS example_id, ch.class_name, e.embedding, c.name AS current_class
         FROM fewshot_changes ch
         LEFT JOIN fewshot_examples e ON ch.kind = 'add' AND e.id = ch.example_id
         LEFT JOIN fewshot_classes c ON c.id = e.class_id
        WHERE ch.seq > $1 ORDER BY ch.seq LIMIT $2`,
      [seq, limit],
    );
    return r.rows.map((row): StoreChange => {
      if (row.kind === 'add') {
        // Deleted since: a later 'remove' follows; applying the remove now is the same no-op.
        if (!row.embedding || row.current_class === null) return { seq: row.seq, kind: 'remove', id: row.example_id! };
        return { seq: row.seq, kind: 'add', id: row.example_id!, className: row.current_class, embedding: fromBlob(row.embedding) };
      }
      if (row.kind === 'remove') return { seq: row.seq, kind: 'remove', id: row.example_id! };
      return { seq: row.seq, kind: row.kind, className: row.class_name! };
    });
  }

  async subscribe(onChange: () => void): Promise<void> {
    const connect = async () => {
      if (this.closed) return;
      const client = new pg.Client({ connectionString: this.url });
      client.on('notification', () => onChange());
      client.on('error', () => {
        // Lost the listening connection: polling keeps replicas current; reconnect in a moment.
        if (this.listener === client) this.listener = null;
        client.end().catch(() => {});
        if (!this.closed) setTimeout(() => void connect().catch(() => {}), 1_000).unref();
      });
      await client.connect();
      await client.query(`LISTEN ${CHANNEL}`);
      this.listener = client;
      onChange(); // anything committed while not listening
    };
    await connect();
  }

  async integrityCheck(): Promise<string> {
    const problems: string[] = [];
    const orphans = Number((await this.pool.query<{ n: string }>('SELECT count(*) AS n FROM fewshot_examples e LEFT JOIN fewshot_classes c ON c.id = e.class_id WHERE c.id IS NULL')).rows[0]!.n);
    if (orphans) problems.push(`${orphans} examples without a class`);
    const bad = Number((await this.pool.query<{ n: string }>('SELECT count(*) AS n FROM fewshot_examples WHERE octet_length(embedding) <> $1', [this.dim * 4])).rows[0]!.n);
    if (bad) problems.push(`${bad} embeddings of the wrong size`);
    return problems.length ? problems.join('; ') : 'ok';
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.listener?.end().catch(() => {});
    await this.pool.end();
  }
}
