import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodePng } from '../../src/data/image.js';
import { resolveLayout } from '../../src/data/layout.js';
import { loadImageDataset } from '../../src/data/dataset.js';
import { openSource } from '../../src/data/source.js';
import { Rng } from '../../src/util/random.js';
import { glyph, omniglotFiles, pgm, writeTree, writeZip } from './helpers.js';

const png = (seed: number) => encodePng(glyph(new Rng(seed)));
const cfg = { height: 10, width: 10, channels: 1 as const, invert: true };

test('class folders nested one level in a zip (att_faces/s1/1.pgm)', async () => {
  const files: Record<string, Uint8Array> = { 'att_faces/README': new TextEncoder().encode('readme') };
  for (let s = 1; s <= 3; s++) for (let k = 1; k <= 2; k++) files[`att_faces/s${s}/${k}.pgm`] = pgm(4, 5, new Uint8Array(20).fill(s * 40 + k));
  const src = await openSource(writeZip(files));
  const layout = resolveLayout(src);
  assert.equal(layout.layout, 'class-folders');
  assert.deepEqual(layout.classNames, ['s1', 's2', 's3']);
  assert.deepEqual(layout.classGroups, ['s1', 's2', 's3']);
  assert.equal(layout.files.length, 6);
  assert.deepEqual(layout.files.map((f) => f.label), [0, 0, 1, 1, 2, 2]);
});

test('omniglot layout: class = alphabet/character, group = alphabet; also both sets at once', async () => {
  const files = { ...omniglotFiles(['Alpha', 'Beta'], 2, 3), ...omniglotFiles(['Gamma'], 1, 2, 2, 'images_evaluation') };
  const src = await openSource(writeZip(files));
  const l = resolveLayout(src);
  assert.equal(l.layout, 'omniglot');
  assert.deepEqual(l.classNames, ['Alpha/character01', 'Alpha/character02', 'Beta/character01', 'Beta/character02', 'Gamma/character01']);
  assert.deepEqual(l.classGroups, ['Alpha', 'Alpha', 'Beta', 'Beta', 'Gamma']);
  // The images_background folder itself, given as a directory, is detected too (depth 3).
  const dir = writeTree(omniglotFiles(['Alpha', 'Beta'], 2, 3));
  const l2 = resolveLayout(await openSource(`${dir}/images_background`));
  assert.equal(l2.layout, 'omniglot');
  assert.deepEqual(l2.classGroups, ['Alpha', 'Alpha', 'Beta', 'Beta']);
});

test('auto-detection and forced layouts', async () => {
  const flat = await openSource(writeTree({ 'cat/1.png': png(1), 'cat/2.png': png(2), 'dog/1.png': png(3) }));
  assert.equal(resolveLayout(flat).layout, 'class-folders');
  assert.throws(() => resolveLayout(flat, 'omniglot'), /does not fit the omniglot layout/);
  const om = await openSource(writeTree(omniglotFiles(['A', 'B'], 2, 2)));
  assert.equal(resolveLayout(om).layout, 'omniglot');
  assert.throws(() => resolveLayout(om, 'class-folders'), /does not fit the class-folders layout/);
});

test('clear errors: no images, mixed depths, image outside a class, empty class folder', async () => {
  await assert.rejects(loadImageDataset(writeTree({ 'a/readme.txt': new TextEncoder().encode('x') }), { preprocess: cfg }), /holds no images/);
  const mixed = await openSource(writeTree({ 'a/1.png': png(1), 'b/c/2.png': png(2), 'b/c/3.png': png(3) }));
  assert.throws(() => resolveLayout(mixed), /cannot tell the layout/);
  const loose = await openSource(writeTree({ '1.png': png(1) }));
  assert.throws(() => resolveLayout(loose), /1\.png/);
  const empty = await openSource(writeTree({ 'a/1.png': png(1), 'b/notes.txt': new TextEncoder().encode('x') }, ['c']));
  assert.throws(() => resolveLayout(empty), /class folder (b|c) holds no images/);
});

test('loadImageDataset: directory and zip give the same dataset; a corrupt image names its file', async () => {
  const files = omniglotFiles(['Alpha', 'Beta', 'Gamma'], 2, 3, 7);
  const fromDir = await loadImageDataset(writeTree(files), { preprocess: cfg });
  let calls = 0;
  const fromZip = await loadImageDataset(writeZip(files), { preprocess: cfg, onProgress: (done, total) => { calls++; assert.ok(done <= total); } });
  assert.ok(calls > 0);
  assert.equal(fromZip.size, 18);
  assert.equal(fromZip.numClasses, 6);
  assert.deepEqual(fromZip.pixels, fromDir.pixels);
  assert.deepEqual(fromZip.labels, fromDir.labels);
  assert.deepEqual(fromZip.classNames, fromDir.classNames);
  assert.deepEqual(fromZip.paths, fromDir.paths);
  assert.deepEqual(fromZip.indicesByClass()[1], [3, 4, 5]);

  const only = await loadImageDataset(writeZip(files), { preprocess: cfg, groups: ['Beta'], maxPerClass: 2 });
  assert.deepEqual(only.classNames, ['Beta/character01', 'Beta/character02']);
  assert.equal(only.size, 4);

  const bad = { ...files, 'images_background/Beta/character01/broken.png': new Uint8Array([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]) };
  await assert.rejects(loadImageDataset(writeZip(bad), { preprocess: cfg }), /images_background\/Beta\/character01\/broken\.png/);
  await assert.rejects(loadImageDataset(writeZip(files), { preprocess: cfg, groups: ['Nope'] }), /no group named Nope/);
});

test('subsetByClasses relabels and copies; bad indices are refused', async () => {
  const ds = await loadImageDataset(writeTree(omniglotFiles(['A', 'B'], 2, 2, 3)), { preprocess: cfg });
  const sub = ds.subsetByClasses([3, 0]);
  assert.deepEqual(sub.classNames, [ds.classNames[3], ds.classNames[0]]);
  assert.deepEqual(Array.from(sub.labels), [0, 0, 1, 1]);
  assert.deepEqual(sub.imagePixels(0), ds.imagePixels(ds.indicesByClass()[3]![0]!));
  assert.throws(() => ds.subsetByClasses([9]), /outside/);
  assert.throws(() => ds.subsetByClasses([1, 1]), /twice/);
});
