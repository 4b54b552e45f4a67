import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '../../src/util/random.js';
import { Gallery, type NewExample } from '../../src/service/gallery.js';
import { ExactIndex, HnswIndex } from '../../src/service/vector_index.js';

const DIM = 16;

function vector(rng: Rng, center?: Float32Array, noise = 1): Float32Array {
  const v = new Float32Array(DIM);
  for (let i = 0; i < DIM; i++) v[i] = (center ? center[i]! : 0) + noise * rng.normal();
  return v;
}

function example(v: Float32Array, i: number): NewExample {
  return { embedding: v, sha256: i.toString(16).padStart(64, '0'), source: 'test' };
}

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'fewshot-gallery-'));
}

test('gallery persists classes and examples across reopen, and deletes cleanly', async () => {
  const dir = tempDir();
  try {
    const rng = new Rng(1);
    let g = await Gallery.openFolder({ dir, modelId: 'm1', dim: DIM, metric: 'l2' });
    const a = await g.enrol('alpha', [example(vector(rng), 1), example(vector(rng), 2)]);
    const b = await g.enrol('beta', [example(vector(rng), 3)]);
    assert.equal(a.length, 2);
    assert.deepEqual(g.classes(), [
      { name: 'alpha', examples: 2 },
      { name: 'beta', examples: 1 },
    ]);
    await g.close();

    g = await Gallery.openFolder({ dir, modelId: 'm1', dim: DIM, metric: 'l2' });
    assert.equal(g.size, 3);
    assert.equal(g.searchKind, 'exact');
    const q = g.embedding(b[0]!)!;
    assert.equal(g.nearest(q, 1)[0]!.className, 'beta');
    assert.deepEqual(await g.deleteExample(a[0]!), { className: 'alpha' });
    assert.equal(await g.deleteExample(a[0]!), null);
    assert.equal(await g.deleteClass('beta'), 1);
    assert.equal(await g.deleteClass('beta'), null);
    assert.deepEqual(g.classes(), [{ name: 'alpha', examples: 1 }]);
    assert.equal(g.nearest(q, 5).length, 1);
    assert.equal(await g.integrityCheck(), 'ok');
    await g.close();

    await assert.rejects(Gallery.openFolder({ dir, modelId: 'other', dim: DIM, metric: 'l2' }), /belongs to model m1/);
    await assert.rejects(Gallery.openFolder({ dir, modelId: 'm1', dim: DIM + 1, metric: 'l2' }), /embeddings/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('enrolment is all-or-nothing: one bad embedding stores nothing', async () => {
  const dir = tempDir();
  try {
    const g = await Gallery.openFolder({ dir, modelId: 'm', dim: DIM, metric: 'l2' });
    const bad = new Float32Array(DIM);
    bad[3] = NaN;
    await assert.rejects(() => g.enrol('c', [example(vector(new Rng(2)), 1), example(bad, 2)]), /not finite/);
    await assert.rejects(() => g.enrol('c', [example(new Float32Array(DIM - 1), 1)]), /must have 16 values/);
    assert.equal(g.size, 0);
    assert.deepEqual(g.classes(), []);
    await g.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('HNSW agrees with exact search on a small clustered gallery, and is chosen by size', async () => {
  const dir = tempDir();
  try {
    const rng = new Rng(3);
    const centers = Array.from({ length: 100 }, () => vector(rng, undefined, 1));
    const g = await Gallery.openFolder({ dir, modelId: 'm', dim: DIM, metric: 'l2', annThreshold: 500 });
    const exact = new ExactIndex(DIM, 'l2');
    for (let c = 0; c < centers.length; c++) {
      const items = Array.from({ length: 6 }, (_, i) => example(vector(rng, centers[c], 0.3), c * 10 + i));
      const ids = await g.enrol(`c${c}`, items);
      ids.forEach((id, i) => exact.add(id, items[i]!.embedding));
    }
    assert.equal(g.size, 600);
    await g.settled(); // the graph is built in a worker thread
    assert.equal(g.searchKind, 'hnsw', 'a gallery over the threshold switches to HNSW');
    let agree = 0;
    const queries = 200;
    for (let i = 0; i < queries; i++) {
      const q = vector(rng, centers[rng.int(centers.length)], 0.3);
      if (g.nearest(q, 1)[0]!.id === exact.search(q, 1)[0]!.id) agree++;
    }
    assert.ok(agree / queries >= 0.98, `recall@1 ${agree / queries} below 0.98`);
    await g.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a stale or corrupt HNSW file is repaired from the database on open', async () => {
  const dir = tempDir();
  try {
    const rng = new Rng(4);
    const opts = { dir, modelId: 'm', dim: DIM, metric: 'l2' as const, annThreshold: 50, flushDelayMs: 60_000 };
    const g = await Gallery.openFolder(opts);
    const first = await g.enrol('a', Array.from({ length: 60 }, (_, i) => example(vector(rng), i)));
    await g.flush(); // the file now holds 60 labels
    const later = await g.enrol('b', Array.from({ length: 5 }, (_, i) => example(vector(rng), 100 + i)));
    await g.deleteExample(first[0]!);
    // Without close(): the file on disk is stale, as after a crash.
    const h = await Gallery.openFolder(opts);
    assert.equal(h.searchKind, 'hnsw');
    assert.equal(h.size, 64);
    const q = h.embedding(later[2]!)!;
    assert.equal(h.nearest(q, 1)[0]!.id, later[2]);
    const all = h.nearest(q, 100).map((n) => n.id);
    assert.equal(all.length, 64);
    assert.ok(!all.includes(first[0]!), 'a deleted example is not found');
    await h.close();
    await g.close();

    writeFileSync(join(dir, 'hnsw.bin'), 'garbage');
    const k = await Gallery.openFolder(opts);
    assert.equal(k.nearest(q, 1)[0]!.id, later[2], 'exact search while the graph is rebuilt');
    await k.settled();
    assert.equal(k.searchKind, 'hnsw');
    assert.equal(k.nearest(q, 1)[0]!.id, later[2]);
    await k.close();
    assert.ok(existsSync(join(dir, 'hnsw.bin')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('export and import round-trip embeddings exactly and validate before writing', async () => {
  const dir = tempDir();
  const dir2 = tempDir();
  try {
    const rng = new Rng(5);
    const g = await Gallery.openFolder({ dir, modelId: 'm', dim: DIM, metric: 'cosine' });
    const ids = await g.enrol('x', [example(vector(rng), 1), example(vector(rng), 2)]);
    await g.enrol('y', [example(vector(rng), 3)]);
    const json = JSON.parse(JSON.stringify(await g.exportJson()));
    const h = await Gallery.openFolder({ dir: dir2, modelId: 'm', dim: DIM, metric: 'cosine' });
    assert.deepEqual(await h.importJson(json), { classes: 2, examples: 3 });
    assert.deepEqual(h.classes(), g.classes());
    const back = await h.exportJson();
    assert.deepEqual(back.classes, json.classes);
    assert.deepEqual(Array.from(h.nearest(g.embedding(ids[1]!)!, 1)[0]!.embedding), Array.from(g.embedding(ids[1]!)!));

    const broken = structuredClone(json);
    broken.classes[1].examples[0].embedding[2] = 'x';
    await assert.rejects(() => h.importJson(broken, { replace: true }), /not finite/);
    assert.equal(h.size, 3, 'a failed import changes nothing');
    await assert.rejects(() => h.importJson({ ...json, model: { ...json.model, id: 'other' } }), /model other/);
    assert.deepEqual(await h.importJson(json, { replace: true }), { classes: 2, examples: 3 });
    assert.equal(h.size, 3);
    await g.close();
    await h.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
    rmSync(dir2, { recursive: true, force: true });
  }
});

test('HnswIndex read() round-trips through a file', async () => {
  const dir = tempDir();
  try {
    const rng = new Rng(6);
    const idx = HnswIndex.create(DIM, 'l2', 16);
    const vs = Array.from({ length: 40 }, () => vector(rng));
    vs.forEach((v, i) => idx.add(i + 1, v));
    const file = join(dir, 'i.bin');
    await idx.write(file);
    const back = HnswIndex.read(file, DIM, 'l2');
    assert.equal(back.search(vs[7]!, 1)[0]!.id, 8);
    assert.throws(() => HnswIndex.read(file, DIM + 1, 'l2'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('during a background HNSW rebuild, searches see every change at once; after it, the graph holds them all', async () => {
  const dir = tempDir();
  try {
    const rng = new Rng(7);
    const g = await Gallery.openFolder({ dir, modelId: 'm', dim: DIM, metric: 'l2', annThreshold: 300 });
    const exact = new ExactIndex(DIM, 'l2');
    const enrol = async (name: string, n: number) => {
      const items = Array.from({ length: n }, (_, i) => example(vector(rng), i));
      const ids = await g.enrol(name, items);
      ids.forEach((id, i) => exact.add(id, items[i]!.embedding));
      return ids;
    };
    for (let c = 0; c < 31; c++) await enrol(`c${c}`, 10); // 310 > 300: the rebuild starts in a worker
    assert.equal(g.searchKind, 'exact', 'still exact while the worker builds');
    const during = await enrol('late', 20);
    for (const id of during.slice(0, 5)) {
      await g.deleteExample(id);
      exact.remove(id);
    }
    for (let i = 0; i < 30; i++) {
      const q = vector(rng);
      assert.deepEqual(g.nearest(q, 5).map((n) => n.id), exact.search(q, 5).map((n) => n.id), 'exact answers during the rebuild');
    }
    await g.settled();
    assert.equal(g.searchKind, 'hnsw');
    assert.equal(g.size, exact.size);
    for (const id of during.slice(5)) assert.equal(g.nearest(g.embedding(id)!, 1)[0]!.id, id, 'enrolled during the rebuild, found after');
    const all = new Set(g.nearest(vector(rng), 400).map((n) => n.id));
    for (const id of during.slice(0, 5)) assert.ok(!all.has(id), 'deleted during the rebuild, gone after');
    assert.equal(all.size, exact.size);
    await g.close();
    assert.ok(existsSync(join(dir, 'hnsw.bin')), 'the graph was written durably');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a large import into an HNSW gallery is searchable at once and folded in without stalling the event loop', async () => {
  const dir = tempDir();
  try {
    const rng = new Rng(8);
    const g = await Gallery.openFolder({ dir, modelId: 'm', dim: DIM, metric: 'l2', annThreshold: 300 });
    await g.enrolBatch(Array.from({ length: 400 }, (_, i) => ({ className: `c${i % 40}`, example: example(vector(rng), i) })));
    await g.settled();
    assert.equal(g.searchKind, 'hnsw');
    const doc = {
      format: 'fewshot-gallery/1',
      model: { id: 'm', embeddingDim: DIM, metric: 'l2' },
      classes: Array.from({ length: 30 }, (_, c) => ({ name: `imp${c}`, examples: Array.from({ length: 100 }, (_, i) => ({ sha256: 'a'.repeat(64), embedding: Array.from(vector(rng)) })) })),
    };
    // Event-loop lag while the 3,000 additions are folded into the graph.
    let worstLag = 0;
    let last = performance.now();
    const monitor = setInterval(() => {
      const now = performance.now();
      worstLag = Math.max(worstLag, now - last - 1);
      last = now;
    }, 1);
    assert.deepEqual(await g.importJson(doc), { classes: 30, examples: 3000 });
    const probe = Float32Array.from(doc.classes[17]!.examples[42]!.embedding);
    assert.equal(g.nearest(probe, 1)[0]!.className, 'imp17', 'found before the fold finished');
    last = performance.now();
    await g.settled();
    clearInterval(monitor);
    assert.equal(g.size, 3400);
    assert.equal(g.nearest(probe, 1)[0]!.className, 'imp17', 'and after, from the graph');
    assert.ok(worstLag < 250, `the event loop stalled ${worstLag.toFixed(0)} ms while folding`);
    await g.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('bulk loads while the first graph is built: one build, the rest folded in, nothing lost', async () => {
  const dir = tempDir();
  try {
    const rng = new Rng(9);
    const logs: string[] = [];
    const g = await Gallery.openFolder({ dir, modelId: 'm', dim: DIM, metric: 'l2', annThreshold: 300, log: (l) => logs.push(l) });
    const batches = [];
    for (let b = 0; b < 3; b++) {
      const items = Array.from({ length: 1500 }, (_, i) => ({ className: `b${b}c${i % 50}`, example: example(vector(rng), i) }));
      batches.push({ items, ids: await g.enrolBatch(items) });
    }
    await g.settled();
    assert.equal(g.searchKind, 'hnsw');
    assert.equal(g.size, 4500);
    assert.equal(logs.filter((l) => /HNSW index built/.test(l)).length, 1, logs.join('\n'));
    for (const { items, ids } of batches) for (let i = 0; i < items.length; i += 97) assert.equal(g.nearest(items[i]!.example.embedding, 1)[0]!.id, ids[i]);
    await g.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
