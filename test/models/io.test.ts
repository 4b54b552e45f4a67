import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { selectBackend } from '../../src/backend/select.js';
import { createEncoder } from '../../src/models/encoders/registry.js';
import { buildPairModel } from '../../src/models/siamese.js';
import { saveModel, loadModel, readMetadata } from '../../src/models/io.js';
import { createMetadata, validateMetadata, type ModelMetadata } from '../../src/models/metadata.js';
import { writeDirectoryAtomically, recoverInterruptedWrite } from '../../src/models/atomic_dir.js';
import { captureWeights, readCheckpoint, restoreWeights, writeCheckpoint } from '../../src/training/checkpoint.js';
import { getOptimizerState, setOptimizerState } from '../../src/training/optimizer.js';

let tmp = '';
before(async () => {
  await selectBackend('cpu', { quiet: true });
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'fewshot-io-'));
});
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

function meta(over: Partial<ModelMetadata> & Pick<ModelMetadata, 'inputShape'>): ModelMetadata {
  const [h, w, c] = over.inputShape;
  return createMetadata({
    method: 'protonet',
    encoder: 'conv4',
    embeddingDim: 64,
    preprocess: { height: h, width: w, channels: c as 1 | 3, invert: true },
    score: 'negative-distance',
    distance: 'sqeuclidean',
    ...over,
  });
}

async function roundTrip(name: string, model: tfl.LayersModel, m: ModelMetadata, inputs: tf.Tensor | tf.Tensor[]) {
  const dir = path.join(tmp, name);
  await saveModel(dir, model, m);
  assert.deepEqual(fs.readdirSync(dir).sort(), ['fewshot.json', 'model.json', 'weights.bin']);
  const loaded = await loadModel(dir);
  assert.deepEqual(loaded.meta, m);
  const a = (model.predict(inputs) as tf.Tensor).dataSync();
  const b = (loaded.model.predict(inputs) as tf.Tensor).dataSync();
  assert.deepEqual(Array.from(b), Array.from(a), `${name}: outputs differ after save -> load`);
  return { dir, loaded: loaded.model };
}

test('koch (small embedding) round trip gives identical outputs', async () => {
  const enc = createEncoder('koch', { embeddingDim: 16, seed: 1 });
  const x = tf.randomUniform([1, 105, 105, 1], 0, 1, 'float32', 3);
  await roundTrip('koch', enc, meta({ encoder: 'koch', inputShape: [105, 105, 1], embeddingDim: 16, method: 'triplet' }), x);
});

