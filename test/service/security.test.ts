import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { selectBackend } from '../../src/backend/select.js';
import { encodePng } from '../../src/data/image.js';
import { galleryDir } from '../../src/service/gallery.js';
import { lockFolder } from '../../src/service/home_lock.js';
import { readImageHeader } from '../../src/service/image_header.js';
import { legacyModelFingerprint, modelFingerprint } from '../../src/service/model.js';
import { startService, type RunningService } from '../../src/service/service.js';
import { multipartBody, saveTestModel, shapePng } from './helpers.js';

let root: string;
let modelDir: string;

before(async () => {
  await selectBackend('cpu', { quiet: true });
  root = mkdtempSync(join(tmpdir(), 'fewshot-sec-'));
  modelDir = join(root, 'model');
  await saveTestModel(modelDir, 'distance');
});

after(() => rmSync(root, { recursive: true, force: true }));

async function start(home: string, extra: Partial<Parameters<typeof startService>[0]> = {}): Promise<RunningService> {
  return startService({ modelDir, home: join(root, home), port: 0, buildApp: false, log: () => {}, ...extra });
}

/** A raw HTTP request (fetch cannot set Host), resolving with status, headers and body. */
function raw(url: string, opts: { method?: string; path: string; headers?: Record<string, string>; body?: Buffer }): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, method: opts.method ?? 'GET', path: opts.path, headers: opts.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

