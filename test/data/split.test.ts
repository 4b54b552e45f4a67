import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ImageDataset } from '../../src/data/dataset.js';
import { OMNIGLOT_BACKGROUND_ALPHABETS, omniglotValidationAlphabets, splitByClass, splitByGroup } from '../../src/data/split.js';

/** A synthetic dataset: `groups` groups x `perGroup` classes x 3 images of 2x2, pixel = label. */
function synthetic(groups: number, perGroup: number): ImageDataset {
  const classNames: string[] = [];
  const classGroups: string[] = [];
  for (let g = 0; g < groups; g++) for (let c = 0; c < perGroup; c++) { classNames.push(`g${g}/c${c}`); classGroups.push(`g${g}`); }
  const labels = Int32Array.from({ length: classNames.length * 3 }, (_, i) => Math.floor(i / 3));
  const pixels = new Uint8Array(labels.length * 4);
  labels.forEach((l, i) => pixels.fill(l, i * 4, i * 4 + 4));
  return new ImageDataset({ height: 2, width: 2, channels: 1, pixels, labels, classNames, classGroups, paths: Array.from(labels, (_, i) => `img${i}.png`) });
}

function checkDisjoint(ds: ImageDataset, train: ImageDataset, val: ImageDataset): void {
  const t = new Set(train.classNames), v = new Set(val.classNames);
  for (const c of v) assert.ok(!t.has(c), `${c} in both`);
  assert.equal(t.size + v.size, ds.numClasses);
  assert.equal(train.size + val.size, ds.size);
  // Pixels travelled with their (relabelled) class.
  for (const part of [train, val]) for (let i = 0; i < part.size; i++) {
    const original = ds.classNames.indexOf(part.classNames[part.labels[i]!]!);
    assert.equal(part.imagePixels(i)[0], original);
  }
}

test('splitByGroup: whole groups go to validation, deterministic by seed', () => {
  const ds = synthetic(10, 3);
  const a = splitByGroup(ds, { seed: 5, validationFraction: 0.3 });
  const b = splitByGroup(ds, { seed: 5, validationFraction: 0.3 });
  const c = splitByGroup(ds, { seed: 6, validationFraction: 0.3 });
  checkDisjoint(ds, a.train, a.validation);
  assert.deepEqual(a.validation.classNames, b.validation.classNames);
  assert.equal(new Set(a.validation.classGroups).size, 3);
  const tg = new Set(a.train.classGroups);
  for (const g of a.validation.classGroups) assert.ok(!tg.has(g), `group ${g} on both sides`);
  assert.notDeepEqual(a.validation.groups(), c.validation.groups());
});

test('splitByGroup with explicit groups, and its errors', () => {
  const ds = synthetic(4, 2);
  const s = splitByGroup(ds, { seed: 0, validationGroups: ['g1', 'g3'] });
  assert.deepEqual(s.validation.groups(), ['g1', 'g3']);
  assert.deepEqual(s.train.groups(), ['g0', 'g2']);
  assert.throws(() => splitByGroup(ds, { seed: 0, validationGroups: ['g9'] }), /unknown validation group/);
  assert.throws(() => splitByGroup(ds, { seed: 0, validationGroups: ['g0', 'g1', 'g2', 'g3'] }), /proper subset/);
  assert.throws(() => splitByGroup(synthetic(1, 3), { seed: 0 }), /at least 2 groups/);
});

test('splitByClass: disjoint classes, deterministic by seed', () => {
  const ds = synthetic(2, 10);
  const a = splitByClass(ds, { seed: 1, validationFraction: 0.25 });
  const b = splitByClass(ds, { seed: 1, validationFraction: 0.25 });
  checkDisjoint(ds, a.train, a.validation);
  assert.equal(a.validation.numClasses, 5);
  assert.deepEqual(a.validation.classNames, b.validation.classNames);
  assert.notDeepEqual(splitByClass(ds, { seed: 2, validationFraction: 0.25 }).validation.classNames, a.validation.classNames);
  assert.throws(() => splitByClass(ds, { seed: 1, validationFraction: 1 }), /validationFraction/);
});

test('the project default Omniglot validation alphabets are fixed', () => {
  assert.equal(OMNIGLOT_BACKGROUND_ALPHABETS.length, 30);
  assert.deepEqual(omniglotValidationAlphabets(), [
    'Futurama', 'Greek', 'Hebrew', 'Japanese_(katakana)', 'Mkhedruli_(Georgian)', 'Sanskrit',
  ]);
  assert.equal(omniglotValidationAlphabets(8, 3).length, 8);
});
