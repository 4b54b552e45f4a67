import { test } from 'node:test';
import assert from 'node:assert/strict';
import { selectBackend } from '../../src/backend/select.js';
import { createEncoder } from '../../src/models/encoders/registry.js';
import { ProtonetMethod } from '../../src/training/methods/protonet.js';
import { rotate90, withClassRotations } from '../../src/training/rotations.js';
import { Rng } from '../../src/util/random.js';
import { syntheticDataset } from './synthetic_omniglot.js';

await selectBackend('cpu', { quiet: true });
const opts = { batchSize: 8, way: 4, shot: 1, query: 1, classesPerBatch: 4, m: 2, miner: 'none' as const };

test('protonet within-group episodes take every class from one group (alphabet)', () => {
  const ds = syntheticDataset({ alphabets: 3, charactersPerAlphabet: 5, drawers: 3 });
  const method = new ProtonetMethod(createEncoder('tiny'), { ...opts, withinGroupEpisodes: 1 });
  const rng = new Rng(1);
  for (let i = 0; i < 20; i++) {
    const ep = method.sample(ds.indicesByClass(), rng, ds.classGroups);
    const groups = new Set([...ep.support].map((idx) => ds.classGroups[ds.labels[idx]!]));
    assert.equal(groups.size, 1);
    assert.equal(ep.classes.length, 4);
  }
  const mixed = new ProtonetMethod(createEncoder('tiny'), { ...opts, way: 6, withinGroupEpisodes: 0 });
  const ep = mixed.sample(ds.indicesByClass(), new Rng(2), ds.classGroups);
  assert.equal(ep.classes.length, 6); // more than one alphabet holds
});

test('class rotations: 4x the classes, rotated pixels, one group per alphabet and rotation', () => {
  const px = Uint8Array.from([1, 2, 3, 4]); // 2x2: [[1,2],[3,4]]
  assert.deepEqual(Array.from(rotate90(px, 2, 1, 1)), [2, 4, 1, 3]); // 90 degrees counter-clockwise
  assert.deepEqual(Array.from(rotate90(px, 2, 1, 4)), [1, 2, 3, 4]);
  const ds = syntheticDataset({ alphabets: 2, charactersPerAlphabet: 3, drawers: 2 });
  const rot = withClassRotations(ds);
  assert.equal(rot.numClasses, 4 * ds.numClasses);
  assert.equal(rot.size, 4 * ds.size);
  assert.equal(new Set(rot.classGroups).size, 8);
  assert.deepEqual(rot.imagePixels(ds.size), rotate90(ds.imagePixels(0), 28, 1, 1));
});