test('Host allowlist: a DNS-rebinding name is refused on every route; loopback names and --allowed-host pass', async () => {
  const s = await start('host', { allowedHosts: ['fewshot.internal'] });
  try {
    const port = new URL(s.url).port;
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`, `fewshot.internal:${port}`, 'LOCALHOST']) {
      assert.equal((await raw(s.url, { path: '/healthz', headers: { host } })).status, 200, host);
    }
    // The attacker's page at http://rebind.attacker.example:PORT resolves to 127.0.0.1 after the rebinding.
    const evil = { host: `rebind.attacker.example:${port}` };
    for (const [method, path] of [['GET', '/api/classes'], ['GET', '/api/gallery/export'], ['DELETE', '/api/classes/x'], ['GET', '/healthz']]) {
      const r = await raw(s.url, { method, path, headers: evil });
      assert.equal(r.status, 403, `${method} ${path}`);
      assert.match(JSON.parse(r.body).message, /DNS rebinding/);
    }
    const enrol = await raw(s.url, { method: 'POST', path: '/api/classes/x/examples', headers: { ...evil, 'content-type': 'image/png' }, body: Buffer.from(shapePng('circle')) });
    assert.equal(enrol.status, 403);
    assert.equal(s.gallery.size, 0);
    assert.equal((await raw(s.url, { path: '/healthz', headers: { host: 'a:b:c' } })).status, 400, 'a malformed Host');
  } finally {
    await s.close();
  }
});

test('an unauthenticated huge body is refused from its headers, without being read or parsed', async () => {
  const s = await start('huge', { token: 'w-token' });
  try {
    const u = new URL(s.url);
    // Declare 200 MiB of JSON, send 64 KiB, and wait: the answer must come without the rest.
    const status = await new Promise<{ status: number; ms: number; connection: string | undefined }>((resolve, reject) => {
      const t0 = performance.now();
      const req = request({ host: u.hostname, port: u.port, method: 'POST', path: '/api/gallery/import', headers: { 'content-type': 'application/json', 'content-length': String(200 * 1024 * 1024) } }, (res) => {
        res.resume();
        resolve({ status: res.statusCode!, ms: performance.now() - t0, connection: res.headers.connection });
        req.destroy();
      });
      req.on('error', (e) => ((e as NodeJS.ErrnoException).code === 'ECONNRESET' || (e as NodeJS.ErrnoException).code === 'EPIPE' ? undefined : reject(e)));
      req.write(Buffer.alloc(64 * 1024, 0x20));
    });
    assert.equal(status.status, 401);
    assert.equal(status.connection, 'close', 'the unread body is dropped with the connection');
    assert.ok(status.ms < 2000, `answered in ${status.ms.toFixed(0)} ms`);
    // The same for an image upload with a wrong token.
    const r = await fetch(`${s.url}/api/classes/a/examples`, { method: 'POST', body: new Uint8Array(4 * 1024 * 1024), headers: { 'content-type': 'image/png', authorization: 'Bearer wrong' } });
    assert.equal(r.status, 401);
    assert.equal((await fetch(`${s.url}/healthz`)).status, 200);
  } finally {
    await s.close();
  }
});

test('FEWSHOT_READ_TOKEN protects export, snapshot, embed and the listings; the write token also reads', async () => {
  const s = await start('read', { token: 'w-token', readToken: 'r-token' });
  try {
    const W = { authorization: 'Bearer w-token' };
    const R = { authorization: 'Bearer r-token' };
    assert.equal((await fetch(`${s.url}/api/classes/c/examples`, { method: 'POST', body: shapePng('circle'), headers: { 'content-type': 'image/png', ...W } })).status, 201);
    assert.equal((await fetch(`${s.url}/api/classes/c/examples`, { method: 'POST', body: shapePng('circle'), headers: { 'content-type': 'image/png', ...R } })).status, 401, 'the read token cannot write');
    const reads: [string, RequestInit][] = [
      ['/api/classes', {}],
      ['/api/classes/c', {}],
      ['/api/gallery/export', {}],
      ['/api/gallery/snapshot', {}],
      ['/api/embed', { method: 'POST', body: shapePng('cross'), headers: { 'content-type': 'image/png' } }],
    ];
    for (const [path, init] of reads) {
      assert.equal((await fetch(`${s.url}${path}`, init)).status, 401, `${path} without a token`);
      assert.equal((await fetch(`${s.url}${path}`, { ...init, headers: { ...(init.headers as object), authorization: 'Bearer nope' } })).status, 401, `${path} wrong token`);
      assert.equal((await fetch(`${s.url}${path}`, { ...init, headers: { ...(init.headers as object), ...R } })).status, 200, `${path} read token`);
      assert.equal((await fetch(`${s.url}${path}`, { ...init, headers: { ...(init.headers as object), ...W } })).status, 200, `${path} write token`);
    }
    for (const path of ['/healthz', '/metrics', '/api/model', '/openapi.json', '/model/model.json']) assert.equal((await fetch(`${s.url}${path}`)).status, 200, `${path} is public`);
    assert.equal((await fetch(`${s.url}/api/predict`, { method: 'POST', body: shapePng('circle'), headers: { 'content-type': 'image/png' } })).status, 200, 'predict is public');
    const model = await (await fetch(`${s.url}/api/model`)).json();
    assert.equal(model.readNeedsToken, true);
  } finally {
    await s.close();
  }
});

test('export is streamed in chunks and equals the gallery', async () => {
  const s = await start('export');
  try {
    for (const [name, shape] of [['b', 'bars'], ['a', 'circle'], ['a', 'cross']] as const) {
      assert.equal((await fetch(`${s.url}/api/classes/${name}/examples`, { method: 'POST', body: shapePng(shape), headers: { 'content-type': 'image/png' } })).status, 201);
    }
    await fetch(`${s.url}/api/examples/3`, { method: 'DELETE' }); // 'a' keeps one, ids stay sparse
    const r = await raw(s.url, { path: '/api/gallery/export' });
    assert.equal(r.status, 200);
    assert.equal(r.headers['transfer-encoding'], 'chunked', 'streamed, not one buffered string');
    const doc = JSON.parse(r.body);
    assert.deepEqual(doc.classes.map((c: { name: string; examples: unknown[] }) => [c.name, c.examples.length]), [['a', 1], ['b', 1]]);
    assert.deepEqual(doc.classes[1].examples[0].embedding, Array.from(s.gallery.embedding(1)!));
  } finally {
    await s.close();
  }
});

test('declared image sizes are checked from the header before decoding', async () => {
  const s = await start('pixels', { limits: { maxImageSide: 4096, maxImagePixels: 1_000_000 } });
  try {
    // A valid 2000x2000 PNG header (4 MP) over garbage: refused as too large, not as corrupt.
    const png = Buffer.from(encodePng({ width: 8, height: 8, channels: 1, data: new Uint8Array(64) }));
    png.writeUInt32BE(2000, 16);
    png.writeUInt32BE(2000, 20);
    assert.deepEqual(readImageHeader(png), { format: 'png', width: 2000, height: 2000 });
    let r = await fetch(`${s.url}/api/predict`, { method: 'POST', body: png, headers: { 'content-type': 'image/png' } });
    assert.equal(r.status, 413);
    assert.match((await r.json()).message, /2000x2000 = 4000000 pixels; the limit is 1000000/);
    // JPEG: SOF0 declaring 60000x60000 after an APP0 segment, no image data at all.
    const jpeg = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x04, 0x00, 0x00, 0xff, 0xc0, 0x00, 0x0b, 0x08, 0xea, 0x60, 0xea, 0x60, 0x01, 0x01, 0x11, 0x00]);
    assert.deepEqual(readImageHeader(jpeg), { format: 'jpeg', width: 60000, height: 60000 });
    r = await fetch(`${s.url}/api/predict`, { method: 'POST', body: jpeg, headers: { 'content-type': 'image/jpeg' } });
    assert.equal(r.status, 413);
    assert.match((await r.json()).message, /60000x60000/);
    r = await fetch(`${s.url}/api/predict`, { method: 'POST', body: Buffer.from([0xff, 0xd8, 0xff, 0xda, 0, 2]), headers: { 'content-type': 'image/jpeg' } });
    assert.equal(r.status, 400, 'a JPEG without a frame header');
    // Per request: 16 images of 0.25 MP each pass one by one but not together (limit 4x1 MP... here 1 MP).
    const quarter = Buffer.from(encodePng({ width: 500, height: 500, channels: 1, data: new Uint8Array(250_000).fill(255) }));
    const form = multipartBody(Array.from({ length: 5 }, (_, i) => ({ field: 'image', filename: `${i}.png`, type: 'image/png', data: quarter })));
    const s2 = await start('pixels2', { limits: { maxImagePixels: 1_000_000, maxRequestPixels: 1_000_000 } });
    try {
      r = await fetch(`${s2.url}/api/embed`, { method: 'POST', body: form.body, headers: { 'content-type': form.contentType } });
      assert.equal(r.status, 413);
      assert.match((await r.json()).message, /more than 1000000 pixels together/);
    } finally {
      await s2.close();
    }
  } finally {
    await s.close();
  }
});

test('the image work queue is bounded: 503 with Retry-After when full, and nothing leaks', async () => {
  const s = await start('queue', { limits: { maxQueue: 2 } });
  try {
    const u = new URL(s.url);
    // Two uploads that never finish hold both slots.
    const holders = [0, 1].map(
      () =>
        new Promise<ReturnType<typeof request>>((resolve) => {
          const req = request({ host: u.hostname, port: u.port, method: 'POST', path: '/api/predict', headers: { 'content-type': 'image/png', 'content-length': '100000' } });
          req.on('error', () => {});
          req.write(Buffer.alloc(10));
          setTimeout(() => resolve(req), 150);
        }),
    );
    const reqs = await Promise.all(holders);
    const r = await fetch(`${s.url}/api/predict`, { method: 'POST', body: shapePng('circle'), headers: { 'content-type': 'image/png' } });
    assert.equal(r.status, 503);
    assert.equal(r.headers.get('retry-after'), '1');
    assert.match((await r.json()).message, /busy/);
    assert.equal((await fetch(`${s.url}/healthz`)).status, 200, 'other routes still answer');
    for (const q of reqs) q.destroy();
    await new Promise((res) => setTimeout(res, 200));
    const ok = await fetch(`${s.url}/api/predict`, { method: 'POST', body: shapePng('circle'), headers: { 'content-type': 'image/png' } });
    assert.equal(ok.status, 200, 'slots are released when clients go away');
    assert.match(await (await fetch(`${s.url}/metrics`)).text(), /fewshot_image_requests_rejected_total 1/);
  } finally {
    await s.close();
  }
});

test('health and metrics never read the store; an enrolment whose row committed never answers 500', async () => {
  const logs: string[] = [];
  const s = await start('counts', { log: (l) => logs.push(l) });
  try {
    await fetch(`${s.url}/api/classes/a/examples`, { method: 'POST', body: shapePng('circle'), headers: { 'content-type': 'image/png' } });
    const store = s.gallery.store as unknown as Record<string, unknown>;
    const saved = { ...Object.fromEntries(['examplesAfter', 'allClassNames', 'examplesOf', 'example'].map((k) => [k, store[k]])) };
    for (const k of Object.keys(saved)) store[k] = () => assert.fail(`/healthz or /metrics called store.${k}`);
    const h = await (await fetch(`${s.url}/healthz`)).json();
    assert.deepEqual(h.gallery, { classes: 1, examples: 1, search: 'exact', store: 'sqlite' });
    assert.match(await (await fetch(`${s.url}/metrics`)).text(), /fewshot_gallery_examples 1/);
    Object.assign(store, saved);

    // The index fails after the commit: the answer is still 201 with the id, and the example is stored.
    const index = (s.gallery as unknown as { index: { add: (...a: unknown[]) => void } }).index;
    const add = index.add;
    index.add = () => {
      throw new Error('simulated index failure');
    };
    const r = await fetch(`${s.url}/api/classes/b/examples`, { method: 'POST', body: shapePng('cross'), headers: { 'content-type': 'image/png' } });
    index.add = add;
    assert.equal(r.status, 201);
    const { id } = await r.json();
    assert.equal((await s.gallery.example(id))?.class, 'b');
    assert.ok(logs.some((l) => /missed a committed change/.test(l)), logs.join('\n'));
    await s.gallery.settled();
    assert.ok(s.gallery.embedding(id), 'the rebuild brought the index back in line');
  } finally {
    await s.close();
  }
});

test('a second server on the same home exits with a clear message; a stale lock is taken over', async () => {
  const s = await start('lock');
  try {
    await assert.rejects(start('lock'), /in use by another fewshot process \(pid \d+/);
  } finally {
    await s.close();
  }
  // A lock left by a process that no longer runs.
  const dir = galleryDir(join(root, 'lock'), s.model.id);
  const dead = spawn(process.execPath, ['-e', '0']);
  const deadPid = await new Promise<number>((resolve) => dead.on('exit', () => resolve(dead.pid!)));
  writeFileSync(join(dir, 'lock'), JSON.stringify({ pid: deadPid, host: (await import('node:os')).hostname(), started: '1', since: '2026-01-01T00:00:00Z' }));
  const t = await start('lock');
  try {
    assert.equal(JSON.parse(readFileSync(join(dir, 'lock'), 'utf8')).pid, process.pid);
  } finally {
    await t.close();
  }
  const l = lockFolder(dir);
  assert.throws(() => lockFolder(dir), /in use/);
  l.release();
  lockFolder(dir).release();
});

test('the model id ignores the threshold: recalibrating keeps the gallery; galleries under the old id are adopted', async () => {
  const dir = join(root, 'recal-model');
  cpSync(modelDir, dir, { recursive: true });
  const before = modelFingerprint(dir);
  const legacy = legacyModelFingerprint(dir);
  // Galleries made by the previous version live under the legacy id.
  const home = join(root, 'recal');
  const s0 = await startService({ modelDir: dir, home, port: 0, buildApp: false, log: () => {} });
  await fetch(`${s0.url}/api/classes/kept/examples`, { method: 'POST', body: shapePng('circle'), headers: { 'content-type': 'image/png' } });
  await s0.close();
  mkdirSync(join(home, 'galleries'), { recursive: true });
  cpSync(galleryDir(home, before), galleryDir(home, legacy), { recursive: true });
  rmSync(galleryDir(home, before), { recursive: true });

  // The new version moves it to the new id on start...
  const logs: string[] = [];
  const s1 = await startService({ modelDir: dir, home, port: 0, buildApp: false, log: (l) => logs.push(l) });
  try {
    assert.equal(s1.model.id, before);
    assert.deepEqual(s1.gallery.classes(), [{ name: 'kept', examples: 1 }]);
    assert.ok(logs.some((l) => /moved .* to /.test(l)), logs.join('\n'));
  } finally {
    await s1.close();
  }

  // ...and recalibrating afterwards keeps it.
  const metaFile = join(dir, 'fewshot.json');
  const meta = JSON.parse(readFileSync(metaFile, 'utf8'));
  writeFileSync(metaFile, JSON.stringify({ ...meta, threshold: { value: -3.5, source: 'eval-verify --calibrate' } }, null, 2));
  assert.equal(modelFingerprint(dir), before, 'a new threshold keeps the id');
  writeFileSync(metaFile, JSON.stringify({ ...meta, preprocess: { ...meta.preprocess, invert: false } }));
  assert.notEqual(modelFingerprint(dir), before, 'other preprocessing changes it');
  writeFileSync(metaFile, JSON.stringify({ ...meta, threshold: { value: -3.5, source: 'calibrated' } }));
  const s = await startService({ modelDir: dir, home, port: 0, buildApp: false, log: () => {} });
  try {
    assert.equal(s.model.id, before);
    assert.deepEqual(s.gallery.classes(), [{ name: 'kept', examples: 1 }]);
    assert.equal((await s.gallery.examples('kept'))!.length, 1);
  } finally {
    await s.close();
  }
});
