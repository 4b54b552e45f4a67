import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import jpeg from 'jpeg-js';
import * as tf from '@tensorflow/tfjs-core';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { selectBackend } from '../../src/backend/select.js';
import { encodePng } from '../../src/data/image.js';
import { checkBindPolicy } from '../../src/service/auth.js';
import { startService, type RunningService } from '../../src/service/service.js';
import { bytes, multipartBody, saveTestModel, shapePng } from './helpers.js';

let root: string;
let modelDir: string;
let pairModelDir: string;

before(async () => {
  await selectBackend('cpu', { quiet: true });
  root = mkdtempSync(join(tmpdir(), 'fewshot-api-'));
  modelDir = join(root, 'model');
  pairModelDir = join(root, 'pair-model');
  await saveTestModel(modelDir, 'distance');
  await saveTestModel(pairModelDir, 'pair');
});

after(() => rmSync(root, { recursive: true, force: true }));

async function start(home: string, extra: Partial<Parameters<typeof startService>[0]> = {}): Promise<RunningService> {
  return startService({ modelDir, home: join(root, home), port: 0, buildApp: false, log: () => {}, ...extra });
}

function png(body: Uint8Array<ArrayBuffer>, headers: Record<string, string> = {}): RequestInit {
  return { method: 'POST', body, headers: { 'content-type': 'image/png', ...headers } };
}

async function json(res: Response): Promise<any> {
  const text = await res.text();
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`expected JSON, got ${res.status}: ${text.slice(0, 200)}`);
  }
}

test('health, model, OpenAPI document covering every API route', async () => {
  const s = await start('h1');
  try {
    const health = await fetch(`${s.url}/healthz`);
    assert.equal(health.status, 200);
    assert.equal((await json(health)).model.id, s.model.id);
    const doc = await json(await fetch(`${s.url}/openapi.json`));
    assert.equal(doc.openapi, '3.1.0');
    for (const [path, ops] of Object.entries(doc.paths as Record<string, object>)) {
      for (const method of Object.keys(ops)) {
        const url = path.replace(/\{(\w+)\}/g, ':$1');
        assert.ok(s.app.hasRoute({ method: method.toUpperCase() as 'GET', url }), `documented ${method} ${path} is served`);
      }
    }
    for (const p of ['/api/classes/{name}/examples', '/api/predict', '/api/verify', '/api/classes', '/api/classes/{name}', '/healthz', '/metrics']) {
      assert.ok(doc.paths[p], `${p} is documented`);
    }
    const model = await json(await fetch(`${s.url}/api/model`));
    assert.equal(model.meta.embeddingDim, 16);
    const mj = await fetch(`${s.url}${model.modelUrl}`);
    assert.equal(mj.status, 200);
    assert.equal((await fetch(`${s.url}/model/weights.bin`)).status, 200);
    assert.equal((await fetch(`${s.url}/model/..%2Ffewshot.json`)).status, 404);
    assert.equal((await fetch(`${s.url}/api/nothing`)).status, 404);
  } finally {
    await s.close();
  }
});

