import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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

test('a class enrolled with ?decision=wd is verified with it by default, after a restart and through export/import', async () => {
  const home = join(root, 'h3');
  const start = (h: string) => startService({ modelDir: calibratedDir, home: h, port: 0, buildApp: false, log: () => {}, threshold: -0.5 });
  let s = await start(home);
  try {
    // A bad decision is refused before anything is written.
    let r = await fetch(`${s.url}/api/classes/circle/examples?decision=svm`, png(shapePng('circle', 56, 1)));
    assert.equal(r.status, 400);
    assert.match((await r.json()).message, /decision must be distance or wd, got 'svm'/);
    assert.deepEqual(await (await fetch(`${s.url}/api/classes`)).json(), []);

    r = await fetch(`${s.url}/api/classes/circle/examples?decision=wd`, png(shapePng('circle', 56, 1)));
    assert.equal(r.status, 201);
    await enrol(s, 'circle', [2, 3]); // more examples, no decision: the class keeps wd
    for (const shape of ['cross', 'bars'] as const) await enrol(s, shape, [1, 2, 3]);
    assert.equal((await (await fetch(`${s.url}/api/classes/circle`)).json()).decision, 'wd');
    assert.equal((await (await fetch(`${s.url}/api/classes/cross`)).json()).decision, null);

    const byClass = await (await fetch(`${s.url}/api/classes/circle/verify`, png(shapePng('circle', 56, 9)))).json();
    assert.equal(byClass.decision, 'wd');
    assert.equal(byClass.decisionFrom, 'class');
    assert.equal(byClass.negatives, 6);
    const asked = await (await fetch(`${s.url}/api/classes/circle/verify?decision=distance`, png(shapePng('circle', 56, 9)))).json();
    assert.deepEqual([asked.decision, asked.decisionFrom], ['distance', 'request']);
    const other = await (await fetch(`${s.url}/api/classes/cross/verify`, png(shapePng('circle', 56, 9)))).json();
    assert.deepEqual([other.decision, other.decisionFrom], ['distance', 'default']);
  } finally {
    await s.close();
  }
  // The decision is in the gallery: a restart keeps it.
  s = await start(home);
  let exported: unknown;
  try {
    const again = await (await fetch(`${s.url}/api/classes/circle/verify`, png(shapePng('circle', 56, 9)))).json();
    assert.deepEqual([again.decision, again.decisionFrom], ['wd', 'class']);
    exported = await (await fetch(`${s.url}/api/gallery/export`)).json();
    const classes = (exported as { classes: { name: string; decision?: string }[] }).classes;
    assert.deepEqual(classes.map((c) => [c.name, c.decision]), [['bars', undefined], ['circle', 'wd'], ['cross', undefined]]);
    // Enrolling with another decision replaces it.
    assert.equal((await fetch(`${s.url}/api/classes/circle/examples?decision=distance`, png(shapePng('circle', 56, 4)))).status, 201);
    assert.equal((await (await fetch(`${s.url}/api/classes/circle`)).json()).decision, 'distance');
  } finally {
    await s.close();
  }
  // An import restores it; an export naming an unknown decision is refused whole.
  s = await start(join(root, 'h4'));
  try {
    const bad = structuredClone(exported) as { classes: { name: string; decision?: string }[] };
    bad.classes[0]!.decision = 'svm';
    let r = await fetch(`${s.url}/api/gallery/import`, { method: 'POST', body: JSON.stringify(bad), headers: { 'content-type': 'application/json' } });
    assert.equal(r.status, 400);
    assert.match((await r.json()).message, /class 'bars': decision must be distance or wd, got "svm"/);
    assert.deepEqual(await (await fetch(`${s.url}/api/classes`)).json(), []);
    r = await fetch(`${s.url}/api/gallery/import`, { method: 'POST', body: JSON.stringify(exported), headers: { 'content-type': 'application/json' } });
    assert.equal(r.status, 200);
    assert.equal((await (await fetch(`${s.url}/api/classes/circle`)).json()).decision, 'wd');
    assert.equal((await (await fetch(`${s.url}/api/classes/bars`)).json()).decision, null);
  } finally {
    await s.close();
  }
});

test("a model's own decision (fewshot.json `decision`) applies when neither the request nor the class names one", async () => {
  const withDecision = (dir: string, decision: string) => {
    cpSync(calibratedDir, dir, { recursive: true });
    const file = join(dir, 'fewshot.json');
    writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(file, 'utf8')), decision }));
  };
  const wdModel = join(root, 'model-wd');
  withDecision(wdModel, 'wd');
  const s = await startService({ modelDir: wdModel, home: join(root, 'h5'), port: 0, buildApp: false, log: () => {}, threshold: -0.5 });
  try {
    for (const shape of ['circle', 'cross', 'bars'] as const) await enrol(s, shape, [1, 2, 3]);
    const r = await fetch(`${s.url}/api/classes/triangle/examples?decision=distance`, png(shapePng('triangle', 56, 1)));
    assert.equal(r.status, 201);
    const byModel = await (await fetch(`${s.url}/api/classes/circle/verify`, png(shapePng('circle', 56, 9)))).json();
    assert.deepEqual([byModel.decision, byModel.decisionFrom, byModel.threshold], ['wd', 'model', 0]);
    const byClass = await (await fetch(`${s.url}/api/classes/triangle/verify`, png(shapePng('circle', 56, 9)))).json();
    assert.deepEqual([byClass.decision, byClass.decisionFrom], ['distance', 'class']);
  } finally {
    await s.close();
  }
  const badModel = join(root, 'model-bad-decision');
  withDecision(badModel, 'svm');
  await assert.rejects(
    startService({ modelDir: badModel, home: join(root, 'h6'), port: 0, buildApp: false, log: () => {} }),
    /'decision' must be one of distance, wd, got "svm"/,
  );
});
