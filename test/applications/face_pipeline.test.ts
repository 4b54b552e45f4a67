/**
 * The face pipeline on face-api's shipped weights: detection, alignment, descriptors, the face
 * model directory, and the bad inputs a photo upload can be. Photos come from the package's own
 * demo/ folder (in node_modules, so the test runs without ../shared).
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import jpeg from 'jpeg-js';
import { selectBackend } from '../../src/backend/select.js';
import { ImageDataset, loadImageDataset } from '../../src/data/dataset.js';
import { decodeImage, encodePng, type Image } from '../../src/data/image.js';
import { applyOrientation, jpegOrientation } from '../../src/data/exif.js';
import { resize } from '../../src/data/preprocess.js';
import { NoFaceFoundError } from '../../src/inference/embedder.js';
import { loadScorer } from '../../src/inference/load.js';
import { ALIGNED_FACE_SIZE, FacePipeline } from '../../src/applications/faces/pipeline.js';
import { FACE_ENCODER } from '../../src/applications/faces/model.js';
import { trainFaceAdapter } from '../../src/applications/faces/adapter.js';
import { tempDir, writeFiles } from './helpers.js';

const MODEL_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'models', 'faces');
const demo = (k: number) => join(dirname(createRequire(import.meta.url).resolve('@vladmandic/face-api/package.json')), 'demo', `sample${k}.jpg`);

let pipeline: FacePipeline;
let group: Image; // sample1: three people
before(async () => {
  await selectBackend('auto', { quiet: true }); // native, else wasm: the cpu kernels take ~40 s a photo
  pipeline = await FacePipeline.load();
  group = half(decodeImage(readFileSync(demo(1)), 'sample1.jpg'));
});

/** Halves an image (keeps the tests fast: 960x640). */
function half(img: Image): Image {
  return resize(img, Math.round(img.width / 2), Math.round(img.height / 2));
}

function crop(img: Image, x: number, y: number, w: number, h: number): Image {
  const c = img.channels;
  const out = new Uint8Array(w * h * c);
  for (let r = 0; r < h; r++) out.set(img.data.subarray(((y + r) * img.width + x) * c, ((y + r) * img.width + x + w) * c), r * w * c);
  return { width: w, height: h, channels: c, data: out };
}

function jpegBytes(img: Image): Uint8Array {
  const rgba = Buffer.alloc(img.width * img.height * 4);
  for (let i = 0; i < img.width * img.height; i++) {
    for (let k = 0; k < 3; k++) rgba[i * 4 + k] = img.data[i * img.channels + (img.channels === 3 ? k : 0)]!;
    rgba[i * 4 + 3] = 255;
  }
  return new Uint8Array(jpeg.encode({ data: rgba, width: img.width, height: img.height }, 90).data);
}

/** A JPEG with an EXIF APP1 block saying `orientation`, inserted after SOI. */
function withOrientation(bytes: Uint8Array, orientation: number): Uint8Array {
  const tiff = [0x4d, 0x4d, 0, 42, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, orientation, 0, 0, 0, 0, 0, 0, 0, 0];
  const body = [...Buffer.from('Exif\0\0', 'binary'), ...tiff];
  const app1 = [0xff, 0xe1, (body.length + 2) >> 8, (body.length + 2) & 0xff, ...body];
  return Uint8Array.from([...bytes.subarray(0, 2), ...app1, ...bytes.subarray(2)]);
}

const dist = (a: Float32Array, b: Float32Array) => Math.sqrt(a.reduce((s, v, i) => s + (v - b[i]!) ** 2, 0));

test('finds every face of a group photo, largest first, with boxes in image pixels and 150x150 aligned crops; no tensor leaks', async () => {
  const start = tf.memory().numTensors;
  const faces = await pipeline.alignFaces(group);
  assert.equal(tf.memory().numTensors, start);
  assert.equal(faces.length, 3);
  const areas = faces.map((f) => f.box.width * f.box.height);
  assert.deepEqual(areas, [...areas].sort((a, b) => b - a));
  for (const f of faces) {
    assert.ok(f.box.x >= 0 && f.box.y >= 0 && f.box.x + f.box.width <= group.width && f.box.y + f.box.height <= group.height, JSON.stringify(f.box));
    assert.ok(f.score > 0.5 && f.landmarks.length === 68);
    assert.equal(f.pixels.length, ALIGNED_FACE_SIZE * ALIGNED_FACE_SIZE * 3);
  }
});

