import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../../src/backend/select.js';
import { balancedLogisticLoss } from '../../src/tracking/loss.js';
import { buildSiamFC, DEFAULT_SIAMFC, ENCODER_STRIDE, scoreSize } from '../../src/tracking/siamfc_model.js';
import { trainSiamFC } from '../../src/tracking/train.js';
import { EncoderSiamNetwork } from '../../src/tracking/siam_network.js';
import { curateFrame, scoreLabels, StillPairSource, VideoPairSource, type PairGeometry } from '../../src/tracking/training_pairs.js';
import { Rng } from '../../src/util/random.js';
import type { Image } from '../../src/tracking/data_access.js';
import { makeFrames } from './synthetic.js';

await selectBackend('cpu', { quiet: true });

const geom: PairGeometry = { exemplarSize: 63, searchSize: 127, context: 0.5, stride: ENCODER_STRIDE, scoreSize: scoreSize(DEFAULT_SIAMFC) };

test('SiamFC labels: positives within the radius of the target, balanced weights', () => {
  const { labels, weights } = scoreLabels(geom, 63.5, 63.5, 8);
  // Radius 8 px = 2 cells: the 13 cells with i^2 + j^2 <= 4 around the centre cell (8, 8).
  assert.equal(labels.reduce((a, b) => a + b, 0), 13);
  assert.equal(labels[8 * 17 + 8], 1);
  assert.equal(labels[8 * 17 + 11], 0);
  let pos = 0;
  let neg = 0;
  labels.forEach((l, i) => (l ? (pos += weights[i]!) : (neg += weights[i]!)));
  assert.ok(Math.abs(pos - 0.5) < 1e-6 && Math.abs(neg - 0.5) < 1e-6);
  // A target 8 px right of the centre moves the positives 2 cells right.
  const shifted = scoreLabels(geom, 71.5, 63.5, 8).labels;
  assert.equal(shifted[8 * 17 + 10], 1);
  assert.equal(shifted[8 * 17 + 7], 0);
});

test('balanced logistic loss matches log(1 + exp(-y v)) by hand', () => {
  const v = tf.tensor4d([2, -1, 0.5, 0], [1, 2, 2, 1]);
  const y = tf.tensor4d([1, 0, 0, 1], [1, 2, 2, 1]);
  const w = tf.tensor4d([0.25, 0.25, 0.25, 0.25], [1, 2, 2, 1]);
  const expected = 0.25 * (Math.log1p(Math.exp(-2)) + Math.log1p(Math.exp(-1)) + Math.log1p(Math.exp(0.5)) + Math.log(2));
  assert.ok(Math.abs(balancedLogisticLoss(v, y, w).dataSync()[0]! - expected) < 1e-6);
});

test('pair sources put the target where the label says and stay inside the crop', () => {
  const { frames, boxes } = makeFrames({ frames: 6, seed: 21 });
  const rng = new Rng(5);
  const video = new VideoPairSource([frames.map((f, i) => curateFrame(f, boxes[i]!, geom))], geom, { maxGap: 3 });
  const stills = new StillPairSource(frames.map((image, i) => ({ image, boxes: [boxes[i]!] })), geom);
  for (const source of [video, stills]) {
    for (let k = 0; k < 5; k++) {
      const p = source.sample(rng);
      assert.equal(p.exemplar.length, 63 * 63 * 3);
      assert.equal(p.search.length, 127 * 127 * 3);
      assert.ok(p.targetX > 40 && p.targetX < 87 && p.targetY > 40 && p.targetY < 87, `target ${p.targetX}, ${p.targetY}`);
      assert.ok(p.search.every((v) => v >= 0 && v <= 1));
    }
  }
  assert.throws(() => new StillPairSource([{ image: frames[0]! }], geom), /at least 2 images/);
});

