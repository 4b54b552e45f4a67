import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import jpeg from 'jpeg-js';
import { selectBackend } from '../../src/backend/select.js';
import { loadImageDataset } from '../../src/data/dataset.js';
import { decodeImage, type Image } from '../../src/data/image.js';
import { preprocess } from '../../src/data/preprocess.js';
import { SiameseScorer } from '../../src/inference/embedder.js';
import { loadScorer } from '../../src/inference/load.js';
import { createEncoder } from '../../src/models/encoders/registry.js';
import type { ModelMetadata } from '../../src/models/metadata.js';
import { NORM_CONV4 } from '../../src/applications/normalized_conv4.js';
import { FACES_PREPROCESS, attPersonNumber, splitAttFaces } from '../../src/applications/faces/att.js';
import { Verifier } from '../../src/verification/verifier.js';
import { Rng } from '../../src/util/random.js';
import { pgmBytes, sharedData, tempDir, writeFiles } from './helpers.js';

before(async () => {
  await selectBackend('cpu', { quiet: true });
});

/** A smooth face-like gray image of the AT&T size (92x112), person-specific. */
function facePixels(person: number, rng: Rng, w = 92, h = 112): number[] {
  const out: number[] = [];
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    const v = 128 + 60 * Math.sin((x * (person + 2)) / 17) * Math.cos((y * (person + 1)) / 23) + rng.uniform(-10, 10);
    out.push(Math.max(0, Math.min(255, Math.round(v))));
  }
  return out;
}

test('PGM class folders (AT&T layout) load at the face model size; people split s1..s20 / s21..s30 / s31..s40', async () => {
  const rng = new Rng(1);
  const files: Record<string, Uint8Array> = {};
  for (const p of [1, 2, 21, 22, 31, 32]) for (let k = 1; k <= 3; k++) files[`att_faces/s${p}/${k}.pgm`] = pgmBytes(92, 112, facePixels(p, rng));
  const dir = writeFiles(tempDir(), files);
  const ds = await loadImageDataset(dir, { layout: 'class-folders', preprocess: FACES_PREPROCESS });
  assert.equal(ds.size, 18);
  assert.equal(ds.height, 64);
  assert.equal(ds.width, 64);
  assert.equal(ds.channels, 1);
  const split = splitAttFaces(ds);
  assert.deepEqual(split.train.classNames, ['s1', 's2']);
  assert.deepEqual(split.validation.classNames, ['s21', 's22']);
  assert.deepEqual(split.test.classNames, ['s31', 's32']);
  assert.equal(attPersonNumber('s40'), 40);
  assert.throws(() => attPersonNumber('person7'), /not an AT&T person folder/);
});

test('a corrupt PGM face is rejected naming the file', async () => {
  const dir = writeFiles(tempDir(), { 's1/1.pgm': Uint8Array.from(Buffer.from('P5\n92 112\n255\n')), 's2/1.pgm': pgmBytes(4, 4, new Array(16).fill(9)) });
  await assert.rejects(loadImageDataset(dir, { layout: 'class-folders', preprocess: FACES_PREPROCESS }), /s1\/1\.pgm/);
});

function scaleContrast(img: Image, gain: number, offset: number): Image {
  return { ...img, data: img.data.map((v) => Math.max(0, Math.min(255, Math.round(v * gain + offset)))) };
}

test('norm-conv4 standardises each image: brightness / contrast changes barely move the embedding', () => {
  const encoder = createEncoder(NORM_CONV4, { inputShape: [64, 64, 1], embeddingDim: 16, seed: 2 });
  const meta: ModelMetadata = {
    format: 'fewshot-model/1', method: 'protonet', encoder: NORM_CONV4, inputShape: [64, 64, 1], embeddingDim: 16,
    preprocess: FACES_PREPROCESS, score: 'negative-distance', distance: 'euclidean', createdAt: new Date(0).toISOString(),
  };
  const scorer = SiameseScorer.fromModel(encoder, meta);
  const rng = new Rng(3);
  const face: Image = { width: 92, height: 112, channels: 1, data: Uint8Array.from(facePixels(4, rng)) };
  const other: Image = { width: 92, height: 112, channels: 1, data: Uint8Array.from(facePixels(9, rng)) };
  const start = tf.memory().numTensors;
  const [a, darker, b] = scorer.embedImages([face, scaleContrast(face, 0.6, 20), other]);
  assert.equal(tf.memory().numTensors, start);
  const d = (x: Float32Array, y: Float32Array) => Math.sqrt(x.reduce((s, v, i) => s + (v - y[i]!) ** 2, 0));
  assert.ok(d(a!, darker!) < 0.1 * d(a!, b!), `lighting change ${d(a!, darker!)} vs other person ${d(a!, b!)}`);
});

const MODEL_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'models', 'faces-scratch');

test('the from-scratch face model (models/faces-scratch) takes any size, grayscale or colour, and verifies the same person', async (t) => {
  if (!existsSync(join(MODEL_DIR, 'model.json'))) {
    assert.fail(`models/faces-scratch is missing: train it with 'npx tsx scripts/train-faces.ts'`);
  }
  const scorer = await loadScorer(MODEL_DIR);
  assert.deepEqual(scorer.meta.preprocess, FACES_PREPROCESS);
  assert.ok(scorer.meta.threshold && Number.isFinite(scorer.meta.threshold.value), 'calibrated threshold stored');
  const verifier = new Verifier(scorer);
  const zip = sharedData('faces', 'att_faces.zip');
  let gray: Image;
  if (zip) {
    const ds = await loadImageDataset(zip, { layout: 'class-folders', preprocess: { height: 112, width: 92, channels: 1, invert: false } });
    gray = ds.image(ds.indicesByClass()[ds.classNames.indexOf('s35')]![0]!);
  } else {
    t.diagnostic('../shared/data absent: using a generated face');
    gray = { width: 92, height: 112, channels: 1, data: Uint8Array.from(facePixels(5, new Rng(8))) };
  }
  // The same face as a larger colour JPEG (tinted, brighter): another camera.
  const W = 184;
  const H = 224;
  const rgba = Buffer.alloc(W * H * 4);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) {
    const v = gray.data[Math.floor(y / 2) * 92 + Math.floor(x / 2)]!;
    const o = (y * W + x) * 4;
    rgba[o] = Math.min(255, v + 30);
    rgba[o + 1] = Math.min(255, v + 15);
    rgba[o + 2] = v;
    rgba[o + 3] = 255;
  }
  const colour = decodeImage(jpeg.encode({ data: rgba, width: W, height: H }, 92).data, 'colour.jpg');
  assert.equal(colour.channels, 3);
  assert.equal(preprocess(colour, scorer.meta.preprocess).length, 64 * 64);
  const r = verifier.verifyImages(gray, colour);
  assert.equal(r.scoreKind, 'distance');
  assert.equal(r.same, true, `same face from another camera: distance ${r.score} vs threshold ${r.threshold}`);
});