test('enrol, list, predict, verify, delete', async () => {
  const s = await start('h2', { threshold: -0.5 });
  try {
    let r = await fetch(`${s.url}/api/predict`, png(shapePng('circle')));
    assert.deepEqual(await json(r), { predictions: [], unknown: true, threshold: -0.5, nearest: null, search: 'exact' });

    r = await fetch(`${s.url}/api/classes/circle/examples`, png(shapePng('circle')));
    assert.equal(r.status, 201);
    const first = await json(r);
    assert.equal(first.class, 'circle');
    assert.ok(Number.isInteger(first.id));

    const form = multipartBody([
      { field: 'image', filename: 'x1.png', type: 'image/png', data: shapePng('cross', 56, 1) },
      { field: 'image', filename: 'x2.png', type: 'image/png', data: shapePng('cross', 56, 2) },
    ]);
    r = await fetch(`${s.url}/api/classes/cross/examples`, { method: 'POST', body: form.body, headers: { 'content-type': form.contentType } });
    assert.equal(r.status, 201);
    const crosses = await json(r);
    assert.equal(crosses.ids.length, 2);
    await fetch(`${s.url}/api/classes/bars/examples`, png(shapePng('bars')));

    assert.deepEqual(await json(await fetch(`${s.url}/api/classes`)), [
      { name: 'bars', examples: 1 },
      { name: 'circle', examples: 1 },
      { name: 'cross', examples: 2 },
    ]);
    const detail = await json(await fetch(`${s.url}/api/classes/cross`));
    assert.deepEqual(detail.examples.map((e: { id: number }) => e.id), crosses.ids);
    assert.match(detail.examples[0].sha256, /^[0-9a-f]{64}$/);

    // The enrolled image itself: distance 0, so score 0 >= threshold -0.5.
    const p = await json(await fetch(`${s.url}/api/predict?top=2`, png(shapePng('cross', 56, 1))));
    assert.equal(p.predictions.length, 2);
    assert.equal(p.predictions[0].class, 'cross');
    assert.ok(Math.abs(p.predictions[0].score) < 1e-5, 'the same image is at distance ~0');
    assert.ok(p.predictions[1].score < 0);
    assert.equal(p.unknown, false);
    assert.equal(p.nearest.id, crosses.ids[0]);

    // Serving predictions leaks no tensors.
    const tensorsBefore = tf.memory().numTensors;
    for (let i = 0; i < 10; i++) await (await fetch(`${s.url}/api/predict`, png(shapePng('circle', 56, i)))).arrayBuffer();
    assert.equal(tf.memory().numTensors, tensorsBefore, 'tensor count is flat over predictions');

    const snap = await json(await fetch(`${s.url}/api/gallery/snapshot`));
    assert.equal(snap.available, true);
    assert.equal(snap.examples.length, 4);
    assert.equal(snap.examples[0].embedding.length, 16);

    // JPEG works too (decoded by content, not by header).
    const jpegBytes = encodeJpegGray();
    assert.equal((await fetch(`${s.url}/api/predict`, { method: 'POST', body: jpegBytes, headers: { 'content-type': 'image/jpeg' } })).status, 200);

    const v = multipartBody([
      { field: 'a', filename: 'a.png', type: 'image/png', data: shapePng('circle') },
      { field: 'b', filename: 'b.png', type: 'image/png', data: shapePng('circle') },
    ]);
    const verify = await json(await fetch(`${s.url}/api/verify`, { method: 'POST', body: v.body, headers: { 'content-type': v.contentType } }));
    assert.ok(Math.abs(verify.score) < 1e-5);
    assert.equal(verify.same, true);

    r = await fetch(`${s.url}/api/classes/cross/examples/${crosses.ids[0]}`, { method: 'DELETE' });
    assert.equal(r.status, 200);
    assert.equal((await fetch(`${s.url}/api/examples/${crosses.ids[0]}`, { method: 'DELETE' })).status, 404);
    assert.equal((await fetch(`${s.url}/api/examples/${crosses.ids[1]}`, { method: 'DELETE' })).status, 200);
    assert.equal((await fetch(`${s.url}/api/classes/bars`, { method: 'DELETE' })).status, 200);
    assert.equal((await fetch(`${s.url}/api/classes/bars`, { method: 'DELETE' })).status, 404);
    assert.deepEqual(await json(await fetch(`${s.url}/api/classes`)), [
      { name: 'circle', examples: 1 },
      { name: 'cross', examples: 0 },
    ]);
    const metrics = await (await fetch(`${s.url}/metrics`)).text();
    assert.match(metrics, /fewshot_http_requests_total\{method="POST",route="\/api\/predict",status="200"\} 13/);
    assert.match(metrics, /fewshot_gallery_examples 1/);
  } finally {
    await s.close();
  }
});