test('descriptors are 128-d and unit length; the same person across crops is nearer than another person', async () => {
  const faces = await pipeline.alignFaces(group);
  // The same face again, from a shifted, smaller crop of the photo.
  const b = faces[0]!.box;
  const again = await pipeline.alignLargest(half(crop(group, Math.max(0, Math.round(b.x - b.width)), Math.max(0, Math.round(b.y - b.height / 2)), Math.round(b.width * 3), Math.round(b.height * 2))), 'crop');
  const x = tf.tensor4d(Float32Array.from([...faces.map((f) => f.pixels), again.pixels].flatMap((p) => Array.from(p))), [4, ALIGNED_FACE_SIZE, ALIGNED_FACE_SIZE, 3]);
  const d = pipeline.describeTensor(x);
  const rows = (await d.array()) as number[][];
  tf.dispose([x, d]);
  const e = rows.map((r) => Float32Array.from(r));
  for (const v of e) {
    assert.equal(v.length, 128);
    assert.ok(Math.abs(Math.hypot(...v) - 1) < 1e-4);
  }
  assert.ok(dist(e[0]!, e[3]!) < 0.5 * Math.min(dist(e[0]!, e[1]!), dist(e[0]!, e[2]!)), `same ${dist(e[0]!, e[3]!)} vs others ${dist(e[0]!, e[1]!)}, ${dist(e[0]!, e[2]!)}`);
});

test('EXIF orientation: a phone photo stored sideways is decoded upright and its face found', async () => {
  const face = crop(group, 0, 0, 480, 400);
  // Stored as a phone would with orientation 6: the pixels rotated 90 degrees counter-clockwise.
  const stored = applyOrientation(face, 8);
  const bytes = withOrientation(jpegBytes(stored), 6);
  assert.equal(jpegOrientation(bytes), 6);
  const img = decodeImage(bytes, 'phone.jpg');
  assert.deepEqual([img.width, img.height], [480, 400]);
  assert.ok((await pipeline.alignFaces(img)).length >= 1);
  assert.deepEqual(applyOrientation(applyOrientation(face, 6), 8).data, face.data);
});

