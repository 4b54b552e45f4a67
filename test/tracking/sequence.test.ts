import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { zipSync } from 'fflate';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { parseGroundTruth } from '../../src/tracking/ground_truth.js';
import { loadSequence, loadSequences } from '../../src/tracking/sequence.js';
import { makeFrames, writeSequence } from './synthetic.js';
import { runTrackers } from '../../src/tracking/run.js';
import { NccScorer } from '../../src/tracking/scorers.js';
import { SIAMFC_PARAMS } from '../../src/tracking/tracker.js';
import { selectBackend } from '../../src/backend/select.js';

// The fastest backend present: NCC's 63x63 filter on the pure-JS cpu backend takes seconds a frame.
await selectBackend('auto', { quiet: true });

test('ground truth: comma, tab and space separators; 1-based to 0-based', () => {
  const boxes = parseGroundTruth('10,20,30,40\n11\t21\t31\t41\r\n12 22  32 42\n\n', 'gt.txt');
  assert.deepEqual(boxes, [
    { x: 9, y: 19, w: 30, h: 40 },
    { x: 10, y: 20, w: 31, h: 41 },
    { x: 11, y: 21, w: 32, h: 42 },
  ]);
});

test('ground truth: NaN and zero-size lines mean target absent', () => {
  assert.deepEqual(parseGroundTruth('1,1,5,5\nNaN,NaN,NaN,NaN\n0,0,0,0\n', 'gt.txt'), [{ x: 0, y: 0, w: 5, h: 5 }, null, null]);
});

test('ground truth: malformed lines name the file and the line', () => {
  assert.throws(() => parseGroundTruth('1,2,3,4\n1,2,3\n', 'seq/groundtruth_rect.txt'), /seq\/groundtruth_rect\.txt:2: expected 4 numbers/);
  assert.throws(() => parseGroundTruth('1,2,3,4\n1,2,3,4\n1,a,3,4\n', 'gt.txt'), /gt\.txt:3: not a number in "1,a,3,4"/);
  assert.throws(() => parseGroundTruth('1,2,3,4\n\n1,2,3,4\n', 'gt.txt'), /gt\.txt:2: empty line/);
  assert.throws(() => parseGroundTruth('1,2,-3,4\n', 'gt.txt'), /gt\.txt:1: negative width/);
  assert.throws(() => parseGroundTruth('   \n', 'gt.txt'), /gt\.txt: no boxes/);
});

test('a generated sequence folder loads, frames decode, and so does a zip of it', async () => {
  const { frames, boxes } = makeFrames({ frames: 4, width: 40, height: 30, size: 8 });
  const dir = writeSequence(frames, boxes, { name: 'Tiny' });
  const seq = await loadSequence(dir);
  assert.equal(seq.name, 'Tiny');
  assert.equal(seq.length, 4);
  assert.deepEqual(seq.groundTruth[2], boxes[2]);
  const f = seq.readFrame(3);
  assert.deepEqual([f.width, f.height, f.channels], [40, 30, 3]);
  assert.deepEqual(Array.from(f.data.subarray(0, 30)), Array.from(frames[3]!.data.subarray(0, 30)));
  // The same folder inside a zip, next to a second sequence.
  const files: Record<string, Uint8Array> = {};
  const add = (base: string, prefix: string) => {
    for (const name of readdirSync(base)) {
      const p = join(base, name);
      if (statSync(p).isDirectory()) add(p, `${prefix}${name}/`);
      else files[`${prefix}${name}`] = new Uint8Array(readFileSync(p));
    }
  };
  add(dir, 'bench/Tiny/');
  add(dir, 'bench/Other/');
  const zip = join(mkdtempSync(join(tmpdir(), 'fewshot-track-zip-')), 'bench.zip');
  writeFileSync(zip, zipSync(files));
  const all = await loadSequences(zip);
  assert.deepEqual(all.map((s) => s.name), ['Other', 'Tiny']);
  assert.equal(all[1]!.readFrame(0).width, 40);
});

