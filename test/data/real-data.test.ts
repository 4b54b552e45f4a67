/**
 * A handful of real files from ../shared/data, when it exists (it does on developers' machines and
 * in CI; a user's clone may lack it, and the generated-data tests cover the same code there).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { decodeImage } from '../../src/data/image.js';
import { loadImageDataset } from '../../src/data/dataset.js';
import { openSource } from '../../src/data/source.js';
import { preprocess } from '../../src/data/preprocess.js';
import { omniglotValidationAlphabets, splitByGroup } from '../../src/data/split.js';
import { sharedDataDir } from './helpers.js';

const shared = sharedDataDir();
const opts = { skip: shared === null ? 'no ../shared/data here (tests on generated data cover this code)' : false };

test('real Omniglot: 1-bit PNGs from the zip, layout, preprocessing and the validation split', opts, async () => {
  const zip = join(shared!, 'omniglot', 'images_background.zip');
  const groups = ['Greek', 'Latin', 'Futurama'];
  const ds = await loadImageDataset(zip, { preprocess: { height: 28, width: 28, channels: 1, invert: true }, groups, maxPerClass: 3 });
  assert.deepEqual(ds.groups(), ['Futurama', 'Greek', 'Latin']);
  assert.equal(ds.numClasses, 24 + 26 + 26); // Greek 24, Latin 26, Futurama 26 characters
  assert.equal(ds.size, ds.numClasses * 3);
  assert.match(ds.classNames[0]!, /^Futurama\/character\d\d$/);
  // Ink is high after inversion: most pixels are paper (0), some are ink.
  const px = ds.imagePixels(0);
  const zeros = px.filter((v) => v === 0).length;
  assert.ok(zeros > px.length * 0.5 && zeros < px.length, `${zeros} paper pixels of ${px.length}`);
  const split = splitByGroup(ds, { seed: 0, validationGroups: omniglotValidationAlphabets().filter((a) => groups.includes(a)) });
  assert.deepEqual(split.validation.groups(), ['Futurama', 'Greek']);
  assert.deepEqual(split.train.groups(), ['Latin']);

  const src = await openSource(zip);
  const first = src.list()[0]!;
  const img = decodeImage(src.read(first), first);
  assert.deepEqual([img.width, img.height, img.channels], [105, 105, 1]);
  assert.ok(img.data.every((v) => v === 0 || v === 255));
});

test('real AT&T faces: binary PGM in att_faces/s<N>/', opts, async () => {
  const src = await openSource(join(shared!, 'faces', 'att_faces.zip'));
  const img = decodeImage(src.read('att_faces/s1/1.pgm'), 'att_faces/s1/1.pgm');
  assert.deepEqual([img.width, img.height, img.channels], [92, 112, 1]);
  const ds = await loadImageDataset(join(shared!, 'faces', 'att_faces.zip'), { preprocess: { height: 56, width: 46, channels: 1, invert: false }, maxPerClass: 2 });
  assert.equal(ds.numClasses, 40);
  assert.equal(ds.size, 80);
  assert.ok(ds.classNames.includes('s40'));
});

test('real signatures: large grayscale PNG scans, cropped to ink and padded', opts, async () => {
  const src = await openSource(join(shared!, 'signatures', 'handwritten_signatures.zip'));
  const path = src.list().find((p) => p.startsWith('dataset3/real/'))!;
  const img = decodeImage(src.read(path), path);
  assert.equal(img.channels, 1);
  assert.ok(img.width > 300 && img.height > 100);
  const px = preprocess(img, { height: 64, width: 128, channels: 1, invert: true, cropToInk: true, keepAspect: true });
  assert.equal(px.length, 64 * 128);
  assert.ok(px.some((v) => v > 128), 'some ink survives');
});

test('real tracking frames: colour JPEGs', opts, async () => {
  const src = await openSource(join(shared!, 'tracking', 'sequences.zip'));
  const frames = src.list().filter((p) => /^(Crossing|boat1)\/img\/0001\.jpg$/.test(p));
  assert.equal(frames.length, 2);
  for (const f of frames) {
    const img = decodeImage(src.read(f), f);
    assert.equal(img.channels, 3);
    assert.ok(img.width >= 300 && img.height >= 200, `${f}: ${img.width}x${img.height}`);
  }
  assert.match(new TextDecoder().decode(src.read('Crossing/groundtruth_rect.txt')).split('\n')[0]!, /^\d+[,\s]\d+[,\s]\d+[,\s]\d+/);
});
