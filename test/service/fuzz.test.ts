/**
 * Property-based fuzzing of every route (fast-check, seeded): whatever arrives, the server answers
 * below 500 with a JSON error for refusals, stays up, keeps its memory bounded, and the gallery
 * changes only by what it acknowledged. `npm run bench:fuzz` runs the same cases far longer against
 * a separate server process.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { selectBackend } from '../../src/backend/select.js';
import { startService, type RunningService } from '../../src/service/service.js';
import { ExpectedGallery, fuzzRequest, type FuzzRequest } from './fuzz_cases.js';
import { saveTestModel, shapePng } from './helpers.js';

const RUNS = Number(process.env['FEWSHOT_FUZZ_RUNS'] ?? 300);
let root: string;
let s: RunningService;

before(async () => {
  await selectBackend('cpu', { quiet: true });
  root = mkdtempSync(join(tmpdir(), 'fewshot-fuzz-'));
  await saveTestModel(join(root, 'model'), 'distance');
  s = await startService({ modelDir: join(root, 'model'), home: join(root, 'home'), port: 0, buildApp: false, log: () => {}, limits: { maxUploadBytes: 256 * 1024, maxImportBytes: 1024 * 1024 } });
});

after(async () => {
  await s.close();
  rmSync(root, { recursive: true, force: true });
});

/** Sends one fuzz request; returns status and parsed body (JSON, or null). */
async function send(r: FuzzRequest): Promise<{ status: number; body: any }> {
  const res = await fetch(`${s.url}${r.path}`, { method: r.method, headers: r.headers, body: r.body ? new Uint8Array(r.body) : undefined });
  const text = await res.text();
  let body: any = null;
  try {
    body = JSON.parse(text);
  } catch {
    body = null;
  }
  return { status: res.status, body };
}

test(`fuzz: ${RUNS} hostile requests to every route answer < 500, change nothing unacknowledged, keep RSS bounded`, { timeout: 600_000 }, async () => {
  for (const [name, shape] of [['keep-a', 'circle'], ['keep-a', 'cross'], ['keep-b', 'bars']] as const) {
    assert.equal((await fetch(`${s.url}/api/classes/${name}/examples`, { method: 'POST', body: shapePng(shape), headers: { 'content-type': 'image/png' } })).status, 201);
  }
  const baseline = await s.gallery.exportJson();
  // What the gallery must hold: the baseline plus what the server acknowledged.
  const expected = new ExpectedGallery(s.gallery.classes());
  let peakRss = process.memoryUsage().rss;
  let cases = 0;
  const statuses = new Map<number, number>();
  await fc.assert(
    fc.asyncProperty(fuzzRequest(s.model.id, s.model.scorer.meta.embeddingDim), async (req) => {
      cases++;
      const { status, body } = await send(req);
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
      assert.ok(status < 500, `${req.label}: answered ${status} ${JSON.stringify(body)}`);
      if (status >= 400) assert.ok(body && typeof body.error === 'string' && typeof body.message === 'string', `${req.label}: ${status} without a JSON error`);
      expected.observe(req, status, body, () => s.gallery.classes());
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
    }),
    { numRuns: RUNS, seed: 20261130, endOnFailure: true },
  );
  assert.equal((await fetch(`${s.url}/healthz`)).status, 200, 'the server is alive');
  assert.deepEqual(expected.differences(s.gallery.classes()), [], 'only acknowledged changes');
  const after = await s.gallery.exportJson();
  for (const c of baseline.classes) {
    const now = after.classes.find((x) => x.name === c.name);
    if (!expected.differences([{ name: c.name, examples: c.examples.length }]).some((d) => d.startsWith(JSON.stringify(c.name)))) assert.deepEqual(now, c, `baseline class ${c.name} is intact`);
  }
  assert.equal(await s.gallery.integrityCheck(), 'ok');
  const mb = peakRss / 2 ** 20;
  console.log(`# fuzz: ${cases} cases, ${expected.acknowledgedWrites} acknowledged writes, statuses ${JSON.stringify(Object.fromEntries([...statuses].sort()))}, peak RSS ${mb.toFixed(0)} MiB`);
  assert.ok(mb < 1024, `peak RSS ${mb.toFixed(0)} MiB`);
});