test('hard negatives: another sequence\'s target is pasted beside the target (never over it), only when asked', () => {
  // Sequence A: uniform grey frames (any other pixel in a search crop was pasted); sequence B:
  // one frame whose 20 x 20 target is red.
  const side = 127 + 32;
  const grey = (): Image => ({ width: side, height: side, channels: 3, data: new Uint8Array(side * side * 3).fill(127) });
  const a = Array.from({ length: 4 }, () => ({ image: grey(), target: { w: 30, h: 30 } }));
  const red = grey();
  for (let y = 70; y < 90; y++) for (let x = 70; x < 90; x++) red.data.set([255, 0, 0], (y * side + x) * 3);
  const b = [{ image: red, target: { w: 20, h: 20 } }];
  const rng = new Rng(9);
  for (const lookAlikes of [1, 0]) {
    const source = new VideoPairSource([a, b], geom, { maxGap: 3, lookAlikes });
    for (let k = 0; k < 6; k++) {
      const p = source.sample(rng);
      const g = p.search[(Math.round(p.targetY) * 127 + Math.round(p.targetX)) * 3]!;
      let [x0, y0, x1, y1, n] = [127, 127, -1, -1, 0];
      for (let y = 0; y < 127; y++) {
        for (let x = 0; x < 127; x++) {
          if (Math.abs(p.search[(y * 127 + x) * 3]! - g) < 0.02) continue;
          [x0, y0, x1, y1, n] = [Math.min(x0, x), Math.min(y0, y), Math.max(x1, x), Math.max(y1, y), n + 1];
        }
      }
      if (lookAlikes === 0) {
        assert.equal(n, 0, 'nothing pasted without lookAlikes');
        continue;
      }
      // 20 px at scale 1/1.1..1.1, clipped at the crop border at most.
      assert.ok(n > 0 && x1 - x0 + 1 <= 23 && y1 - y0 + 1 <= 23, `pasted region ${x0},${y0}..${x1},${y1} (${n} px)`);
      const overlapX = Math.abs((x0 + x1) / 2 - p.targetX) < (x1 - x0 + 1) / 2 + 15 / 1.1;
      const overlapY = Math.abs((y0 + y1) / 2 - p.targetY) < (y1 - y0 + 1) / 2 + 15 / 1.1;
      assert.ok(!(overlapX && overlapY), `look-alike over the target at ${p.targetX},${p.targetY}`);
    }
  }
  assert.throws(() => new VideoPairSource([a], geom, { maxGap: 3, lookAlikes: 0.5 }), /second sequence/);
  assert.throws(() => new VideoPairSource([a, b], geom, { maxGap: 3, lookAlikes: 2 }), /probability/);
});

test('training runs on both sources, the loss is finite and falls, no tensors leak', () => {
  const { frames, boxes } = makeFrames({ frames: 8, seed: 22 });
  const video = new VideoPairSource([frames.map((f, i) => curateFrame(f, boxes[i]!, geom))], geom, { maxGap: 4 });
  const stills = new StillPairSource(frames.map((image, i) => ({ image, boxes: [boxes[i]!] })), geom);
  const model = new EncoderSiamNetwork(buildSiamFC({ ...DEFAULT_SIAMFC, channels: [4, 8, 8, 8], seed: 2 }));
  const before = tf.memory().numTensors;
  const r = trainSiamFC(model, { video, stills }, geom, {
    steps: 12,
    batchSize: 2,
    learningRate: 3e-3,
    finalLearningRate: 1e-3,
    videoFraction: 0.5,
    labelRadius: 8,
    seed: 1,
  });
  assert.equal(tf.memory().numTensors, before, 'training leaked tensors');
  assert.equal(r.losses.length, 12);
  assert.ok(r.losses.every(Number.isFinite));
  assert.equal(r.pairs.video + r.pairs.stills, 24);
  const first = (r.losses[0]! + r.losses[1]! + r.losses[2]!) / 3;
  const last = (r.losses[9]! + r.losses[10]! + r.losses[11]!) / 3;
  assert.ok(last < first, `loss did not fall: ${first.toFixed(3)} -> ${last.toFixed(3)}`);
  assert.throws(
    () => trainSiamFC(model, { stills }, geom, { steps: 1, batchSize: 1, learningRate: 1e-3, finalLearningRate: 1e-3, videoFraction: 1, labelRadius: 8, seed: 1 }),
    /no video source/,
  );
});
