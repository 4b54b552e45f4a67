/**
 * `npm run bench:service`: the recognition service under load, on loopback.
 *
 * 1. Predict throughput and latency (autocannon, POST /api/predict with a real image) against
 *    galleries of 100 real embeddings (Omniglot drawings when ../shared/data has them) and of
 *    10k and 1M synthetic ones (clustered like real galleries: classes of 10 examples around a
 *    centre, scaled to the real embeddings' statistics). Each server is a separate process.
 * 2. ANN recall@1 against exact search on each gallery, plus in-process search latency.
 * 3. Fault test: SIGKILL the server during a stream of enrolments, restart it, check that every
 *    acknowledged enrolment is present and that SQLite's integrity_check says ok.
 *
 * Options: --sizes 100,10000,1000000  --duration 10 (s per load run)  --connections 4
 *          --build-budget 600 (s to fill one gallery; larger sizes stop there and say so)
 *          --fault-rounds 3  --model DIR  --out .bench/service
 *          --soak 20: only the fault soak: 20 SIGKILL rounds on one gallery under 4 enrolment streams
 *            and 2 predict streams, printed as one JSON line (exit 1 if anything acknowledged is lost)
 *          --replicas: only predict req/s against 1 and 2 replicas sharing a throwaway PostgreSQL
 *          --during-rebuild N [--import-size 20000]: only predict latency on a gallery of N before and
 *            while an import of 20k examples is folded into its HNSW graph and the graph (re)written
 * Everything is bounded (durations, budgets, rounds) and listens on 127.0.0.1 only.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { selectBackend } from '../src/backend/select.js';
import { decodeImage, encodePng, type Image } from '../src/data/image.js';
import { openSource } from '../src/data/source.js';
import { DEFAULT_MODEL_DIR } from '../src/inference/default_model.js';
import { Gallery, galleryDir, type NewExample } from '../src/service/gallery.js';
import { loadServedModel, retrievalMetric, type ServedModel } from '../src/service/model.js';
import { HnswIndex, metricDistance, TopK, type Metric } from '../src/service/vector_index.js';
import { packageRoot } from '../src/service/paths.js';
import { Rng } from '../src/util/random.js';

interface AutocannonResult {
  requests: { average: number; total: number };
  latency: { p50: number; p99: number; average: number; max: number };
  non2xx: number;
  errors: number;
  duration: number;
}
type Autocannon = (opts: Record<string, unknown>) => Promise<AutocannonResult>;
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}

const sizes = arg('sizes', '100,10000,1000000').split(',').map(Number);
const duration = Number(arg('duration', '10'));
const connections = Number(arg('connections', '4'));
const buildBudget = Number(arg('build-budget', '600'));
const faultRounds = Number(arg('fault-rounds', '3'));
const soakRounds = Number(arg('soak', '0'));
const replicasMode = process.argv.includes('--replicas');
const duringRebuildSize = Number(arg('during-rebuild', '0'));
const importSize = Number(arg('import-size', '20000'));
const outDir = resolve(arg('out', '.bench/service'));
const modelDir = resolve(arg('model', DEFAULT_MODEL_DIR));
const ROOT = packageRoot();
const OMNIGLOT = resolve(ROOT, '..', 'shared', 'data', 'omniglot', 'images_background.zip');

const log = (s: string) => console.error(s);

// --- images ------------------------------------------------------------------------------------
/** A random scribble (a few strokes) on white paper: distinct bytes for every enrolment. */
function scribble(rng: Rng, size = 105): Uint8Array {
  const data = new Uint8Array(size * size).fill(255);
  for (let s = 0; s < 3; s++) {
    let x = rng.uniform(10, size - 10);
    let y = rng.uniform(10, size - 10);
    for (let k = 0; k < 30; k++) {
      x = Math.min(size - 3, Math.max(2, x + rng.uniform(-3, 3)));
      y = Math.min(size - 3, Math.max(2, y + rng.uniform(-3, 3)));
      for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) data[Math.round(y + dy) * size + Math.round(x + dx)] = 0;
    }
  }
  return encodePng({ width: size, height: size, channels: 1, data });
}

