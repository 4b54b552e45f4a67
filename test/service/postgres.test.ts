/**
 * The PostgreSQL store with several replicas. Starts its own throwaway PostgreSQL server; skipped
 * (with the reason) only where no PostgreSQL binaries are installed.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { selectBackend } from '../../src/backend/select.js';
import { Gallery } from '../../src/service/gallery.js';
import { PostgresStore } from '../../src/service/postgres_store.js';
import { startService, type RunningService } from '../../src/service/service.js';
import { Rng } from '../../src/util/random.js';
import { saveTestModel, shapePng, type Shape } from './helpers.js';
import { startTestPostgres, type TestPostgres } from './postgres_server.js';

const started = await startTestPostgres();
const skip = 'skip' in started ? started.skip : false;
const server = 'skip' in started ? null : (started as TestPostgres);
const root = mkdtempSync(join(tmpdir(), 'fewshot-pgtest-'));
const modelDir = join(root, 'model');
let databases = 0;

after(() => {
  server?.stop();
  rmSync(root, { recursive: true, force: true });
});

async function setUp(): Promise<string> {
  if (databases === 0) {
    await selectBackend('cpu', { quiet: true });
    await saveTestModel(modelDir, 'distance');
  }
  return server!.createDatabase(`g${++databases}`);
}

function replica(url: string, name: string): Promise<RunningService> {
  return startService({ modelDir, home: join(root, name), store: url, port: 0, buildApp: false, log: () => {} });
}

async function enrol(s: RunningService, name: string, shape: Shape, seed: number): Promise<Response> {
  return fetch(`${s.url}/api/classes/${name}/examples`, { method: 'POST', body: shapePng(shape, 56, seed), headers: { 'content-type': 'image/png' } });
}

async function predict(s: RunningService, shape: Shape, seed: number): Promise<{ predictions: { class: string; score: number }[] }> {
  return (await fetch(`${s.url}/api/predict`, { method: 'POST', body: shapePng(shape, 56, seed), headers: { 'content-type': 'image/png' } })).json();
}

/** Polls `check` until it holds; returns the milliseconds it took (fails after `limitMs`). */
async function within(limitMs: number, what: string, check: () => Promise<boolean>): Promise<number> {
  const t0 = performance.now();
  while (!(await check())) {
    if (performance.now() - t0 > limitMs) assert.fail(`${what}: not within ${limitMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return performance.now() - t0;
}

test('the PostgreSQL store keeps a gallery like the SQLite one, and refuses another model', { skip }, async () => {
  const url = await setUp();
  const rng = new Rng(1);
  const v = () => Float32Array.from({ length: 16 }, () => rng.normal());
  const store = await PostgresStore.open(url, { modelId: 'm', dim: 16, metric: 'l2' });
  const g = await Gallery.open({ store, modelId: 'm', dim: 16, metric: 'l2', annThreshold: 40 });
  try {
    const a = await g.enrol('alpha', [0, 1].map((i) => ({ embedding: v(), sha256: String(i).padStart(64, '0'), source: 'test' })));
    await g.enrolBatch(Array.from({ length: 50 }, (_, i) => ({ className: `c${i % 5}`, example: { embedding: v(), sha256: 'f'.repeat(64), source: 'bulk' } })));
    assert.equal(g.size, 52);
    assert.deepEqual(g.classes().map((c) => c.examples), [2, 10, 10, 10, 10, 10]);
    await g.settled();
    assert.equal(g.searchKind, 'hnsw', 'past the threshold the replica builds its own graph');
    assert.equal(g.nearest(g.embedding(a[1]!)!, 1)[0]!.id, a[1]);
    assert.deepEqual(await g.deleteExample(a[0]!), { className: 'alpha' });
    assert.equal(await g.deleteClass('c0'), 10);
    assert.equal(await g.deleteClass('c0'), null);
    // A class's decision is stored with it, kept by further enrolments, and exported.
    await g.enrol('c1', [{ embedding: v(), sha256: 'e'.repeat(64), source: 'test' }], { decision: 'wd' });
    await g.enrol('c1', [{ embedding: v(), sha256: 'd'.repeat(64), source: 'test' }]);
    assert.deepEqual([await g.decisionOf('c1'), await g.decisionOf('c2'), await g.decisionOf('nope')], ['wd', null, undefined]);
    const exported = await g.exportJson();
    assert.deepEqual(exported.classes.map((c) => [c.name, c.decision]), [['alpha', undefined], ['c1', 'wd'], ['c2', undefined], ['c3', undefined], ['c4', undefined]]);
    assert.deepEqual(await g.importJson(exported, { replace: true }), { classes: 5, examples: 43 });
    assert.equal(await g.decisionOf('c1'), 'wd');
    assert.equal(g.size, 43);
    assert.equal(await g.integrityCheck(), 'ok');
  } finally {
    await g.close();
  }
  await assert.rejects(PostgresStore.open(url, { modelId: 'other', dim: 16, metric: 'l2' }), /belongs to model m/);
});

test('two replicas: enrol on A is predicted on B within 1 s; delete on B, A stops returning it', { skip }, async () => {
  const url = await setUp();
  const a = await replica(url, 'a');
  const b = await replica(url, 'b');
  try {
    assert.equal((await enrol(a, 'bars', 'bars', 1)).status, 201);
    assert.equal((await enrol(b, 'zigzag', 'zigzag', 1)).status, 201);
    const r = await enrol(a, 'circle', 'circle', 1);
    assert.equal(r.status, 201);
    const { id } = await r.json();
    const ms = await within(1000, 'B predicts what A enrolled', async () => (await predict(b, 'circle', 1)).predictions[0]?.class === 'circle');
    assert.ok(ms < 1000, `${ms} ms`);
    console.log(`# replica B predicted A's enrolment after ${ms.toFixed(0)} ms`);
    assert.deepEqual((await b.gallery.example(id))?.class, 'circle');
    assert.deepEqual(b.gallery.classes(), [
      { name: 'bars', examples: 1 },
      { name: 'circle', examples: 1 },
      { name: 'zigzag', examples: 1 },
    ]);

    assert.equal((await fetch(`${b.url}/api/classes/circle`, { method: 'DELETE' })).status, 200);
    const gone = await within(1000, 'A stops returning the class B deleted', async () => !(await predict(a, 'circle', 1)).predictions.some((p) => p.class === 'circle'));
    console.log(`# replica A stopped returning the class B deleted after ${gone.toFixed(0)} ms`);
    assert.deepEqual(a.gallery.classes().map((c) => c.name), ['bars', 'zigzag']);
    assert.equal((await fetch(`${a.url}/api/classes/circle`)).status, 404);
  } finally {
    await a.close();
    await b.close();
  }
});

