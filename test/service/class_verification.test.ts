import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { selectBackend } from '../../src/backend/select.js';
import { startService, type RunningService } from '../../src/service/service.js';
import { writeWriterDependentSettings } from '../../src/verification/calibration.js';
import { saveTestModel, shapePng, type Shape } from './helpers.js';

let root: string;
let modelDir: string;
let calibratedDir: string;

before(async () => {
  await selectBackend('cpu', { quiet: true });
  root = mkdtempSync(join(tmpdir(), 'fewshot-classverify-'));
  modelDir = join(root, 'model');
  calibratedDir = join(root, 'calibrated');
  await saveTestModel(modelDir, 'distance');
  await saveTestModel(calibratedDir, 'distance');
  writeWriterDependentSettings(calibratedDir, { threshold: { value: 0, source: 'test' }, l2: 0.1 });
});

after(() => rmSync(root, { recursive: true, force: true }));

const png = (body: Uint8Array<ArrayBuffer>): RequestInit => ({ method: 'POST', body, headers: { 'content-type': 'image/png' } });

async function enrol(s: RunningService, shape: Shape, seeds: number[]): Promise<void> {
  for (const seed of seeds) {
    const r = await fetch(`${s.url}/api/classes/${shape}/examples`, png(shapePng(shape, 56, seed)));
    assert.equal(r.status, 201);
  }
}

test('verify against one class: writer-dependent and distance (default) decisions', async () => {
  const s = await startService({ modelDir: calibratedDir, home: join(root, 'h1'), port: 0, buildApp: false, log: () => {}, threshold: -0.5 });
  try {
    await enrol(s, 'circle', [1, 2, 3]);
    let r = await fetch(`${s.url}/api/classes/circle/verify?decision=wd`, png(shapePng('circle', 56, 9)));
    assert.equal(r.status, 409);
    assert.match((await r.json()).message, /no other class has any: enrol other classes, or ask for decision=distance/);
    for (const shape of ['cross', 'bars', 'triangle', 'zigzag'] as const) await enrol(s, shape, [1, 2, 3]);
    const before = await (await fetch(`${s.url}/api/classes`)).json();

    const own = await (await fetch(`${s.url}/api/classes/circle/verify?decision=wd`, png(shapePng('circle', 56, 9)))).json();
    assert.equal(own.decision, 'wd');
    assert.equal(own.references, 3);
    assert.equal(own.negatives, 12);
    assert.equal(own.threshold, 0);
    assert.equal(own.same, own.score >= 0);
    const other = await (await fetch(`${s.url}/api/classes/cross/verify?decision=wd`, png(shapePng('circle', 56, 9)))).json();
    assert.ok(own.score > other.score, `circle as circle ${own.score} vs as cross ${other.score}`);
    // An enrolled image itself is its class's, by either decision.
    const enrolled = await (await fetch(`${s.url}/api/classes/zigzag/verify?decision=wd`, png(shapePng('zigzag', 56, 2)))).json();
    assert.equal(enrolled.same, true);

    const dist = await (await fetch(`${s.url}/api/classes/circle/verify`, png(shapePng('circle', 56, 1)))).json();
    assert.equal(dist.decision, 'distance');
    assert.equal(dist.threshold, -0.5);
    assert.equal(dist.negatives, undefined);
    assert.equal(dist.same, dist.score >= -0.5);

    r = await fetch(`${s.url}/api/classes/circle/verify?decision=svm`, png(shapePng('circle')));
    assert.equal(r.status, 400);
    assert.match((await r.json()).message, /decision must be distance or wd, got 'svm'/);
    r = await fetch(`${s.url}/api/classes/square/verify`, png(shapePng('circle')));
    assert.equal(r.status, 404);
    assert.match((await r.json()).message, /no class 'square'/);
    r = await fetch(`${s.url}/api/classes/circle/verify`, png(new Uint8Array(Buffer.from('not an image'))));
    assert.equal(r.status, 400);
    // Verifying writes nothing.
    assert.deepEqual(await (await fetch(`${s.url}/api/classes`)).json(), before);
  } finally {
    await s.close();
  }
});

test('a model without calibrated thresholds answers with scores and no verdict', async () => {
  const s = await startService({ modelDir, home: join(root, 'h2'), port: 0, buildApp: false, log: () => {} });
  try {
    await enrol(s, 'circle', [1, 2]);
    await enrol(s, 'cross', [1, 2]);
    const d = await (await fetch(`${s.url}/api/classes/circle/verify`, png(shapePng('circle', 56, 5)))).json();
    assert.equal(d.decision, 'distance');
    assert.equal(d.threshold, null);
    assert.equal(d.same, null);
    const w = await (await fetch(`${s.url}/api/classes/circle/verify?decision=wd`, png(shapePng('circle', 56, 5)))).json();
    assert.equal(w.decision, 'wd');
    assert.equal(w.same, null);
    assert.ok(Number.isFinite(w.score));
  } finally {
    await s.close();
  }
});