/** 100 real drawings (20 characters x 5 drawers) when the Omniglot zip is there, else scribbles. */
async function realImages(rng: Rng): Promise<{ className: string; png: Uint8Array }[]> {
  if (existsSync(OMNIGLOT)) {
    const src = await openSource(OMNIGLOT);
    const byChar = new Map<string, string[]>();
    for (const p of src.list()) {
      if (!p.endsWith('.png')) continue;
      const dir = p.slice(0, p.lastIndexOf('/'));
      byChar.set(dir, [...(byChar.get(dir) ?? []), p]);
    }
    const chars = rng.sample([...byChar.keys()].sort(), 20);
    return chars.flatMap((c) => byChar.get(c)!.sort().slice(0, 5).map((p) => ({ className: c.split('/').slice(-2).join('/'), png: src.read(p) })));
  }
  log('bench: no Omniglot data; the 100-gallery uses random scribbles');
  return Array.from({ length: 100 }, (_, i) => ({ className: `c${i % 20}`, png: scribble(rng) }));
}

// --- galleries -------------------------------------------------------------------------------------
function example(v: Float32Array, i: number, source: string): NewExample {
  return { embedding: v, sha256: i.toString(16).padStart(64, '0'), source };
}

interface Stats {
  mean: Float32Array;
  std: Float32Array;
}

function embeddingStats(vs: Float32Array[]): Stats {
  const d = vs[0]!.length;
  const mean = new Float32Array(d);
  const std = new Float32Array(d);
  for (const v of vs) for (let i = 0; i < d; i++) mean[i]! += v[i]! / vs.length;
  for (const v of vs) for (let i = 0; i < d; i++) std[i]! += (v[i]! - mean[i]!) ** 2 / vs.length;
  for (let i = 0; i < d; i++) std[i] = Math.sqrt(std[i]!) || 1e-3;
  return { mean, std };
}

/** A synthetic class centre, and a member of it (spread 0.35 of the per-dimension std). */
function centre(rng: Rng, s: Stats): Float32Array {
  return s.mean.map((m, i) => m + s.std[i]! * rng.normal());
}
function member(rng: Rng, c: Float32Array, s: Stats): Float32Array {
  return c.map((v, i) => v + 0.35 * s.std[i]! * rng.normal());
}

interface Built {
  home: string;
  size: number;
  seconds: number;
  centres: Float32Array[];
  search: string;
  note?: string;
}

async function buildGallery(model: ServedModel, size: number, real: { className: string; embedding: Float32Array }[], stats: Stats, rng: Rng): Promise<Built> {
  const home = join(outDir, `gallery-${size}`);
  rmSync(home, { recursive: true, force: true });
  const meta = model.scorer.meta;
  const g = await Gallery.openFolder({ dir: galleryDir(home, model.id), modelId: model.id, dim: meta.embeddingDim, metric: retrievalMetric(meta), log });
  const t0 = performance.now();
  const centres: Float32Array[] = [];
  let note: string | undefined;
  try {
    const first = real.slice(0, Math.min(size, real.length));
    await g.enrolBatch(first.map((r, i) => ({ className: r.className, example: example(r.embedding, i, 'omniglot') })));
    let n = first.length;
    while (n < size) {
      if ((performance.now() - t0) / 1000 > buildBudget) {
        note = `stopped at ${n} of ${size} embeddings: the ${buildBudget} s build budget ran out on this machine`;
        log(`bench: ${note}`);
        break;
      }
      const batch: { className: string; example: NewExample }[] = [];
      while (batch.length < 20_000 && n + batch.length < size) {
        const c = centre(rng, stats);
        centres.push(c);
        const name = `s${centres.length}`;
        for (let k = 0; k < 10 && n + batch.length < size; k++) batch.push({ className: name, example: example(member(rng, c, stats), n + batch.length, 'synthetic') });
      }
      await g.enrolBatch(batch);
      n += batch.length;
      if (n % 100_000 < 20_000) log(`bench: gallery ${size}: ${n} embeddings, ${((performance.now() - t0) / 1000).toFixed(0)} s`);
    }
    await g.settled();
    const search = g.searchKind;
    await g.close(); // writes the HNSW graph, so the server only loads it
    return { home, size: n, seconds: (performance.now() - t0) / 1000, centres, search, note };
  } catch (e) {
    await g.close();
    throw e;
  }
}

