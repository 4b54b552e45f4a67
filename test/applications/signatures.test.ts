import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import jpeg from 'jpeg-js';
import { selectBackend } from '../../src/backend/select.js';
import { decodeImage, encodePng } from '../../src/data/image.js';
import { openSource } from '../../src/data/source.js';
import { Verifier } from '../../src/verification/verifier.js';
import { SiameseScorer } from '../../src/inference/embedder.js';
import { loadScorer } from '../../src/inference/load.js';
import type { ModelMetadata } from '../../src/models/metadata.js';
import { SIGNATURES_PREPROCESS, parseSignaturePath, listSignatureFiles, loadSignatures, splitByPerson, signaturePersons, subsampleWriters, writerFolds, type SignatureSet } from '../../src/applications/signatures/layout.js';
import { evaluateReferenceVerification } from '../../src/applications/signatures/reference_verification.js';
import { sampleSignatureBatch, signatureIndex, signatureTensor, withMirroredWriters } from '../../src/applications/signatures/train.js';
import { WriterClassificationHeads, sampleWriterBatch } from '../../src/applications/signatures/writer_classification.js';
import { createEncoder } from '../../src/models/encoders/registry.js';
import { createOptimizer } from '../../src/training/optimizer.js';
import { NORM_LINEAR } from '../../src/applications/normalized_conv4.js';
import { Rng } from '../../src/util/random.js';
import { sharedData, signatureFiles, tempDir, writeFiles } from './helpers.js';

before(async () => {
  await selectBackend('cpu', { quiet: true });
});

const CFG = { height: 12, width: 24, channels: 1 as const, invert: true, ink: { threshold: 'otsu' as const, centre: 'mass' as const } };

/** An "encoder" that flattens the pixels: enough to tell the generated persons apart. */
function flattenScorer(set: SignatureSet): { scorer: SiameseScorer; emb: Float32Array[] } {
  const encoder = tfl.sequential({ name: 'encoder', layers: [tfl.layers.inputLayer({ inputShape: [12, 24, 1] }), tfl.layers.flatten()] });
  const meta: ModelMetadata = {
    format: 'fewshot-model/1', method: 'contrastive', encoder: 'flatten', inputShape: [12, 24, 1], embeddingDim: 288,
    preprocess: CFG, score: 'negative-distance', distance: 'euclidean', createdAt: new Date(0).toISOString(),
  };
  const scorer = SiameseScorer.fromModel(encoder, meta);
  return { scorer, emb: scorer.embedFlat(set.pixels, set.files.length) };
}

test('signature names parse into writer, sample and claimed person', () => {
  assert.deepEqual(parseSignaturePath('dataset3/real/00101001.png'), { path: 'dataset3/real/00101001.png', writer: '001', sample: 1, claimed: '001', genuine: true });
  assert.deepEqual(parseSignaturePath('forge/02305008.PNG'), { path: 'forge/02305008.PNG', writer: '023', sample: 5, claimed: '008', genuine: false });
  assert.equal(parseSignaturePath('dataset3/readme.txt'), null);
  assert.equal(parseSignaturePath('dataset3/other/00101001.png'), null);
});

test('malformed signature file names give a clear error naming the file', () => {
  assert.throws(() => parseSignaturePath('dataset3/real/0010101.png'), /dataset3\/real\/0010101\.png: malformed signature file name.*XXXYYZZZ/);
  assert.throws(() => parseSignaturePath('dataset3/forge/abc01001.png'), /abc01001\.png: malformed/);
  assert.throws(() => parseSignaturePath('real/00101002.png'), /writer 001 != claimed 002/);
  assert.throws(() => parseSignaturePath('forge/00101001.png'), /forgery .* written by the claimed person/);
  assert.throws(() => parseSignaturePath('real/notes.txt'), /not an image file name/);
});

test('loader reads the layout from a folder, crops to ink, inverts, resizes', async () => {
  const dir = writeFiles(tempDir(), signatureFiles(4, 3, 2));
  const set = await loadSignatures(dir, CFG);
  assert.equal(set.files.length, 4 * 3 + 4 * 2);
  assert.equal(set.pixels.length, set.files.length * 12 * 24);
  assert.deepEqual(signaturePersons(set.files), ['001', '002', '003', '004']);
  // Inverted: paper (about 235) becomes dark, ink bright; the crop leaves little empty margin.
  const first = set.pixels.subarray(0, 12 * 24);
  const bright = Array.from(first).filter((v) => v > 128).length;
  assert.ok(bright > 20 && bright < 12 * 24, `ink pixels ${bright}`);
  assert.ok(Math.max(...first) > 150);
  assert.ok(set.files.filter((f) => !f.genuine).every((f) => f.writer !== f.claimed));
});

