import { test } from 'node:test';
import assert from 'node:assert/strict';
import { detectInk, intensityStats, shouldInvert } from '../../src/data/ink.js';
import { encodePng } from '../../src/data/image.js';
import { classDigest, seenTrainingClasses, trainClassDigests } from '../../src/models/training_classes.js';
import type { FileSource } from '../../src/data/zip_source.js';
import type { ModelMetadata } from '../../src/models/metadata.js';

/** An in-memory class-folder source of 16x16 grayscale images made by `draw`. */
function source(draw: (x: number, y: number) => number): FileSource {
  const files = new Map<string, Uint8Array>();
  for (const c of ['a', 'b']) {
    for (let k = 0; k < 3; k++) {
      const data = new Uint8Array(16 * 16);
      for (let y = 0; y < 16; y++) for (let x = 0; x < 16; x++) data[y * 16 + x] = draw(x + k, y);
      files.set(`${c}/${k}.png`, encodePng({ width: 16, height: 16, channels: 1, data }));
    }
  }
  return { location: 'memory', list: () => [...files.keys()].sort(), read: (p) => files.get(p)! };
}

test('dark strokes on white paper are inverted; a face-like photo (dark background, bright centre) is not', () => {
  const ink = detectInk(source((x, y) => (Math.abs(x - y) < 2 ? 0 : 255)));
  assert.equal(ink.invert, true);
  assert.ok(ink.borderMean > 200 && ink.sampled === 6);
  const photo = detectInk(source((x, y) => (Math.hypot(x - 8, y - 8) < 6 ? 200 : 40)));
  assert.equal(photo.invert, false);
  // Light border but a mostly dark image (a dark object on a white wall): not paper.
  assert.equal(shouldInvert({ border: 230, mean: 90 }), false);
  assert.deepEqual(intensityStats({ width: 3, height: 3, data: new Uint8Array([9, 9, 9, 9, 0, 9, 9, 9, 9]) }), { border: 9, mean: 8 });
});

test('training classes are recorded as digests, rotated copies left out; seen classes are found', () => {
  assert.equal(classDigest('Greek/character01'), classDigest('Greek/character01'));
  assert.notEqual(classDigest('Greek/character01'), classDigest('Greek/character02'));
  assert.match(classDigest('x'), /^[0-9a-f]{8}$/);
  const digests = trainClassDigests(['p1', 'p2', 'p1@rot90']);
  assert.equal(digests.length, 2);
  const meta = { training: { trainClassDigests: digests } } as unknown as ModelMetadata;
  assert.deepEqual(seenTrainingClasses(meta, { classNames: ['p1', 'p3'], classGroups: ['', ''] })?.seen, ['p1']);
  // An older Omniglot model: judged by its held-out alphabets.
  const old = { training: { data: '/x/images_background.zip', validationGroups: ['Greek'] } } as unknown as ModelMetadata;
  assert.deepEqual(seenTrainingClasses(old, { classNames: ['Greek/c1', 'Latin/c1'], classGroups: ['Greek', 'Latin'] })?.seen, ['Latin/c1']);
  assert.equal(seenTrainingClasses({ training: {} } as unknown as ModelMetadata, { classNames: ['a'], classGroups: [''] }), null);
});