/** ANN top-1 vs exact top-1 over `queries`, and the in-process search latency of both. */
async function recallAt1(model: ServedModel, home: string, queries: Float32Array[]): Promise<{ recall: number; annMs: number; exactMs: number; search: string }> {
  const meta = model.scorer.meta;
  const metric: Metric = retrievalMetric(meta);
  const g = await Gallery.openFolder({ dir: galleryDir(home, model.id), modelId: model.id, dim: meta.embeddingDim, metric });
  await g.settled();
  try {
    const d = meta.embeddingDim;
    const n = g.size;
    const all = new Float32Array(n * d);
    const ids = new Int32Array(n);
    let r = 0;
    for await (const row of g.scan()) {
      all.set(row.embedding, r * d);
      ids[r++] = row.id;
    }
    // A gallery served by exact search still gets its ANN recall measured: on a graph built here.
    let ann: HnswIndex | null = null;
    if (g.searchKind === 'exact') {
      ann = HnswIndex.create(d, metric, n);
      for (let i = 0; i < n; i++) ann.add(ids[i]!, all.subarray(i * d, (i + 1) * d));
    }
    let agree = 0;
    let annMs = 0;
    let exactMs = 0;
    for (const q of queries) {
      let t = performance.now();
      const annTop = ann ? ann.search(q, 1)[0]!.id : g.nearest(q, 1)[0]!.id;
      annMs += performance.now() - t;
      t = performance.now();
      const top = new TopK(1);
      for (let i = 0; i < n; i++) top.push(ids[i]!, metricDistance(metric, q, all, i * d));
      exactMs += performance.now() - t;
      if (top.ids[0] === annTop) agree++;
    }
    return { recall: agree / queries.length, annMs: annMs / queries.length, exactMs: exactMs / queries.length, search: g.searchKind };
  } finally {
    await g.close();
  }
}

// --- servers -----------------------------------------------------------------------------------------
interface Server {
  child: ChildProcess;
  url: string;
  output: string[];
}