test('a missing frame is named in the error', async () => {
  const { frames, boxes } = makeFrames({ frames: 5, width: 32, height: 24, size: 6 });
  const gap = writeSequence(frames, boxes, { name: 'Gap', skipFrames: [2] });
  await assert.rejects(loadSequence(gap), /Gap\/img\/0003\.png: frame is missing/);
  const short = writeSequence(frames, boxes, { name: 'Short', skipFrames: [4] });
  await assert.rejects(loadSequence(short), /Short\/img\/0005\.png: frame is missing: groundtruth_rect\.txt has 5 boxes but img\/ holds 4 frames/);
});

test('malformed ground truth in a sequence folder names file and line', async () => {
  const { frames, boxes } = makeFrames({ frames: 3, width: 32, height: 24, size: 6 });
  const dir = writeSequence(frames, boxes, { name: 'Bad', groundTruth: '5,5,6,6\n6,6,6\n7,7,6,6\n' });
  await assert.rejects(loadSequence(dir), /Bad\/groundtruth_rect\.txt:2: expected 4 numbers/);
  const none = mkdtempSync(join(tmpdir(), 'fewshot-track-empty-'));
  await assert.rejects(loadSequence(none), /not a tracking sequence/);
});

test('bad input: first box NaN or zero-size, a box outside the image, a frame of another size', async () => {
  const { frames, boxes } = makeFrames({ frames: 3, width: 32, height: 24, size: 6 });
  for (const first of ['NaN,NaN,NaN,NaN', '5,5,0,6']) {
    const dir = writeSequence(frames, boxes, { name: 'First', groundTruth: `${first}\n5,5,6,6\n5,5,6,6\n` });
    await assert.rejects(loadSequence(dir), /First\/groundtruth_rect\.txt:1: the first box must be present and have a positive size/);
  }
  // Line 3 puts the box at x = 40 in a 32 px wide frame: an error when that frame is read.
  const outside = await loadSequence(writeSequence(frames, boxes, { name: 'Outside', groundTruth: '5,5,6,6\n5,5,6,6\n41,5,6,6\n' }));
  outside.readFrame(0);
  outside.readFrame(1);
  assert.throws(() => outside.readFrame(2), /Outside\/groundtruth_rect\.txt:3: box 41,5,6,6 lies entirely outside the 32x24 frame 0003\.png/);
  // Partly outside is a normal box (targets leave the frame edge in OTB too).
  const partly = await loadSequence(writeSequence(frames, boxes, { name: 'Partly', groundTruth: '5,5,6,6\n-2,-2,6,6\n30,20,6,6\n' }));
  for (let i = 0; i < 3; i++) partly.readFrame(i);
  const resized = [...frames];
  resized[1] = makeFrames({ frames: 2, width: 40, height: 24, size: 6 }).frames[1]!;
  const mixed = await loadSequence(writeSequence(resized, boxes, { name: 'Mixed' }));
  mixed.readFrame(0);
  assert.throws(() => mixed.readFrame(1), /Mixed\/img\/0002\.png: frame is 40x24 but 0001\.png is 32x24/);
});

test('grayscale frames load as one channel and are tracked like colour ones', async () => {
  const { frames, boxes } = makeFrames({ frames: 5, seed: 14 });
  const gray = frames.map((f) => {
    const data = new Uint8Array(f.width * f.height);
    for (let i = 0; i < data.length; i++) data[i] = Math.round((f.data[3 * i]! + f.data[3 * i + 1]! + f.data[3 * i + 2]!) / 3);
    return { width: f.width, height: f.height, channels: 1 as const, data };
  });
  const seq = await loadSequence(writeSequence(gray, boxes, { name: 'Gray' }));
  assert.equal(seq.readFrame(0).channels, 1);
  const [run] = runTrackers(seq, [{ name: 'ncc', scorer: new NccScorer(), params: SIAMFC_PARAMS }]);
  assert.equal(run!.scores.precision20, 1);
});