test('loader: a malformed name in real/ fails naming the file; an empty layout fails clearly', async () => {
  const files = signatureFiles(2, 2, 1);
  const dir = writeFiles(tempDir(), files);
  writeFileSync(join(dir, 'dataset3', 'real', 'signature-7.png'), Object.values(files)[0]!);
  await assert.rejects(loadSignatures(dir, CFG), /signature-7\.png: malformed signature file name/);
  const empty = writeFiles(tempDir(), { 'photos/a.png': Object.values(files)[0]! });
  await assert.rejects(loadSignatures(empty, CFG), /no signatures found: expected images in folders named real\/ and forge\//);
});

test('writer-independent split: no claimed person on both sides, forgeries follow their claimed person', async () => {
  const set = await loadSignatures(writeFiles(tempDir(), signatureFiles(6, 2, 1)), CFG);
  const s = splitByPerson(set, { testFraction: 1 / 3, seed: 4 });
  assert.equal(s.testPersons.length, 2);
  const trainClaimed = new Set(s.train.files.map((f) => f.claimed));
  for (const f of s.test.files) assert.ok(!trainClaimed.has(f.claimed));
  assert.deepEqual(splitByPerson(set, { testFraction: 1 / 3, seed: 4 }).testPersons, s.testPersons);
  assert.equal(s.train.files.length + s.test.files.length, set.files.length);
  const fixed = splitByPerson(set, { testPersons: ['002', '005'] });
  assert.deepEqual(fixed.testPersons, ['002', '005']);
  assert.throws(() => splitByPerson(set, { testPersons: ['099'] }), /not in the data: 099/);
});

test('writer subsample for learning curves: seeded, whole persons with their forgeries, at least two', async () => {
  const set = await loadSignatures(writeFiles(tempDir(), signatureFiles(9, 2, 1)), CFG);
  const a = subsampleWriters(set, 0.67, 3);
  assert.equal(a.persons.length, 6);
  assert.deepEqual(signaturePersons(a.set.files), a.persons);
  // Every signature of a kept person (genuine and forged) stays; nothing of the others.
  assert.equal(a.set.files.length, set.files.filter((f) => a.persons.includes(f.claimed)).length);
  assert.ok(a.set.files.some((f) => !f.genuine));
  assert.equal(a.set.pixels.length, a.set.files.length * set.height * set.width * set.channels);
  assert.deepEqual(subsampleWriters(set, 0.67, 3).persons, a.persons);
  assert.notDeepEqual(subsampleWriters(set, 0.67, 4).persons, a.persons);
  assert.equal(subsampleWriters(set, 0.01, 3).persons.length, 2);
  assert.deepEqual(subsampleWriters(set, 1, 3).persons, signaturePersons(set.files));
  assert.throws(() => subsampleWriters(set, 0, 3), /writer fraction must be in \(0, 1\], got 0/);
});

test('writer folds: every person tested exactly once, seeded, sizes within one', async () => {
  const set = await loadSignatures(writeFiles(tempDir(), signatureFiles(7, 2, 1)), CFG);
  const folds = writerFolds(set.files, 3, 5);
  assert.deepEqual(folds.flat().sort(), signaturePersons(set.files));
  assert.deepEqual(folds.map((f) => f.length).sort(), [2, 2, 3]);
  assert.deepEqual(writerFolds(set.files, 3, 5), folds);
  assert.throws(() => writerFolds(set.files, 8, 5), /2\.\.7 folds/);
});

test('a blank page in the layout fails naming the file', async () => {
  const files = signatureFiles(2, 2, 1);
  const dir = writeFiles(tempDir(), files);
  writeFileSync(join(dir, 'dataset3', 'real', '00103001.png'), encodePng({ width: 40, height: 20, channels: 1, data: new Uint8Array(800).fill(240) }));
  await assert.rejects(loadSignatures(dir, CFG), /dataset3\/real\/00103001\.png: blank page/);
  writeFileSync(join(dir, 'dataset3', 'real', '00103001.png'), Buffer.from('not an image'));
  await assert.rejects(loadSignatures(dir, CFG), /dataset3\/real\/00103001\.png: not a PNG, JPEG or PGM image/);
});

test('reference verification: genuine accepted, skilled forgeries scored lower, 1..K references', async () => {
  const set = await loadSignatures(writeFiles(tempDir(), signatureFiles(5, 4, 3, 9)), CFG);
  const { scorer, emb } = flattenScorer(set);
  const start = tf.memory().numTensors;
  for (const k of [1, 3]) {
    const r = evaluateReferenceVerification(scorer, set, emb, { references: k, seed: 1 });
    assert.equal(r.persons, 5);
    assert.equal(r.genuineTrials, 5 * 4);
    assert.equal(r.skilledTrials, 5 * 3);
    assert.ok(r.auc > 0.9, `K=${k}: skilled AUC ${r.auc}`);
    assert.ok(r.aucRandom > 0.95, `K=${k}: random AUC ${r.aucRandom}`);
    assert.match(r.thresholdSource, /EER threshold of this evaluation/);
    for (const t of r.trials) {
      assert.equal(t.references.length, k);
      assert.ok(!t.references.includes(t.questioned), 'a questioned signature is never its own reference');
      for (const ref of t.references) assert.equal(set.files[ref]!.claimed, t.claimed);
    }
  }
  assert.equal(tf.memory().numTensors, start, 'no tensor leak');
  assert.throws(() => evaluateReferenceVerification(scorer, set, emb, { references: 5, seed: 1 }), /writer 001 has 4 genuine signature\(s\), fewer than the 5 references asked for \(so do 002, 003, 004, 005\)/);
  // K = 4 of 4: no genuine signature left to question, forgeries still are.
  assert.throws(() => evaluateReferenceVerification(scorer, set, emb, { references: 4, seed: 1 }), /at least 5 genuine signatures/);
  const given = evaluateReferenceVerification(scorer, set, emb, { references: 2, seed: 1, threshold: 0 });
  assert.equal(given.frr, 1); // similarity = -distance < 0 for every non-identical pair
});

test('writer-dependent decision: per-writer classifiers separate genuine from skilled and random forgeries', async () => {
  const files = signatureFiles(6, 4, 3, 9);
  // Writer 006 has a single genuine signature: too few for 2 references.
  delete files['dataset3/real/00602006.png'];
  delete files['dataset3/real/00603006.png'];
  delete files['dataset3/real/00604006.png'];
  const set = await loadSignatures(writeFiles(tempDir(), files), CFG);
  const { scorer, emb } = flattenScorer(set);
  assert.throws(() => evaluateReferenceVerification(scorer, set, emb, { references: 2, seed: 1, decision: 'wd' }), /writer 006 has 1 genuine signature\(s\), fewer than the 2 references asked for: .*--skip-short-writers/);
  const r = evaluateReferenceVerification(scorer, set, emb, { references: 2, seed: 1, decision: 'wd', skipShortWriters: true });
  assert.equal(r.decision, 'wd');
  assert.deepEqual(r.skippedPersons, ['006']);
  assert.equal(r.persons, 5);
  // The classifiers learn what tells a writer from the others; the generated forgeries copy most of
  // it (6 of 32 cells flipped), so they are harder for wd than for the raw pixel distance.
  assert.ok(r.auc > 0.8, `skilled AUC ${r.auc}`);
  assert.ok(r.aucRandom > 0.95, `random AUC ${r.aucRandom}`);
  assert.match(r.thresholdSource, /EER threshold of this evaluation/);
  // Writer 006 (one genuine signature) still serves K = 1: its forgeries are questioned, not its genuine one.
  const k1 = evaluateReferenceVerification(scorer, set, emb, { references: 1, seed: 1, decision: 'wd' });
  assert.equal(k1.persons, 6);
  assert.equal(k1.genuineTrials, 5 * 4);
  assert.equal(k1.skilledTrials, 6 * 3);
  // A stored writer-dependent threshold is used for the wd decision, the distance one for distance.
  const withThresholds = SiameseScorer.fromModel(scorer.encoder as tfl.LayersModel, { ...scorer.meta, threshold: { value: -1e9, source: 'test distance' }, writerDependent: { threshold: { value: 1e9, source: 'test wd' } } });
  const wd = evaluateReferenceVerification(withThresholds, set, emb, { references: 2, seed: 1, decision: 'wd', skipShortWriters: true });
  assert.equal(wd.thresholdSource, 'model: test wd');
  assert.equal(wd.frr, 1);
  const dist = evaluateReferenceVerification(withThresholds, set, emb, { references: 2, seed: 1, skipShortWriters: true });
  assert.equal(dist.thresholdSource, 'model: test distance');
  assert.equal(dist.far, 1);
});

test('training batches pair anchors with positives, skilled forgeries and other persons', async () => {
  const set = await loadSignatures(writeFiles(tempDir(), signatureFiles(5, 3, 2)), CFG);
  const index = signatureIndex(set);
  const b = sampleSignatureBatch(index, 4, new Rng(2));
  const counts = [0, 0, 0];
  for (let k = 0; k < b.kind.length; k++) {
    counts[b.kind[k]!]!++;
    const l = set.files[b.images[b.left[k]!]!]!;
    const r = set.files[b.images[b.right[k]!]!]!;
    assert.ok(l.genuine);
    if (b.kind[k] === 0) assert.ok(r.genuine && r.claimed === l.claimed && r.path !== l.path);
    if (b.kind[k] === 1) assert.ok(!r.genuine && r.claimed === l.claimed);
    if (b.kind[k] === 2) assert.ok(r.genuine && r.claimed !== l.claimed);
  }
  assert.deepEqual(counts, [4, 4, 6]);
});

test('writer-classification batches: genuine images labelled with their writer, forgeries last', async () => {
  const set = await loadSignatures(writeFiles(tempDir(), signatureFiles(5, 3, 2)), CFG);
  const index = signatureIndex(set);
  const b = sampleWriterBatch(index, 8, 4, new Rng(3));
  assert.equal(b.images.length, 12);
  assert.equal(b.forgeries, 4);
  assert.equal(new Set(b.images).size, 12, 'drawn without replacement');
  b.writers.forEach((w, i) => {
    const f = set.files[b.images[i]!]!;
    assert.ok(f.genuine);
    assert.equal(index.persons[w], f.claimed);
  });
  for (const i of b.images.subarray(8)) assert.equal(set.files[i]!.genuine, false);
  // More asked than there are: capped; no forgeries asked: plain SigNet.
  const all = sampleWriterBatch(index, 100, 0, new Rng(3));
  assert.equal(all.images.length, 15);
  assert.equal(all.forgeries, 0);
  const noForgeries = signatureIndex({ ...set, files: set.files.map((f) => ({ ...f, genuine: true, writer: f.claimed })) });
  assert.throws(() => sampleWriterBatch(noForgeries, 4, 2, new Rng(1)), /needs skilled forgeries/);
});

test('SigNet-F training lowers the writer and forgery losses, keeps tensors flat, and leaves a plain encoder', async () => {
  const set = await loadSignatures(writeFiles(tempDir(), signatureFiles(4, 3, 2)), { ...CFG, height: 16, width: 32 });
  const index = signatureIndex(set);
  // norm-linear, not norm-conv4: the cpu backend needs seconds for one conv4 training step.
  const encoder = createEncoder(NORM_LINEAR, { inputShape: [16, 32, 1], embeddingDim: 8, seed: 1 });
  const heads = new WriterClassificationHeads(encoder, index.persons.length, 1);
  assert.equal(heads.writer.units, 4);
  const vars = heads.trained.trainableWeights.map((w) => w.read() as tf.Variable);
  assert.ok(vars.length > encoder.trainableWeights.length, 'the heads train too');
  const optimizer = createOptimizer({ name: 'adam', lr: 0.01 });
  const rng = new Rng(1);
  const batch = sampleWriterBatch(index, 12, 6, rng);
  const x = signatureTensor(set, batch.images, null);
  const lossNow = () => tf.tidy(() => heads.loss(encoder, x, batch, 1).dataSync()[0]!);
  const first = lossNow();
  const step = () => optimizer.minimize(() => heads.loss(encoder, x, batch, 1), false, vars);
  step(); // creates Adam's moment variables
  const before = tf.memory().numTensors;
  for (let i = 0; i < 29; i++) step();
  assert.equal(tf.memory().numTensors, before, 'no tensor leak per step');
  const last = lossNow();
  assert.ok(Number.isFinite(first) && last < 0.5 * first, `loss ${first} -> ${last}`);
  // Forgery weight 0 is the writer loss alone, which is smaller than the SigNet-F total.
  assert.ok(tf.tidy(() => heads.loss(encoder, x, batch, 0).dataSync()[0]!) < last);
  // Only the encoder is what a model is: its output is the embedding, not the heads'.
  assert.deepEqual(encoder.outputs[0]!.shape, [null, 8]);
  x.dispose();
  heads.dispose();
  optimizer.dispose();
  encoder.dispose();
});

test('mirrored writers: each copy is a new writer, its genuine and forged signatures flipped alike', () => {
  const f = (path: string, writer: string, claimed: string, genuine: boolean) => ({ path, writer, sample: 1, claimed, genuine });
  // Two 2x3 images: 0..5 and 10..15, row-major.
  const set: SignatureSet = {
    files: [f('real/00101001.png', '001', '001', true), f('forge/00201001.png', '002', '001', false)],
    height: 2, width: 3, channels: 1, pixels: Uint8Array.from([0, 1, 2, 3, 4, 5, 10, 11, 12, 13, 14, 15]), location: 'test',
  };
  const m = withMirroredWriters(set);
  assert.equal(m.files.length, 8);
  assert.deepEqual(m.files.map((x) => `${x.writer}>${x.claimed}:${x.genuine ? 'g' : 'f'}`), ['001>001:g', '002>001:f', '001h>001h:g', '002h>001h:f', '001v>001v:g', '002v>001v:f', '001hv>001hv:g', '002hv>001hv:f']);
  const img = (i: number) => Array.from(m.pixels.subarray(i * 6, (i + 1) * 6));
  assert.deepEqual(img(0), [0, 1, 2, 3, 4, 5]);
  assert.deepEqual(img(2), [2, 1, 0, 5, 4, 3]); // left-right
  assert.deepEqual(img(5), [13, 14, 15, 10, 11, 12]); // upside down (the forgery)
  assert.deepEqual(img(6), [5, 4, 3, 2, 1, 0]); // half turn
  // The original set is untouched; the copies group by their new claimed person.
  assert.deepEqual(Array.from(set.pixels), [0, 1, 2, 3, 4, 5, 10, 11, 12, 13, 14, 15]);
  assert.deepEqual(signatureIndex(m).persons, ['001', '001h', '001hv', '001v']);
});

test('the real signature archive follows the layout (when ../shared/data is present)', async (t) => {
  const zip = sharedData('signatures', 'handwritten_signatures.zip');
  if (!zip) {
    t.diagnostic('../shared/data absent: the generated layouts above cover the loader');
    return;
  }
  const files = listSignatureFiles(await openSource(zip));
  assert.equal(files.length, 292);
  assert.equal(signaturePersons(files).length, 30);
  assert.equal(files.filter((f) => f.genuine).length, 146);
  assert.equal(files.filter((f) => f.genuine && f.claimed === '022').length, 1);
});

for (const [name, makes] of [['signatures', 'scripts/train-signatures.ts'], ['signatures-pretrained', 'scripts/build-signature-backbone-model.ts']] as const) test(`the shipped models/${name} reads a large colour scan of a signature and accepts it against the original`, async (t) => {
  const modelDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'models', name);
  if (!existsSync(join(modelDir, 'fewshot.json'))) assert.fail(`models/${name} is missing: make it with 'npx tsx ${makes}'`);
  const scorer = await loadScorer(modelDir);
  // The ink preprocessing of the signature literature, at the model's own size.
  assert.deepEqual(scorer.meta.preprocess, { ...SIGNATURES_PREPROCESS, height: scorer.meta.inputShape[0], width: scorer.meta.inputShape[1] });
  assert.ok(scorer.meta.threshold && Number.isFinite(scorer.meta.threshold.value), 'calibrated threshold stored');
  const zip = sharedData('signatures', 'handwritten_signatures.zip');
  let bytes: Uint8Array;
  if (zip) {
    bytes = (await openSource(zip)).read('dataset3/real/00201002.png');
  } else {
    t.diagnostic('../shared/data absent: using a generated signature');
    bytes = signatureFiles(2, 1, 0)['dataset3/real/00201002.png']!;
  }
  const original = decodeImage(bytes, 'original');
  // The same signature scanned again: twice the resolution, a warm paper tint, as JPEG.
  const W = original.width * 2;
  const H = original.height * 2;
  const rgba = Buffer.alloc(W * H * 4);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) {
    const v = original.data[(Math.floor(y / 2) * original.width + Math.floor(x / 2)) * original.channels]!;
    const o = (y * W + x) * 4;
    rgba[o] = Math.min(255, v + 8);
    rgba[o + 1] = v;
    rgba[o + 2] = Math.max(0, v - 20);
    rgba[o + 3] = 255;
  }
  const rescanned = decodeImage(jpeg.encode({ data: rgba, width: W, height: H }, 90).data, 'rescan.jpg');
  const r = new Verifier(scorer).verifyImages(original, rescanned);
  assert.equal(r.scoreKind, 'distance');
  assert.equal(r.same, true, `rescanned signature: distance ${r.score} vs threshold ${r.threshold}`);
});
