import { test } from 'node:test';
import assert from 'node:assert/strict';
import { selectBackend } from '../../src/backend/select.js';
import type { Image } from '../../src/data/image.js';
import { FewShotClassifier, UNKNOWN } from '../../src/inference/few_shot_classifier.js';
import { identityScorer } from './identity_scorer.js';

await selectBackend('cpu', { quiet: true });
const scorer = identityScorer(4);

/** A 4x4 preprocessed image with ink (high) at the given pixels. */
function ink(...on: number[]): Uint8Array {
  const px = new Uint8Array(16);
  for (const i of on) px[i] = 255;
  return px;
}

test('ranks support classes by similarity; prototypes are class means', () => {
  const clf = new FewShotClassifier(scorer).fit([
    { label: 'left', images: [ink(0, 4), ink(0, 8)] },
    { label: 'right', images: [ink(3, 7)] },
  ]);
  assert.equal(clf.mode, 'prototypes');
  const [p] = clf.predict([ink(0, 4, 8)]);
  assert.equal(p!.label, 'left');
  assert.deepEqual(p!.ranked.map((r) => r.class), ['left', 'right']);
  assert.ok(p!.ranked[0]!.score > p!.ranked[1]!.score);
  // Prototype of 'left' = pixels 0 (255), 4 and 8 (127.5) -> distance to ink(0,4,8) by hand, in [0,1] units.
  const d = Math.sqrt(2 * 0.5 ** 2);
  assert.ok(Math.abs(p!.ranked[0]!.score + d) < 1e-5, `score ${p!.ranked[0]!.score}`);
});

test('examples mode scores a class by its examples (mean or max)', () => {
  const support = [
    { label: 'a', images: [ink(0), ink(15)] },
    { label: 'b', images: [ink(1)] },
  ];
  const maxClf = new FewShotClassifier(scorer, { mode: 'examples', aggregate: 'max' }).fit(support);
  assert.equal(maxClf.predict([ink(15)])[0]!.label, 'a');
  assert.ok(Math.abs(maxClf.predict([ink(15)])[0]!.score) < 1e-5, 'max over examples: the identical example');
  const meanClf = new FewShotClassifier(scorer, { mode: 'examples', aggregate: 'mean' }).fit(support);
  // Mean of 0 (identical) and sqrt(2) (the other example of 'a'), in [0,1] pixel units.
  assert.ok(Math.abs(meanClf.predict([ink(15)])[0]!.ranked.find((r) => r.class === 'a')!.score + Math.SQRT2 / 2) < 1e-4);
});

test("answers 'unknown' under the threshold, given or from the model's metadata", () => {
  const support = [{ label: 'a', images: [ink(0)] }, { label: 'b', images: [ink(1)] }];
  const clf = new FewShotClassifier(scorer, { threshold: -0.5 }).fit(support);
  assert.equal(clf.predict([ink(0)])[0]!.label, 'a');
  const far = clf.predict([ink(5, 6, 7)])[0]!;
  assert.equal(far.label, UNKNOWN);
  assert.equal(far.unknown, true);
  assert.equal(far.ranked.length, 2);
  const withMeta = identityScorer(4, { threshold: { value: -0.5, source: 'test' } });
  assert.equal(new FewShotClassifier(withMeta).fit(support).predict([ink(5, 6, 7)])[0]!.label, UNKNOWN);
  assert.equal(new FewShotClassifier(withMeta, { threshold: null }).fit(support).predict([ink(5, 6, 7)])[0]!.unknown, false);
});

test('decoded images are preprocessed with the model metadata (dark ink on white paper)', () => {
  const white = (dark: number[]): Image => {
    const data = new Uint8Array(16).fill(255);
    for (const i of dark) data[i] = 0;
    return { width: 4, height: 4, channels: 1, data };
  };
  const clf = new FewShotClassifier(scorer).fit([{ label: 'x', images: [white([0])] }, { label: 'y', images: [white([15])] }]);
  assert.equal(clf.predict([white([15])])[0]!.label, 'y');
});

test('clear errors: empty support, empty class, wrong shapes, NaN, predict before fit, duplicate labels', () => {
  assert.throws(() => new FewShotClassifier(scorer).fit([]), /support set is empty/);
  assert.throws(() => new FewShotClassifier(scorer).fit([{ label: 'a', images: [] }]), /'a' has no images/);
  assert.throws(() => new FewShotClassifier(scorer).fit([{ label: 'a', images: [new Uint8Array(15)] }]), /support class 'a' image 0: 15 values.*4x4x1 = 16/);
  assert.throws(() => new FewShotClassifier(scorer).predict([ink(0)]), /call fit\(\)/);
  const clf = new FewShotClassifier(scorer).fit([{ label: 'a', images: [ink(0)] }]);
  assert.throws(() => clf.predict([new Uint8Array(3)]), /query 0: 3 values/);
  assert.throws(() => clf.predict([{ width: 2, height: 2, channels: 1, data: new Uint8Array(3) }]), /query 0: 3 values do not match 2x2x1/);
  assert.throws(() => new FewShotClassifier(scorer).fitEmbeddings(['a'], [[new Float32Array([1, NaN])]]), /NaN/);
  assert.throws(() => clf.predictEmbeddings([new Float32Array(16).fill(NaN)]), /NaN/);
  assert.throws(() => new FewShotClassifier(scorer).fitEmbeddings(['a', 'a'], [[new Float32Array(2)], [new Float32Array(2)]]), /distinct/);
  assert.throws(() => new FewShotClassifier(scorer, { threshold: Number.NaN }), /threshold must be a finite number/);
});