test('conv4 (batchnorm) round trip gives identical outputs, and loads like a browser would', async () => {
  const enc = createEncoder('conv4', { seed: 2 });
  // a training step moves batchnorm's moving statistics away from their initial values
  const x = tf.randomUniform([2, 28, 28, 1], 0, 1, 'float32', 4);
  const opt = tf.train.adam(0.01);
  opt.minimize(() => tf.mean(tf.square(enc.apply(x, { training: true }) as tf.Tensor)) as tf.Scalar);
  const { dir } = await roundTrip('conv4', enc, meta({ inputShape: [28, 28, 1] }), x);
  // tf.loadLayersModel over HTTP (what a browser does), served from the directory
  const fetchFunc = async (input: string | URL | Request) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const file = path.join(dir, new URL(url).pathname.replace(/^\/m\//, ''));
    const body = fs.readFileSync(file);
    return new Response(body, { status: 200, headers: { 'content-type': file.endsWith('.json') ? 'application/json' : 'application/octet-stream' } });
  };
  const viaHttp = await tfl.loadLayersModel(tf.io.http('http://localhost/m/model.json', { fetchFunc: fetchFunc as typeof fetch }));
  assert.deepEqual(Array.from((viaHttp.predict(x) as tf.Tensor).dataSync()), Array.from((enc.predict(x) as tf.Tensor).dataSync()));
});

test('pair model with the AbsDifference layer round trips', async () => {
  const pair = buildPairModel(createEncoder('conv4', { seed: 3 }), { hidden: [8], seed: 3 });
  const x1 = tf.randomUniform([2, 28, 28, 1], 0, 1, 'float32', 5);
  const x2 = tf.randomUniform([2, 28, 28, 1], 0, 1, 'float32', 6);
  const m = meta({ method: 'pair', inputShape: [28, 28, 1], score: 'pair-probability', distance: undefined });
  const { dir } = await roundTrip('pair', pair, m, [x1, x2]);
  const json = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8'));
  assert.equal(json.format, 'layers-model');
  assert.deepEqual(json.weightsManifest[0].paths, ['./weights.bin']);
  assert.ok(JSON.stringify(json.modelTopology).includes('"class_name":"AbsDifference"'));
  assert.ok(!JSON.stringify(json.modelTopology).includes('Lambda'));
});

test('saving again replaces the model atomically and leaves no temporary directories', async () => {
  const dir = path.join(tmp, 'again');
  const a = createEncoder('tiny', { seed: 1 });
  const b = createEncoder('tiny', { seed: 2 });
  const m = meta({ encoder: 'tiny', inputShape: [28, 28, 1], embeddingDim: 16 });
  await saveModel(dir, a, m);
  await saveModel(dir, b, m);
  const x = tf.ones([1, 28, 28, 1]);
  const loaded = await loadModel(dir);
  assert.deepEqual(Array.from((loaded.model.predict(x) as tf.Tensor).dataSync()), Array.from((b.predict(x) as tf.Tensor).dataSync()));
  assert.deepEqual(fs.readdirSync(tmp).filter((n) => n.startsWith('.again')), []);
});

test('a failed write keeps the previous content; an interrupted swap is recovered', () => {
  const dir = path.join(tmp, 'atomic');
  writeDirectoryAtomically(dir, { 'a.txt': 'old' });
  // a file in a sub-directory that does not exist makes the write fail half-way
  assert.throws(() => writeDirectoryAtomically(dir, { 'a.txt': 'new', 'missing/b.txt': 'x' }));
  assert.equal(fs.readFileSync(path.join(dir, 'a.txt'), 'utf8'), 'old');
  assert.deepEqual(fs.readdirSync(tmp).filter((n) => n.startsWith('.atomic')), []);
  // simulate a kill between "old -> backup" and "new -> target"
  const backup = path.join(tmp, '.atomic.old-123');
  fs.renameSync(dir, backup);
  fs.mkdirSync(path.join(tmp, '.atomic.tmp-123'));
  recoverInterruptedWrite(dir);
  assert.equal(fs.readFileSync(path.join(dir, 'a.txt'), 'utf8'), 'old');
  assert.deepEqual(fs.readdirSync(tmp).filter((n) => n.startsWith('.atomic')), []);
});

test('missing or invalid files give clear errors', async () => {
  const enc = createEncoder('tiny');
  const m = meta({ encoder: 'tiny', inputShape: [28, 28, 1], embeddingDim: 16 });
  const dir = path.join(tmp, 'broken');
  await saveModel(dir, enc, m);
  await assert.rejects(loadModel(path.join(tmp, 'nope')), /model directory not found/);
  fs.writeFileSync(path.join(dir, 'fewshot.json'), '{ not json');
  await assert.rejects(loadModel(dir), /model metadata file .*fewshot\.json is not valid JSON/);
  fs.writeFileSync(path.join(dir, 'fewshot.json'), JSON.stringify({ ...m, format: 'other/9' }));
  await assert.rejects(loadModel(dir), /invalid model metadata in .*fewshot\.json: format must be 'fewshot-model\/1'/);
  fs.rmSync(path.join(dir, 'fewshot.json'));
  await assert.rejects(loadModel(dir), /model metadata file missing: .*fewshot\.json/);
  assert.throws(() => readMetadata(dir), /fewshot\.json/);
  fs.writeFileSync(path.join(dir, 'fewshot.json'), JSON.stringify(m));
  const weights = fs.readFileSync(path.join(dir, 'weights.bin'));
  fs.writeFileSync(path.join(dir, 'weights.bin'), weights.subarray(0, 100));
  await assert.rejects(loadModel(dir), /truncated or mismatched/);
  fs.rmSync(path.join(dir, 'weights.bin'));
  await assert.rejects(loadModel(dir), /weights file missing/);
  // metadata whose input size disagrees with the model
  await saveModel(dir, enc, m);
  fs.writeFileSync(path.join(dir, 'fewshot.json'), JSON.stringify(meta({ encoder: 'tiny', inputShape: [32, 32, 1], embeddingDim: 16 })));
  await assert.rejects(loadModel(dir), /takes 28x28x1 inputs but fewshot\.json says 32x32x1/);
});

test('metadata validation', async () => {
  const good = meta({ inputShape: [28, 28, 1] });
  assert.equal(validateMetadata(JSON.parse(JSON.stringify(good)), 'x').encoder, 'conv4');
  const bad = (patch: Record<string, unknown>, re: RegExp) => assert.throws(() => validateMetadata({ ...good, ...patch }, 'f.json'), re);
  bad({ inputShape: [28, 28] }, /f\.json: 'inputShape' must be/);
  bad({ score: 'magic' }, /'score' must be/);
  bad({ distance: 'manhattan' }, /'distance' must be one of/);
  bad({ distance: undefined }, /'distance' is required/);
  bad({ preprocess: { height: 105, width: 105, channels: 1, invert: true } }, /does not match inputShape/);
  bad({ threshold: { value: 'high' } }, /'threshold' must be/);
  bad({ embeddingDim: -1 }, /'embeddingDim'/);
  assert.throws(() => validateMetadata([], 'f.json'), /not a JSON object/);
  await assert.rejects(saveModel(path.join(tmp, 'x'), createEncoder('tiny'), { ...good, method: '' }), /'method'/);
});

test('Adam state survives a checkpoint write -> read: resumed training matches uninterrupted training', async () => {
  const makeModel = () => createEncoder('tiny', { inputShape: [8, 8, 1], embeddingDim: 4, seed: 5 });
  const x = tf.randomUniform([4, 8, 8, 1], 0, 1, 'float32', 7);
  const lossOf = (m: tfl.LayersModel) => () => tf.mean(tf.square(tf.sub(m.apply(x) as tf.Tensor, 1))) as tf.Scalar;
  const vars = (m: tfl.LayersModel) => m.trainableWeights.map((w) => w.read() as tf.Variable);
  // uninterrupted: 3 steps
  const a = makeModel();
  const optA = tf.train.adam(0.05);
  for (let i = 0; i < 3; i++) optA.minimize(lossOf(a), false, vars(a));
  // interrupted after 2 steps, checkpoint written, then a new model + optimizer resume for 1 step
  const b = makeModel();
  const optB = tf.train.adam(0.05);
  for (let i = 0; i < 2; i++) optB.minimize(lossOf(b), false, vars(b));
  const file = path.join(tmp, 'adam-checkpoint.bin');
  writeCheckpoint(file, {
    progress: { step: 2, bestAccuracy: -1, bestStep: -1, stale: 0, elapsedSeconds: 0 },
    config: {},
    weights: await captureWeights(b),
    optimizer: await getOptimizerState(optB),
  });
  const ckpt = readCheckpoint(file);
  const c = makeModel();
  restoreWeights(c, ckpt.weights);
  const optC = tf.train.adam(0.05);
  await setOptimizerState(optC, ckpt.optimizer, vars(c));
  optC.minimize(lossOf(c), false, vars(c));
  const wa = a.getWeights().map((t) => Array.from(t.dataSync()));
  const wc = c.getWeights().map((t) => Array.from(t.dataSync()));
  wa.forEach((w, i) => w.forEach((v, j) => assert.ok(Math.abs(v - wc[i]![j]!) < 1e-6, `weight ${i}[${j}]: ${v} vs ${wc[i]![j]}`)));
  // errors: slots of another model, corrupt or missing files
  await assert.rejects(setOptimizerState(tf.train.adam(0.1), ckpt.optimizer, vars(createEncoder('tiny', { embeddingDim: 4 }))), /shape|does not fit/);
  fs.writeFileSync(path.join(tmp, 'junk.bin'), 'hello');
  assert.throws(() => readCheckpoint(path.join(tmp, 'junk.bin')), /not a fewshot checkpoint/);
  assert.throws(() => readCheckpoint(path.join(tmp, 'none.bin')), /no checkpoint at/);
});
