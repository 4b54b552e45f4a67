import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FusedScorer } from '../../src/tracking/fused_scorer.js';
import { argmax } from '../../src/tracking/response.js';
import type { ResponseScorer } from '../../src/tracking/tracker.js';

/** A fake member: `mapFor(crop index)` gives its (deterministic) size x size maps. */
function fake(name: string, stride: number, size: number, mapFor: (i: number) => Float32Array): ResponseScorer & { exemplars: number; disposed: boolean } {
  return {
    name,
    stride,
    exemplars: 0,
    disposed: false,
    setExemplar() {
      this.exemplars++;
    },
    score(crops) {
      return { maps: crops.map((_, i) => mapFor(i)), size };
    },
    dispose() {
      this.disposed = true;
    },
  };
}

/** A map with a Gaussian bump at cell (x, y) on a small ramp (so maps are never constant). */
function bump(size: number, x: number, y: number, height = 1): Float32Array {
  const m = new Float32Array(size * size);
  for (let j = 0; j < size; j++) for (let i = 0; i < size; i++) m[j * size + i] = 0.001 * i + height * Math.exp(-((i - x) ** 2 + (j - y) ** 2) / 0.5);
  return m;
}

/** Pixel displacement (dx, dy) of the argmax of a centred map of stride `stride`. */
function peakDisplacement(map: Float32Array, size: number, stride: number): [number, number] {
  const p = argmax(map);
  const c = (size - 1) / 2;
  return [((p % size) - c) * stride, (Math.floor(p / size) - c) * stride];
}

const crops = [new Float32Array(1), new Float32Array(1), new Float32Array(1)];

test('a peak of a stride-8 member lands at the same pixel displacement on the stride-4 grid', () => {
  // Stride 8, 11 x 11 (centre 5): cell (7, 3) is (+16, -16) px; the stride-4 member is flat.
  const coarse = fake('s8', 8, 11, () => bump(11, 7, 3));
  const fine = fake('s4', 4, 25, () => bump(25, 12, 12, 0));
  const fused = new FusedScorer([fine, coarse], [0.5, 0.5]);
  assert.equal(fused.stride, 4);
  const { maps, size } = fused.score(crops, 128);
  assert.equal(size, 25);
  assert.equal(maps.length, 3);
  assert.deepEqual(peakDisplacement(maps[0]!, size, fused.stride), [16, -16]);
  // The members alone agree on the same displacement.
  assert.deepEqual(peakDisplacement(coarse.score(crops, 128).maps[0]!, 11, 8), [16, -16]);
});

test('the output grid spans the widest member and is centred, so SiamTracker reads displacements right', () => {
  // Stride 8 x 11 cells reaches +-40 px; stride 4 x 9 cells only +-16: the grid must reach +-40 px,
  // which is 10 cells of stride 4 each side.
  const fused = new FusedScorer([fake('a', 4, 9, () => bump(9, 4, 4)), fake('b', 8, 11, () => bump(11, 10, 5))], [1e-6, 1]);
  const { maps, size } = fused.score(crops, 128);
  assert.equal(size, 21);
  assert.deepEqual(peakDisplacement(maps[0]!, size, 4), [40, 0]);
});

test('weights [1, 0] give the first member argmax, [0, 1] the second', () => {
  const members = () => [fake('s4', 4, 25, () => bump(25, 6, 18)), fake('s8', 8, 11, () => bump(11, 8, 2))];
  const first = new FusedScorer(members(), [1, 0]).score(crops, 128);
  assert.deepEqual(peakDisplacement(first.maps[0]!, first.size, 4), [-24, 24]);
  const second = new FusedScorer(members(), [0, 1]).score(crops, 128);
  assert.deepEqual(peakDisplacement(second.maps[0]!, second.size, 4), [24, -24]);
});

test('bad weights throw a clear error', () => {
  const members = () => [fake('a', 4, 25, () => bump(25, 1, 1)), fake('b', 8, 11, () => bump(11, 1, 1))];
  assert.throws(() => new FusedScorer(members(), [-0.5, 1]), /finite and >= 0/);
  assert.throws(() => new FusedScorer(members(), [NaN, 1]), /finite and >= 0/);
  assert.throws(() => new FusedScorer(members(), [Infinity, 1]), /finite and >= 0/);
  assert.throws(() => new FusedScorer(members(), [0, 0]), /must not sum to 0/);
  assert.throws(() => new FusedScorer(members(), [1]), /1 weights for 2 members/);
  assert.throws(() => new FusedScorer(members().slice(0, 1), [1]), /at least 2 members/);
});

test('standardisation: scaling one member by 1000 does not change the fused argmax', () => {
  // Two members with peaks in different places, different heights per scale: the fused argmax of
  // every scale must not move when one member's logits are multiplied by 1000 (or shifted).
  const a = (i: number) => bump(25, 4 + i, 12, 1 + i);
  const b = (i: number) => bump(11, 6, 3 + i, 2 - 0.5 * i);
  const ref = new FusedScorer([fake('a', 4, 25, a), fake('b', 8, 11, b)], [0.5, 0.5]).score(crops, 128);
  const scaled = new FusedScorer(
    [fake('a', 4, 25, a), fake('b', 8, 11, (i) => b(i).map((v) => 1000 * v + 7))],
    [0.5, 0.5],
  ).score(crops, 128);
  for (let i = 0; i < crops.length; i++) {
    assert.equal(argmax(scaled.maps[i]!), argmax(ref.maps[i]!), `scale ${i}`);
    for (let j = 0; j < ref.maps[i]!.length; j++) assert.ok(Math.abs(scaled.maps[i]![j]! - ref.maps[i]![j]!) < 1e-3);
  }
  // And the fused maps are not just one member: both peaks show.
  const m = ref.maps[0]!;
  const at = (dx: number, dy: number) => m[(12 + dy / 4) * 25 + 12 + dx / 4]!;
  assert.ok(at(-32, 0) > 0.5 && at(8, -16) > 0.5);
});

test('setExemplar and dispose reach every member', () => {
  const members = [fake('a', 4, 25, () => bump(25, 1, 1)), fake('b', 8, 11, () => bump(11, 1, 1)), fake('c', 8, 11, () => bump(11, 2, 2))];
  const fused = new FusedScorer(members, [1, 1, 1]);
  fused.setExemplar(new Float32Array(3), 1);
  fused.dispose();
  assert.deepEqual(members.map((m) => [m.exemplars, m.disposed]), [[1, true], [1, true], [1, true]]);
  assert.equal('embedTemplate' in fused, false);
});