test('a CMYK (Adobe) JPEG photo embeds like its RGB twin', async () => {
  const read = (name: string) => decodeImage(readFileSync(join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', name)), name);
  const faces = await Promise.all(['cmyk-face.jpg', 'rgb-face.jpg'].map((n) => pipeline.alignLargest(read(n), n)));
  const x = tf.tensor4d(Float32Array.from(faces.flatMap((f) => Array.from(f.pixels))), [2, ALIGNED_FACE_SIZE, ALIGNED_FACE_SIZE, 3]);
  const d = pipeline.describeTensor(x);
  const [a, b] = ((await d.array()) as number[][]).map((r) => Float32Array.from(r));
  tf.dispose([x, d]);
  // One photo in two lossy encodings (0.11 measured): well inside the calibrated same-person threshold (0.39).
  assert.ok(dist(a!, b!) < 0.2, `CMYK vs RGB twin descriptor distance ${dist(a!, b!)}`);
});

test('tight grayscale crops (AT&T style, 92x112) are found by framing them', async () => {
  // The whole head and little else, like AT&T's portraits.
  const f = (await pipeline.alignFaces(group))[0]!.box;
  const w = Math.round(f.width * 1.3), h = Math.round(f.height * 1.4);
  const tight = resize(crop(group, Math.round(f.x + f.width / 2 - w / 2), Math.round(f.y + f.height / 2 - h / 2), w, h), 92, 112);
  const gray: Image = { width: 92, height: 112, channels: 1, data: Uint8Array.from({ length: 92 * 112 }, (_, i) => tight.data[i * 3 + 1]!) };
  const face = await pipeline.alignLargest(gray, 'tight.pgm');
  assert.ok(face.box.width > 40 && face.box.x >= 0 && face.box.x + face.box.width <= 92);
});

test('the tiny face detector finds the group\'s faces where the SSD does; without a face it falls back to the SSD; no tensor leaks; bad settings are refused', async () => {
  const ssd = await pipeline.alignFaces(group);
  const start = tf.memory().numTensors;
  const tiny = await pipeline.alignFaces(group, { detector: 'tiny-face-detector', inputSize: 416 });
  assert.equal(tiny.length, ssd.length);
  tiny.forEach((f, i) => {
    const s = ssd[i]!.box; // same face: box centres within a third of its width
    assert.ok(Math.hypot(f.box.x + f.box.width / 2 - s.x - s.width / 2, f.box.y + f.box.height / 2 - s.y - s.height / 2) < s.width / 3, JSON.stringify([f.box, s]));
  });
  // Faces too small for the tiny detector at 128 px (it finds none) are found by the SSD it falls back to.
  const small = resize(group, 240, 160);
  assert.equal((await pipeline.alignFaces(small, { detector: 'tiny-face-detector', inputSize: 128, fallback: false })).length, 0);
  assert.equal((await pipeline.alignFaces(small, { detector: 'tiny-face-detector', inputSize: 128 })).length, (await pipeline.alignFaces(small)).length);
  assert.equal(tf.memory().numTensors, start, 'no tensor leaks through either detector');
  await assert.rejects(pipeline.alignFaces(group, { detector: 'tiny-face-detector', inputSize: 400 }), /inputSize must be a multiple of 32/);
  await assert.rejects(pipeline.alignFaces(group, { detector: 'yolo' as never }), /detector must be 'ssd-mobilenet-v1' or 'tiny-face-detector'/);
});

test('no face, 1x1, corrupt, truncated, non-image and 10000x10000 headers: clear one-line errors', async () => {
  const blank: Image = { width: 320, height: 240, channels: 3, data: new Uint8Array(320 * 240 * 3).fill(128) };
  await assert.rejects(pipeline.alignLargest(blank, 'wall.png'), (e: Error) => e instanceof NoFaceFoundError && e.message === 'wall.png: no face found');
  await assert.rejects(pipeline.alignLargest({ width: 1, height: 1, channels: 1, data: new Uint8Array(1) }, 'dot.png'), /dot.png: no face found/);
  const good = jpegBytes(crop(group, 0, 0, 200, 200));
  assert.throws(() => decodeImage(good.subarray(0, good.length / 2), 'cut.jpg'), /cut.jpg: cannot decode JPEG image/);
  assert.throws(() => decodeImage(new TextEncoder().encode('hello, not a photo'), 'notes.txt'), /notes.txt: not a PNG, JPEG or PGM image/);
  // A JPEG whose frame header claims 10000x10000: refused before anything is decoded.
  const big = Uint8Array.from(good);
  for (let i = 2; i < big.length - 9; i++) {
    if (big[i] === 0xff && big[i + 1] === 0xc0) { big[i + 5] = 0x27; big[i + 6] = 0x10; big[i + 7] = 0x27; big[i + 8] = 0x10; break; }
  }
  const t0 = Date.now();
  assert.throws(() => decodeImage(big, 'bomb.jpg'), /bomb.jpg: .*10000x10000 exceeds the limit/);
  assert.ok(Date.now() - t0 < 1000);
});

for (const [dir, detector] of [['faces', undefined], ['faces-fast', 'tiny-face-detector']] as const) test(`models/${dir}: a face model directory (pretrained package, version, licence, calibrated threshold${detector ? `, ${detector}` : ''}) scores photos`, async () => {
  const scorer = await loadScorer(join(MODEL_DIR, '..', dir));
  assert.equal(scorer.meta.preprocess.face?.detector, detector);
  assert.equal(scorer.meta.encoder, FACE_ENCODER);
  assert.equal(scorer.meta.pretrained?.package, '@vladmandic/face-api');
  assert.equal(scorer.meta.pretrained?.license, 'MIT');
  assert.ok(scorer.meta.threshold && Number.isFinite(scorer.meta.threshold.value));
  const faces = await pipeline.alignFaces(group, scorer.meta.preprocess.face); // as the model detects
  const around = (k: number) => {
    const b = faces[k]!.box;
    const x = Math.max(0, Math.round(b.x - b.width / 2)), y = Math.max(0, Math.round(b.y - b.height / 2));
    return crop(group, x, y, Math.min(group.width - x, Math.round(b.width * 2)), Math.min(group.height - y, Math.round(b.height * 2)));
  };
  const start = tf.memory().numTensors;
  const prepared = await scorer.prepareWithFaces([group, around(0), around(1)], ['group.jpg', 'same.jpg', 'other.jpg']);
  const [eg, same, other] = scorer.embed(prepared.map((p) => p.pixels));
  assert.equal(tf.memory().numTensors, start);
  // The group photo is reduced to its largest face: the same person as `same`, not as `other`.
  const t = scorer.meta.threshold!.value;
  const [sSame, sOther] = scorer.similarity(eg!, [same!, other!]);
  assert.ok(sSame! >= t && sOther! < t, `same ${sSame}, other ${sOther}, threshold ${t}`);
  assert.deepEqual(prepared[0]!.face!.box, faces[0]!.box);
  await assert.rejects(scorer.prepareImages([{ width: 64, height: 64, channels: 3, data: new Uint8Array(64 * 64 * 3) }], ['black.png']), /black.png: no face found/);
});

test('a face dataset skips photos with no face, naming them, and keeps the count', async () => {
  const scorer = await loadScorer(MODEL_DIR);
  const faces = await pipeline.alignFaces(group);
  const files: Record<string, Uint8Array> = {};
  faces.forEach((f, k) => {
    const b = f.box;
    files[`people/p${k}/a.png`] = encodePng(crop(group, Math.max(0, Math.round(b.x - b.width / 2)), Math.max(0, Math.round(b.y - b.height / 2)), Math.round(b.width * 2), Math.round(b.height * 2)));
  });
  files['people/p0/wall.png'] = encodePng({ width: 64, height: 48, channels: 3, data: new Uint8Array(64 * 48 * 3).fill(200) });
  const dir = writeFiles(tempDir(), files);
  const ds = await loadImageDataset(join(dir, 'people'), { layout: 'class-folders', preprocess: scorer.meta.preprocess });
  assert.equal(ds.size, 3);
  assert.deepEqual(ds.skipped, [{ path: 'p0/wall.png', reason: 'no face found' }]);
});

test('a face adapter trains on frozen descriptors and saves as a face model that loads and scores', async () => {
  const faces = await pipeline.alignFaces(group);
  // Three people, four framings each: the descriptors differ a little per framing.
  const crops: Uint8Array[] = [];
  const labels: number[] = [];
  for (const [k, f] of faces.entries()) {
    for (const [grow, shift] of [[1.6, 0], [2, 0.1], [2.4, -0.1], [1.8, 0.05]] as const) {
      const b = f.box;
      const w = Math.round(b.width * grow), h = Math.round(b.height * grow);
      const x = Math.max(0, Math.min(group.width - w, Math.round(b.x + b.width / 2 - w / 2 + shift * b.width)));
      const y = Math.max(0, Math.min(group.height - h, Math.round(b.y + b.height / 2 - h / 2)));
      crops.push((await pipeline.alignLargest(crop(group, x, y, w, h), `p${k}`)).pixels);
      labels.push(k);
    }
  }
  const size = ALIGNED_FACE_SIZE * ALIGNED_FACE_SIZE * 3;
  const pixels = new Uint8Array(crops.length * size);
  crops.forEach((c, i) => pixels.set(c, i * size));
  const ds = new ImageDataset({ height: ALIGNED_FACE_SIZE, width: ALIGNED_FACE_SIZE, channels: 3, pixels, labels: Int32Array.from(labels), classNames: ['a', 'b', 'c'], classGroups: ['a', 'b', 'c'], paths: labels.map((l, i) => `${l}/${i}.png`) });
  const out = join(tempDir(), 'adapter');
  const start = tf.memory().numTensors;
  const r = await trainFaceAdapter(ds, {
    method: 'triplet', methodOptions: { batchSize: 8, way: 3, shot: 1, query: 1, classesPerBatch: 3, m: 2, miner: 'batch-all', margin: 0.2 },
    steps: 20, lr: 1e-3, seed: 1, valFraction: 0, valEvery: 10, outDir: out,
  });
  assert.equal(tf.memory().numTensors, start);
  assert.equal(r.steps, 20);
  const scorer = await loadScorer(out);
  assert.equal(scorer.meta.encoder, FACE_ENCODER);
  assert.equal(scorer.meta.method, 'triplet');
  assert.equal(scorer.meta.distance, 'cosine');
  const [a, b] = scorer.embed([crops[0]!, crops[4]!]);
  assert.equal(a!.length, 128);
  assert.ok(scorer.similarity(a!, [a!])[0]! > scorer.similarity(a!, [b!])[0]!);
});

test('FewShotClassifier on the face model: fitAsync / predictAsync find the faces first; the sync path says so', async () => {
  const { FewShotClassifier } = await import('../../src/inference/few_shot_classifier.js');
  const scorer = await loadScorer(MODEL_DIR);
  const photo = (k: number) => decodeImage(readFileSync(demo(k)), `sample${k}.jpg`);
  const classifier = new FewShotClassifier(scorer);
  assert.throws(() => classifier.fit([{ label: 'a', images: [photo(2)] }]), /finds faces first, asynchronously: .*fitAsync/);
  await classifier.fitAsync([{ label: 'a', images: [photo(2)] }, { label: 'b', images: [photo(3)] }]);
  const [a, b] = await classifier.predictAsync([photo(2), photo(3)]);
  assert.equal(a!.label, 'a');
  assert.equal(b!.label, 'b');
  // A blank photo has no face: the error names it.
  const blank: Image = { width: 64, height: 64, channels: 3, data: new Uint8Array(64 * 64 * 3).fill(128) };
  await assert.rejects(classifier.predictAsync([blank]), /query 0: no face found/);
});