function encodeJpegGray(): Uint8Array<ArrayBuffer> {
  // jpeg-js encodes RGBA; a plain drawing in colour is still a valid input.
  return bytes(jpegEncode());
}

function jpegEncode(): Uint8Array {
  const w = 40;
  const data = Buffer.alloc(w * w * 4, 255);
  for (let i = 10; i < 30; i++) for (let c = 0; c < 3; c++) data[(i * w + i) * 4 + c] = 0;
  return jpeg.encode({ width: w, height: w, data }, 90).data;
}

test('bad input answers 4xx with a clear JSON message and changes nothing', async () => {
  const s = await start('h3', { limits: { maxUploadBytes: 20_000, maxImageSide: 64, maxBatch: 2 } });
  try {
    await fetch(`${s.url}/api/classes/keep/examples`, png(shapePng('circle')));
    const before = await json(await fetch(`${s.url}/api/gallery/export`));
    const bad: [string, RequestInit, number, RegExp][] = [
      ['corrupt png', png(bytes(Buffer.concat([shapePng('cross').subarray(0, 60), Buffer.alloc(40)]))), 400, /cannot use image 'body'/],
      ['not an image', png(bytes(Buffer.from('hello world, not a png'))), 400, /not a PNG, JPEG or PGM/],
      ['empty body', png(bytes(Buffer.alloc(0))), 400, /empty/],
      ['text body', { method: 'POST', body: 'abc', headers: { 'content-type': 'text/plain' } }, 415, /Content-Type/],
      ['oversized body', png(bytes(Buffer.alloc(30_000, 1))), 413, /too large/],
      ['too many pixels per side', png(bytes(encodePng({ width: 100, height: 10, channels: 1, data: new Uint8Array(1000).fill(255) }))), 413, /100x10.*64 pixels per side/],
    ];
    for (const [what, init, status, message] of bad) {
      const r = await fetch(`${s.url}/api/classes/keep/examples`, init);
      assert.equal(r.status, status, what);
      const body = await json(r);
      assert.match(body.message, message, what);
      assert.equal(typeof body.error, 'string', what);
    }
    const three = multipartBody(['a', 'b', 'c'].map((n, i) => ({ field: 'image', filename: `${n}.png`, type: 'image/png', data: shapePng('bars', 56, i) })));
    let r = await fetch(`${s.url}/api/classes/keep/examples`, { method: 'POST', body: three.body, headers: { 'content-type': three.contentType } });
    assert.equal(r.status, 413);
    assert.match((await json(r)).message, /at most 2/);
    const mixed = multipartBody([
      { field: 'image', filename: 'good.png', type: 'image/png', data: shapePng('bars') },
      { field: 'image', filename: 'bad.png', type: 'image/png', data: Buffer.from('junk') },
    ]);
    r = await fetch(`${s.url}/api/classes/keep/examples`, { method: 'POST', body: mixed.body, headers: { 'content-type': mixed.contentType } });
    assert.equal(r.status, 400);
    assert.match((await json(r)).message, /bad\.png/);
    r = await fetch(`${s.url}/api/classes/${encodeURIComponent('../etc')}/examples`, png(shapePng('circle')));
    assert.equal(r.status, 400);
    assert.match((await json(r)).message, /invalid class name/);
    r = await fetch(`${s.url}/api/classes/${'x'.repeat(65)}/examples`, png(shapePng('circle')));
    assert.equal(r.status, 400);
    r = await fetch(`${s.url}/api/predict`, { method: 'POST', body: 'abc', headers: { 'content-type': 'multipart/form-data' } });
    assert.equal(r.status, 400);
    assert.match((await json(r)).message, /malformed multipart/);
    r = await fetch(`${s.url}/api/classes/keep/examples`, {
      method: 'POST',
      body: '------x\r\nContent-Disposition: form-data; name="image"; filename="a.png"\r\n\r\nabc',
      headers: { 'content-type': 'multipart/form-data; boundary=----x' },
    });
    assert.equal(r.status, 400, 'a truncated multipart body');
    r = await fetch(`${s.url}/api/predict`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
    assert.equal(r.status, 415);
    r = await fetch(`${s.url}/api/predict?top=0`, png(shapePng('circle')));
    assert.equal(r.status, 400);
    assert.match((await json(r)).message, /top must be/);
    r = await fetch(`${s.url}/api/examples/abc`, { method: 'DELETE' });
    assert.equal(r.status, 400);
    const onlyA = multipartBody([{ field: 'a', filename: 'a.png', type: 'image/png', data: shapePng('circle') }]);
    r = await fetch(`${s.url}/api/verify`, { method: 'POST', body: onlyA.body, headers: { 'content-type': onlyA.contentType } });
    assert.equal(r.status, 400);
    assert.match((await json(r)).message, /'a' and 'b'/);
    r = await fetch(`${s.url}/api/gallery/import`, { method: 'POST', body: '{"format":"nope"}', headers: { 'content-type': 'application/json' } });
    assert.equal(r.status, 400);
    assert.match((await json(r)).message, /not a gallery export/);
    r = await fetch(`${s.url}/api/gallery/import`, { method: 'POST', body: '{bad json', headers: { 'content-type': 'application/json' } });
    assert.equal(r.status, 400);

    const after = await json(await fetch(`${s.url}/api/gallery/export`));
    assert.deepEqual(after.classes, before.classes, 'no bad request changed the gallery');
  } finally {
    await s.close();
  }
});

test('writes need the bearer token when one is set; so do gallery reads; other origins are refused', async () => {
  assert.throws(() => checkBindPolicy('0.0.0.0', undefined), /FEWSHOT_TOKEN/);
  assert.doesNotThrow(() => checkBindPolicy('0.0.0.0', 'secret'));
  assert.doesNotThrow(() => checkBindPolicy('127.0.0.1', undefined));
  await assert.rejects(start('h4', { host: '0.0.0.0' }), /refusing to listen on 0\.0\.0\.0 without a token/);

  const s = await start('h4', { token: 's3cret-token' });
  try {
    const cases: [Record<string, string>, number][] = [
      [{}, 401],
      [{ authorization: 'Bearer wrong' }, 401],
      [{ authorization: 'Basic czNjcmV0LXRva2Vu' }, 401],
      [{ authorization: 'Bearer s3cret-token', origin: 'http://evil.example' }, 403],
    ];
    for (const [headers, status] of cases) {
      const r = await fetch(`${s.url}/api/classes/a/examples`, png(shapePng('circle'), headers));
      assert.equal(r.status, status, JSON.stringify(headers));
      assert.ok((await json(r)).message.length > 0);
    }
    const auth = { authorization: 'Bearer s3cret-token' };
    assert.equal((await fetch(`${s.url}/api/classes`)).status, 401, 'the listing is a protected read');
    assert.deepEqual(await json(await fetch(`${s.url}/api/classes`, { headers: auth })), []);
    const ok = await fetch(`${s.url}/api/classes/a/examples`, png(shapePng('circle'), { ...auth, origin: s.url }));
    assert.equal(ok.status, 201);
    assert.equal((await fetch(`${s.url}/api/classes/a`, { method: 'DELETE' })).status, 401);
    assert.equal((await fetch(`${s.url}/api/classes/a`, { method: 'DELETE', headers: { authorization: 'Bearer nope' } })).status, 401);
    assert.deepEqual(await json(await fetch(`${s.url}/api/classes`, { headers: auth })), [{ name: 'a', examples: 1 }]);
    assert.equal((await fetch(`${s.url}/api/predict`, png(shapePng('circle')))).status, 200, 'predict needs no token');
    assert.equal((await fetch(`${s.url}/api/classes/a`, { method: 'DELETE', headers: auth })).status, 200);
  } finally {
    await s.close();
  }
});

test('concurrent enrolments into one class all land, and the gallery survives a restart', async () => {
  let s = await start('h5');
  const n = 24;
  let ids: number[];
  try {
    const responses = await Promise.all(
      Array.from({ length: n }, (_, i) => fetch(`${s.url}/api/classes/same/examples`, png(shapePng((['circle', 'cross', 'zigzag'] as const)[i % 3], 56, i)))),
    );
    const bodies = await Promise.all(responses.map((r) => json(r)));
    assert.deepEqual(responses.map((r) => r.status), Array(n).fill(201));
    ids = bodies.map((b) => b.id);
    assert.equal(new Set(ids).size, n);
  } finally {
    await s.close();
  }
  s = await start('h5');
  try {
    const detail = await json(await fetch(`${s.url}/api/classes/same`));
    assert.deepEqual(detail.examples.map((e: { id: number }) => e.id).sort((a: number, b: number) => a - b), [...ids].sort((a, b) => a - b));
    const p = await json(await fetch(`${s.url}/api/predict`, png(shapePng('zigzag', 56, 2))));
    assert.equal(p.predictions[0].class, 'same');
    assert.ok(Math.abs(p.predictions[0].score) < 1e-5);
    assert.equal(await s.gallery.integrityCheck(), 'ok');

    // Export from this gallery, import into a fresh one over HTTP.
    const exported = await json(await fetch(`${s.url}/api/gallery/export`));
    const t = await start('h5-copy');
    try {
      const r = await fetch(`${t.url}/api/gallery/import`, { method: 'POST', body: JSON.stringify(exported), headers: { 'content-type': 'application/json' } });
      assert.deepEqual(await json(r), { classes: 1, examples: n });
      assert.deepEqual(await json(await fetch(`${t.url}/api/classes`)), [{ name: 'same', examples: n }]);
    } finally {
      await t.close();
    }
  } finally {
    await s.close();
  }
});

test('pair models score with their head and use HNSW once the gallery is large', async () => {
  const s = await startService({ modelDir: pairModelDir, home: join(root, 'h6'), port: 0, buildApp: false, log: () => {}, annThreshold: 8 });
  try {
    const shapes = ['circle', 'cross', 'triangle', 'bars', 'zigzag'] as const;
    for (let i = 0; i < 10; i++) {
      const r = await fetch(`${s.url}/api/classes/${shapes[i % 5]}/examples`, png(shapePng(shapes[i % 5], 56, i)));
      assert.equal(r.status, 201);
    }
    await s.gallery.settled(); // the graph is built in a worker thread
    assert.equal(s.gallery.searchKind, 'hnsw');
    const p = await json(await fetch(`${s.url}/api/predict`, png(shapePng('triangle', 56, 2))));
    assert.equal(p.search, 'hnsw');
    assert.equal(p.threshold, 0.5);
    // HNSW candidates re-scored by the head must equal brute-force head scoring (the gallery is
    // smaller than the candidate count, so every example is a candidate).
    const { decodeImage } = await import('../../src/data/image.js');
    const [q] = s.model.scorer.embedImages([decodeImage(shapePng('triangle', 56, 2), 'q')]);
    const best = new Map<string, number>();
    for (const e of s.gallery.snapshot(100)) {
      const score = s.model.scorer.similarity(q!, [e.embedding])[0]!;
      best.set(e.className, Math.max(best.get(e.className) ?? -Infinity, score));
    }
    const expected = [...best.entries()].sort((a, b) => b[1] - a[1]);
    assert.equal(p.predictions[0].class, expected[0]![0]);
    p.predictions.forEach((pr: { class: string; score: number }) => assert.ok(Math.abs(pr.score - best.get(pr.class)!) < 1e-6));
    assert.ok(p.predictions[0].score > 0 && p.predictions[0].score <= 1);
    assert.equal(p.unknown, p.predictions[0].score < 0.5);
    assert.ok(p.predictions.every((q: { score: number }, i: number) => i === 0 || q.score <= p.predictions[i - 1].score), 'ranked best first');
  } finally {
    await s.close();
  }
});