test('SIGKILL a replica mid-enrolment: every acknowledged enrolment is kept and reaches the other replica', { skip, timeout: 120_000 }, async () => {
  const url = await setUp();
  const b = await replica(url, 'b');
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve', '--model', modelDir, '--store', url, '--port', String(port), '--backend', 'cpu'], {
    env: { ...process.env, FEWSHOT_TOKEN: '', FEWSHOT_HOME: join(root, 'child') },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += String(d)));
  const childUrl = `http://127.0.0.1:${port}`;
  try {
    await within(60_000, `the child replica starts (${stderr})`, async () => fetch(`${childUrl}/healthz`).then((r) => r.ok, () => false));
    const acked: number[] = [];
    let stop = false;
    const shapes: Shape[] = ['circle', 'cross', 'triangle', 'bars', 'zigzag'];
    const stream = async (w: number) => {
      for (let i = 0; !stop; i++) {
        try {
          const r = await fetch(`${childUrl}/api/classes/k${w}/examples`, { method: 'POST', body: shapePng(shapes[(w + i) % 5]!, 56, w * 1000 + i), headers: { 'content-type': 'image/png' } });
          if (r.status === 201) acked.push(((await r.json()) as { id: number }).id);
        } catch {
          return; // killed
        }
      }
    };
    const streams = [0, 1, 2, 3].map(stream);
    await within(30_000, 'enrolments are acknowledged', async () => acked.length >= 20);
    child.kill('SIGKILL');
    stop = true;
    await Promise.all(streams);
    assert.ok(acked.length >= 20);
    await within(1000, 'replica B holds every acknowledged enrolment', async () => acked.every((id) => b.gallery.embedding(id) !== undefined));
    for (const id of acked) assert.ok(await b.gallery.example(id), `example ${id} is in the database`);
    assert.equal(await b.gallery.integrityCheck(), 'ok');
  } finally {
    child.kill('SIGKILL');
    await b.close();
  }
});