async function startServer(home: string, port: number, extra: string[] = []): Promise<Server> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), 'serve', '--model', modelDir, '--home', home, '--port', String(port), ...extra], {
    cwd: ROOT,
    env: { ...process.env, FEWSHOT_TOKEN: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  child.stdout!.on('data', (b) => output.push(String(b)));
  child.stderr!.on('data', (b) => output.push(String(b)));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 900_000; // a 1M gallery loads slowly on a busy machine
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`server exited (${child.exitCode}): ${output.join('')}`);
    try {
      if ((await fetch(`${url}/healthz`)).status === 200) return { child, url, output };
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  child.kill('SIGKILL');
  throw new Error(`server did not become healthy in 900 s: ${output.join('')}`);
}

async function stopServer(s: Server, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (s.child.exitCode !== null) return;
  const exited = new Promise((r) => s.child.once('exit', r));
  s.child.kill(signal);
  await Promise.race([exited, new Promise((r) => setTimeout(r, 20_000))]);
  if (s.child.exitCode === null && s.child.signalCode === null) {
    s.child.kill('SIGKILL');
    await exited;
  }
}

async function loadTest(url: string, png: Uint8Array, seconds = duration): Promise<AutocannonResult> {
  return autocannon({
    url: `${url}/api/predict`,
    method: 'POST',
    headers: { 'content-type': 'image/png' },
    body: Buffer.from(png),
    connections,
    duration: seconds,
  });
}

function summary(r: AutocannonResult): Record<string, number> {
  return { requestsPerSecond: +r.requests.average.toFixed(1), p50ms: r.latency.p50, p99ms: r.latency.p99, maxMs: r.latency.max, non2xx: r.non2xx, errors: r.errors };
}

// --- replicas on PostgreSQL ------------------------------------------------------------------------
/** Predict req/s against one replica, then against two sharing the database (loopback only). */
async function replicas(images: { className: string; png: Uint8Array }[], queryPng: Uint8Array, port: number): Promise<Record<string, unknown>> {
  const { startTestPostgres } = await import('../test/service/postgres_server.js');
  const pgs = await startTestPostgres();
  if ('skip' in pgs) throw new Error(pgs.skip);
  const servers: Server[] = [];
  try {
    const url = await pgs.createDatabase('bench_replicas');
    servers.push(await startServer(join(outDir, 'replica-a'), ++port, ['--store', url]));
    for (const im of images) {
      const r = await fetch(`${servers[0]!.url}/api/classes/${encodeURIComponent(im.className.replace(/\//g, ' '))}/examples`, { method: 'POST', body: new Uint8Array(im.png), headers: { 'content-type': 'image/png' } });
      if (r.status !== 201) throw new Error(`enrolment answered ${r.status}: ${await r.text()}`);
    }
    servers.push(await startServer(join(outDir, 'replica-b'), ++port, ['--store', url]));
    await loadTest(servers[0]!.url, queryPng, 3); // warm-up
    await loadTest(servers[1]!.url, queryPng, 3);
    const one = await loadTest(servers[0]!.url, queryPng);
    const two = await Promise.all(servers.map((s) => loadTest(s.url, queryPng)));
    const total = two.reduce((n, r) => n + r.requests.average, 0);
    const result = {
      replicas: { gallery: images.length, connectionsPerReplica: connections, duration },
      one: summary(one),
      two: { requestsPerSecond: +total.toFixed(1), perReplica: two.map(summary) },
      speedup: +(total / one.requests.average).toFixed(2),
      cpus: (await import('node:os')).cpus().length,
      loadAverage: loadavg().map((x) => +x.toFixed(1)),
    };
    return result;
  } finally {
    for (const s of servers) await stopServer(s);
    pgs.stop();
  }
}

// --- predict latency while the graph changes --------------------------------------------------------
/**
 * A gallery of `size` on HNSW; predict load before, then while `importSize` more examples are
 * imported (folded into the graph in small batches) and the graph file is rewritten (flush delay
 * 3 s, so the write falls inside the measurement).
 */
async function duringRebuild(model: ServedModel, size: number, real: { className: string; embedding: Float32Array }[], stats: Stats, rng: Rng, queryPng: Uint8Array, port: number): Promise<Record<string, unknown>> {
  const built = await buildGallery(model, size, real, stats, rng);
  const server = await startServer(built.home, ++port, ['--index-flush-delay', '3000']);
  try {
    await loadTest(server.url, queryPng, 3);
    const before = await loadTest(server.url, queryPng);
    const classes: { name: string; examples: { sha256: string; source: string; createdAt: string; embedding: number[] }[] }[] = [];
    for (let n = 0; n < importSize; n += 10) {
      const c = centre(rng, stats);
      classes.push({ name: `imp${classes.length}`, examples: Array.from({ length: Math.min(10, importSize - n) }, () => ({ sha256: 'b'.repeat(64), source: 'bench', createdAt: new Date().toISOString(), embedding: Array.from(member(rng, c, stats)) })) });
    }
    const body = JSON.stringify({ format: 'fewshot-gallery/1', model: { id: model.id, embeddingDim: model.scorer.meta.embeddingDim, metric: retrievalMetric(model.scorer.meta) }, classes });
    const window = Math.max(duration, 30);
    const during = loadTest(server.url, queryPng, window);
    await new Promise((r) => setTimeout(r, 2000));
    const t0 = performance.now();
    const imp = await fetch(`${server.url}/api/gallery/import`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
    const importMs = performance.now() - t0;
    if (imp.status !== 200) throw new Error(`import answered ${imp.status}: ${await imp.text()}`);
    const r = await during;
    const health = (await (await fetch(`${server.url}/healthz`)).json()) as { gallery: { examples: number } };
    const notes = server.output.join('').split('\n').filter((l) => /gallery: HNSW/.test(l));
    await stopServer(server);

    // A full rebuild: the graph file is gone, so the server builds it in a worker after opening and
    // answers from exact search over everything until the graph is ready.
    rmSync(join(galleryDir(built.home, model.id), 'hnsw.bin'), { force: true });
    const t1 = performance.now();
    const rebuilding = await startServer(built.home, ++port);
    const startSeconds = (performance.now() - t1) / 1000;
    let rebuild: AutocannonResult;
    let rebuildNotes: string[];
    try {
      rebuild = await loadTest(rebuilding.url, queryPng, window);
      const built2 = () => rebuilding.output.join('').split('\n').filter((l) => /gallery: HNSW index built/.test(l));
      const duringWindow = built2().length === 0;
      rebuildNotes = [...built2(), duringWindow ? `the rebuild was still running when the ${window} s window ended` : 'the rebuild finished inside the window'];
    } finally {
      await stopServer(rebuilding);
    }
    return {
      duringRebuild: { gallery: built.size, imported: importSize, importBodyMB: +(body.length / 2 ** 20).toFixed(1), importAnsweredMs: Math.round(importMs), windowSeconds: window },
      before: summary(before),
      duringImportFoldAndWrite: summary(r),
      examplesAfter: health.gallery.examples,
      serverNotes: notes,
      duringFullRebuild: { ...summary(rebuild), serverStartSeconds: +startSeconds.toFixed(1), notes: rebuildNotes },
      loadAverage: loadavg().map((x) => +x.toFixed(1)),
    };
  } finally {
    await stopServer(server);
    if (built.size > 100_000) rmSync(built.home, { recursive: true, force: true });
  }
}

// --- fault test -----------------------------------------------------------------------------------
async function faultRound(round: number, port: number): Promise<{ acked: number; present: number; integrity: string; killedAfterMs: number; repairNote: string }> {
  const home = join(outDir, `fault-${round}`);
  rmSync(home, { recursive: true, force: true });
  const rng = new Rng(1000 + round);
  // A low ANN threshold puts the gallery on HNSW, so the kill also leaves a stale index file.
  let server = await startServer(home, port, ['--ann-threshold', '20']);
  const acked: { id: number; className: string }[] = [];
  let stop = false;
  const killAfter = 1500 + rng.int(2000);
  const t0 = Date.now();
  const worker = async (w: number) => {
    for (let i = 0; !stop && i < 10_000; i++) {
      const className = `k${(w + i) % 7}`;
      try {
        const r = await fetch(`${server.url}/api/classes/${className}/examples`, { method: 'POST', body: new Uint8Array(scribble(rng)), headers: { 'content-type': 'image/png' } });
        if (r.status === 201) acked.push({ id: ((await r.json()) as { id: number }).id, className });
      } catch {
        return; // the server is gone
      }
    }
  };
  const workers = [0, 1, 2, 3].map(worker);
  await new Promise((r) => setTimeout(r, killAfter));
  server.child.kill('SIGKILL');
  stop = true;
  await Promise.all(workers);
  await new Promise((r) => server.child.exitCode !== null || server.child.signalCode !== null ? r(null) : server.child.once('exit', r));
  const killedAfterMs = Date.now() - t0;

  server = await startServer(home, port, ['--ann-threshold', '20']);
  const present = new Set<number>();
  const classes = (await (await fetch(`${server.url}/api/classes`)).json()) as { name: string }[];
  for (const c of classes) {
    const detail = (await (await fetch(`${server.url}/api/classes/${c.name}`)).json()) as { examples: { id: number }[] };
    for (const e of detail.examples) present.add(e.id);
  }
  // The repaired HNSW index finds an acknowledged example by its own embedding.
  const repairNote = server.output.join('').match(/HNSW index (repaired|built|rebuilt)[^\n]*/)?.[0] ?? 'index file was current';
  await stopServer(server);
  const model = await loadServedModel(modelDir);
  const db = new Database(join(galleryDir(home, model.id), 'gallery.db'), { readonly: true });
  const integrity = (db.pragma('integrity_check') as { integrity_check: string }[]).map((r) => r.integrity_check).join('; ');
  db.close();
  return { acked: acked.length, present: acked.filter((a) => present.has(a.id)).length, integrity, killedAfterMs, repairNote };
}

// --- fault soak ------------------------------------------------------------------------------------
/**
 * SIGKILL rounds on ONE gallery (it grows round after round): 4 enrolment streams and 2 predict
 * streams run until the kill; after each restart every enrolment acknowledged so far must be in
 * the database, SQLite's integrity_check must say ok, and the newest acknowledged images of the
 * round must be found by the (repaired) index as their own nearest example.
 */
async function soak(rounds: number, port: number): Promise<Record<string, unknown>> {
  const home = join(outDir, 'soak');
  rmSync(home, { recursive: true, force: true });
  const rng = new Rng(4242);
  const extra = ['--ann-threshold', '200'];
  const acked = new Map<number, string>();
  const perRound: Record<string, unknown>[] = [];
  const predictStatus = new Map<string, number>();
  let lost = 0;
  let indexMisses = 0;
  let integrityFailures = 0;
  let server = await startServer(home, port, extra);
  const model = await loadServedModel(modelDir);
  for (let round = 0; round < rounds; round++) {
    let stop = false;
    const newest: { id: number; className: string; png: Uint8Array }[] = [];
    const enrolStream = async (w: number) => {
      for (let i = 0; !stop; i++) {
        const className = `k${(w + i) % 9}`;
        const png = scribble(rng);
        try {
          const r = await fetch(`${server.url}/api/classes/${className}/examples`, { method: 'POST', body: new Uint8Array(png), headers: { 'content-type': 'image/png' } });
          if (r.status === 201) {
            const id = ((await r.json()) as { id: number }).id;
            acked.set(id, className);
            newest[w] = { id, className, png };
          } else predictStatus.set(`enrol ${r.status}`, (predictStatus.get(`enrol ${r.status}`) ?? 0) + 1);
        } catch {
          return; // killed
        }
      }
    };
    const predictStream = async () => {
      while (!stop) {
        try {
          const r = await fetch(`${server.url}/api/predict`, { method: 'POST', body: new Uint8Array(scribble(rng)), headers: { 'content-type': 'image/png' } });
          await r.arrayBuffer();
          predictStatus.set(String(r.status), (predictStatus.get(String(r.status)) ?? 0) + 1);
        } catch {
          return;
        }
      }
    };
    const streams = [...[0, 1, 2, 3].map(enrolStream), predictStream(), predictStream()];
    const killAfter = 1500 + rng.int(2500);
    await new Promise((r) => setTimeout(r, killAfter));
    server.child.kill('SIGKILL');
    stop = true;
    await Promise.all(streams);
    await new Promise((r) => (server.child.exitCode !== null || server.child.signalCode !== null ? r(null) : server.child.once('exit', r)));

    const db = new Database(join(galleryDir(home, model.id), 'gallery.db'), { readonly: true });
    const integrity = (db.pragma('integrity_check') as { integrity_check: string }[]).map((r) => r.integrity_check).join('; ');
    const present = new Set((db.prepare('SELECT id FROM examples').all() as { id: number }[]).map((r) => r.id));
    db.close();
    const missing = [...acked.keys()].filter((id) => !present.has(id)).length;
    lost += missing;
    if (integrity !== 'ok') integrityFailures++;

    server = await startServer(home, port, extra);
    const repairNote = server.output.join('').match(/HNSW index (repaired|built|rebuilt)[^\n]*/g)?.pop() ?? (present.size > 200 ? 'graph file was current' : 'exact search (no graph)');
    let found = 0;
    const checked = newest.filter(Boolean);
    for (const n of checked) {
      const p = (await (await fetch(`${server.url}/api/predict?top=1`, { method: 'POST', body: new Uint8Array(n.png), headers: { 'content-type': 'image/png' } })).json()) as { nearest: { id: number } | null };
      if (p.nearest?.id === n.id) found++;
    }
    indexMisses += checked.length - found;
    const health = (await (await fetch(`${server.url}/healthz`)).json()) as { gallery: { examples: number; search: string } };
    const row = { round, killedAfterMs: killAfter, acknowledged: acked.size, missing, integrity, examples: health.gallery.examples, search: health.gallery.search, newestFoundByIndex: `${found}/${checked.length}`, index: repairNote };
    log(`bench: soak ${JSON.stringify(row)}`);
    perRound.push(row);
  }
  await stopServer(server);
  return {
    soak: { rounds, enrolmentStreams: 4, predictStreams: 2 },
    acknowledged: acked.size,
    lost,
    integrityFailures,
    newestNotFoundByIndex: indexMisses,
    requests: Object.fromEntries(predictStatus),
    ok: lost === 0 && integrityFailures === 0 && indexMisses === 0,
    date: new Date().toISOString(),
    loadAverage: loadavg().map((x) => +x.toFixed(1)),
  };
}

// --- main -------------------------------------------------------------------------------------------
async function main(): Promise<void> {
  if (!existsSync(join(modelDir, 'model.json'))) throw new Error(`no model in ${modelDir}: train the shipped one or pass --model DIR`);
  mkdirSync(outDir, { recursive: true });
  if (soakRounds > 0) {
    const result = await soak(soakRounds, 41_000 + Math.floor(Math.random() * 1000));
    console.log(JSON.stringify(result));
    if (!result['ok']) process.exitCode = 1;
    return;
  }
  const backend = await selectBackend('auto', { quiet: true });
  const model = await loadServedModel(modelDir);
  const meta = model.scorer.meta;
  log(`bench: model ${model.name} (${meta.method}/${meta.encoder}, ${meta.embeddingDim}-d, ${retrievalMetric(meta)}), backend ${backend}, ${connections} connections x ${duration} s`);
  const rng = new Rng(2026);
  const images = await realImages(rng);
  const realEmbeddings = model.scorer.embedImages(images.map((im, i) => decodeImage(im.png, `image ${i}`)));
  const real = images.map((im, i) => ({ className: im.className, embedding: realEmbeddings[i]! }));
  const stats = embeddingStats(realEmbeddings);
  // The query: a drawing of an enrolled character by a drawer not in the gallery.
  const queryPng = existsSync(OMNIGLOT) ? await (async () => {
    const src = await openSource(OMNIGLOT);
    const cls = images[0]!.className;
    const p = src.list().filter((f) => f.includes(`/${cls}/`) && f.endsWith('.png')).sort()[10]!;
    return src.read(p);
  })() : scribble(rng);

  let port = 39_000 + rng.int(1000);
  if (replicasMode || duringRebuildSize > 0) {
    const result = replicasMode ? await replicas(images, queryPng, port) : await duringRebuild(model, duringRebuildSize, real, stats, rng, queryPng, port);
    writeFileSync(join(outDir, replicasMode ? 'replicas.json' : 'during-rebuild.json'), JSON.stringify(result, null, 2));
    console.log(JSON.stringify(result));
    return;
  }
  const rows: Record<string, unknown>[] = [];
  for (const size of sizes) {
    const bytesNeeded = size * meta.embeddingDim * 4 * 3; // DB + HNSW graph + slack
    if (bytesNeeded > 6e9) {
      log(`bench: skipping ${size}: ${size} x ${meta.embeddingDim}-d embeddings need ~${(bytesNeeded / 1e9).toFixed(1)} GB`);
      rows.push({ requested: size, skipped: `needs ~${(bytesNeeded / 1e9).toFixed(1)} GB` });
      continue;
    }
    log(`bench: building a gallery of ${size}`);
    const built = await buildGallery(model, size, real, stats, rng);
    const queries: Float32Array[] = [];
    const qr = new Rng(size);
    for (let i = 0; i < (size > 100_000 ? 100 : 200); i++) {
      queries.push(built.centres.length && i % 2 ? member(qr, built.centres[qr.int(built.centres.length)]!, stats) : member(qr, realEmbeddings[qr.int(realEmbeddings.length)]!, stats));
    }
    const recall = await recallAt1(model, built.home, queries);
    log(`bench: ${built.size}: HNSW recall@1 ${recall.recall.toFixed(3)} against exact search (the server uses ${recall.search}), HNSW top-1 search ${recall.annMs.toFixed(2)} ms vs exact scan ${recall.exactMs.toFixed(2)} ms`);
    const t = performance.now();
    const server = await startServer(built.home, ++port);
    const startSeconds = (performance.now() - t) / 1000;
    try {
      await loadTest(server.url, queryPng); // warm-up is part of the budget: 1 run discarded
      const r = await loadTest(server.url, queryPng);
      const prediction = (await (await fetch(`${server.url}/api/predict`, { method: 'POST', body: new Uint8Array(queryPng), headers: { 'content-type': 'image/png' } })).json()) as { predictions: { class: string }[]; search: string };
      rows.push({
        requested: size,
        size: built.size,
        search: prediction.search,
        buildSeconds: +built.seconds.toFixed(1),
        serverStartSeconds: +startSeconds.toFixed(1),
        requestsPerSecond: +r.requests.average.toFixed(1),
        p50ms: r.latency.p50,
        p99ms: r.latency.p99,
        non2xx: r.non2xx,
        errors: r.errors,
        recallAt1: recall.recall,
        searchMs: +recall.annMs.toFixed(3),
        exactScanMs: +recall.exactMs.toFixed(3),
        top1ForQuery: prediction.predictions[0]?.class,
        note: built.note,
      });
      log(`bench: ${built.size}: ${r.requests.average.toFixed(1)} req/s, p50 ${r.latency.p50} ms, p99 ${r.latency.p99} ms, non-2xx ${r.non2xx}`);
    } finally {
      await stopServer(server);
    }
    if (built.size > 100_000) rmSync(built.home, { recursive: true, force: true }); // GBs
  }

  const faults = [];
  for (let round = 0; round < faultRounds; round++) {
    const f = await faultRound(round, ++port);
    log(`bench: fault round ${round}: killed after ${f.killedAfterMs} ms, ${f.present}/${f.acked} acknowledged enrolments present, integrity ${f.integrity}; ${f.repairNote}`);
    faults.push(f);
  }

  const result = { loadAverage: loadavg(), model: { name: model.name, id: model.id, method: meta.method, encoder: meta.encoder, embeddingDim: meta.embeddingDim }, backend, connections, duration, load: rows, faults, date: new Date().toISOString() };
  writeFileSync(join(outDir, 'results.json'), JSON.stringify(result, null, 2));
  console.log('\n| gallery | served by | predict req/s | p50 ms | p99 ms | HNSW recall@1 vs exact | top-1 search ms (HNSW / exact scan) | build s |');
  console.log('|---:|---|---:|---:|---:|---:|---:|---:|');
  for (const r of rows) {
    if (r['skipped']) console.log(`| ${r['requested']} | skipped: ${r['skipped']} | | | | | | |`);
    else console.log(`| ${r['size']}${r['size'] !== r['requested'] ? ` (of ${r['requested']})` : ''} | ${r['search']} | ${r['requestsPerSecond']} | ${r['p50ms']} | ${r['p99ms']} | ${r['recallAt1']} | ${r['searchMs']} / ${r['exactScanMs']} | ${r['buildSeconds']} |`);
  }
  console.log('\n| fault round | acknowledged | present after restart | integrity_check | index |');
  console.log('|---:|---:|---:|---|---|');
  faults.forEach((f, i) => console.log(`| ${i} | ${f.acked} | ${f.present} | ${f.integrity} | ${f.repairNote} |`));
  const lost = faults.some((f) => f.present !== f.acked || f.integrity !== 'ok');
  console.log(`\nload average at the end: ${loadavg().map((x) => x.toFixed(1)).join(', ')} (CPU shared with other work skews the figures)`);
  console.log(`results: ${join(outDir, 'results.json')}`);
  if (lost) {
    console.error('bench: FAULT TEST FAILED: an acknowledged enrolment is missing or the database is damaged');
    process.exitCode = 1;
  }
}

await main();
