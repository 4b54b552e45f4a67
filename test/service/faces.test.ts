/**
 * The service with the face model (models/faces): enrolment from photos, answers that carry the
 * face box used, 422 "no face found" that changes nothing, and every face with ?faces=all.
 * Photos: face-api's own demo/sample1.jpg (three people), from node_modules.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { selectBackend } from '../../src/backend/select.js';
import { decodeImage, encodePng, type Image } from '../../src/data/image.js';
import { resize } from '../../src/data/preprocess.js';
import { FacePipeline, type FaceBox } from '../../src/applications/faces/pipeline.js';
import { startService, type RunningService } from '../../src/service/service.js';
import { bytes, cropAroundFace, faceDemoPhoto, multipartBody } from './helpers.js';

const MODEL_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'models', 'faces');

let root: string;
let s: RunningService;
let group: Image;
let boxes: FaceBox[];

const png = (img: Image) => bytes(encodePng(img));
const post = (body: Uint8Array<ArrayBuffer>): RequestInit => ({ method: 'POST', body, headers: { 'content-type': 'image/png' } });

before(async () => {
  await selectBackend('auto', { quiet: true });
  root = mkdtempSync(join(tmpdir(), 'fewshot-faces-api-'));
  const full = decodeImage(readFileSync(faceDemoPhoto()), 'sample1.jpg');
  group = resize(full, full.width / 2, full.height / 2);
  boxes = (await (await FacePipeline.load()).alignFaces(group)).map((f) => f.box);
  s = await startService({ modelDir: MODEL_DIR, home: join(root, 'home'), port: 0, buildApp: false, log: () => {} });
});

after(async () => {
  await s?.close();
  rmSync(root, { recursive: true, force: true });
});

test('enrol from photos, predict and verify answer with the face box; no face -> 422 and nothing changes', async () => {
  const model = await (await fetch(`${s.url}/api/model`)).json();
  assert.equal(model.meta.encoder, 'face');
  // Person "ann" (the largest face) from two differently framed photos, "bob" from one.
  const form = multipartBody([
    { field: 'image', filename: 'ann1.png', type: 'image/png', data: png(cropAroundFace(group, boxes[0]!, 2)) },
    { field: 'image', filename: 'ann2.png', type: 'image/png', data: png(cropAroundFace(group, boxes[0]!, 2.6, 0.15)) },
  ]);
  let r = await fetch(`${s.url}/api/classes/ann/examples`, { method: 'POST', body: form.body, headers: { 'content-type': form.contentType } });
  assert.equal(r.status, 201);
  const ann = await r.json();
  assert.equal(ann.ids.length, 2);
  assert.equal(ann.faces.length, 2);
  assert.ok(ann.faces[0].box.width > 20);
  assert.equal((await fetch(`${s.url}/api/classes/bob/examples`, post(png(cropAroundFace(group, boxes[1]!, 2))))).status, 201);

  // A batch with one faceless photo: 422, and neither photo is enrolled.
  const wall: Image = { width: 200, height: 150, channels: 3, data: new Uint8Array(200 * 150 * 3).fill(180) };
  const bad = multipartBody([
    { field: 'image', filename: 'cid.png', type: 'image/png', data: png(cropAroundFace(group, boxes[2]!, 2)) },
    { field: 'image', filename: 'wall.png', type: 'image/png', data: png(wall) },
  ]);
  r = await fetch(`${s.url}/api/classes/cid/examples`, { method: 'POST', body: bad.body, headers: { 'content-type': bad.contentType } });
  assert.equal(r.status, 422);
  assert.match(JSON.stringify(await r.json()), /no face found in 'wall.png'/);
  assert.deepEqual(await (await fetch(`${s.url}/api/classes`)).json(), [{ name: 'ann', examples: 2 }, { name: 'bob', examples: 1 }]);
  r = await fetch(`${s.url}/api/predict`, post(png(wall)));
  assert.equal(r.status, 422);

  // The group photo: the largest face by default, with its box in the photo's pixels.
  const p = await (await fetch(`${s.url}/api/predict`, post(png(group)))).json();
  assert.equal(p.predictions[0].class, 'ann');
  assert.equal(p.unknown, false);
  assert.ok(Math.abs(p.face.box.x - boxes[0]!.x) < 2 && Math.abs(p.face.box.width - boxes[0]!.width) < 2, JSON.stringify(p.face));

  // ?faces=all: every face, largest first, each with its ranking; the third person is unknown.
  const all = await (await fetch(`${s.url}/api/predict?faces=all`, post(png(group)))).json();
  assert.equal(all.faces.length, 3);
  assert.deepEqual(all.faces.map((f: { predictions: { class: string }[]; unknown: boolean }) => (f.unknown ? 'unknown' : f.predictions[0]!.class)), ['ann', 'bob', 'unknown']);
  assert.ok(all.faces.every((f: { face: { box: FaceBox } }) => f.face.box.width > 0));
  assert.equal((await fetch(`${s.url}/api/predict?faces=some`, post(png(group)))).status, 400);

  const v = multipartBody([
    { field: 'a', filename: 'a.png', type: 'image/png', data: png(cropAroundFace(group, boxes[0]!, 2)) },
    { field: 'b', filename: 'b.png', type: 'image/png', data: png(group) },
  ]);
  const ver = await (await fetch(`${s.url}/api/verify`, { method: 'POST', body: v.body, headers: { 'content-type': v.contentType } })).json();
  assert.equal(ver.same, true);
  assert.ok(ver.faces.a.box && ver.faces.b.box);
});

test('the page gets face-api\'s weights and the wasm binaries from this server, and nothing else from node_modules', async () => {
  const model = await (await fetch(`${s.url}/api/model`)).json();
  assert.equal(model.faceWeightsUrl, '/face-api/model/');
  const manifest = await fetch(`${s.url}/face-api/model/ssd_mobilenetv1_model-weights_manifest.json`);
  assert.equal(manifest.status, 200);
  const [group0] = (await manifest.json()) as { paths: string[] }[];
  const shard = await fetch(`${s.url}/face-api/model/${group0!.paths[0]}`);
  assert.equal(shard.status, 200);
  assert.ok((await shard.arrayBuffer()).byteLength > 1e6);
  for (const bad of ['age_gender_model.bin', '..%2Fpackage.json', 'face_recognition_model.bin.map']) {
    assert.equal((await fetch(`${s.url}/face-api/model/${bad}`)).status, 404, bad);
  }
  const wasm = await fetch(`${s.url}/tfjs-wasm/tfjs-backend-wasm-simd.wasm`);
  assert.equal(wasm.status, 200);
  assert.equal(wasm.headers.get('content-type'), 'application/wasm');
  assert.equal((await fetch(`${s.url}/tfjs-wasm/tfjs-backend-wasm.js`)).status, 404);
});
