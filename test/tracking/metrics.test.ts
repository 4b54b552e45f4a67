import { test } from 'node:test';
import assert from 'node:assert/strict';
import { centerError, fromOtb, iou, toOtb } from '../../src/tracking/boxes.js';
import { precisionCurve, scoreSequence, successAuc, successCurve } from '../../src/tracking/metrics.js';

const close = (a: number, b: number, eps = 1e-9) => assert.ok(Math.abs(a - b) < eps, `${a} != ${b}`);

test('IoU of hand-made boxes', () => {
  close(iou({ x: 0, y: 0, w: 10, h: 10 }, { x: 0, y: 0, w: 10, h: 10 }), 1);
  close(iou({ x: 0, y: 0, w: 10, h: 10 }, { x: 5, y: 0, w: 10, h: 10 }), 50 / 150);
  close(iou({ x: 0, y: 0, w: 10, h: 10 }, { x: 5, y: 5, w: 10, h: 10 }), 25 / 175);
  close(iou({ x: 0, y: 0, w: 10, h: 10 }, { x: 10, y: 0, w: 10, h: 10 }), 0); // touching
  close(iou({ x: 0, y: 0, w: 10, h: 10 }, { x: 2, y: 2, w: 4, h: 4 }), 16 / 100); // contained
  close(iou({ x: 0, y: 0, w: 0, h: 10 }, { x: 0, y: 0, w: 0, h: 10 }), 0); // empty
  close(centerError({ x: 0, y: 0, w: 10, h: 10 }, { x: 3, y: 4, w: 10, h: 10 }), 5);
});

test('OTB boxes are 1-based and round-trip', () => {
  assert.deepEqual(fromOtb(1, 1, 5, 6), { x: 0, y: 0, w: 5, h: 6 });
  assert.equal(toOtb({ x: 0, y: 9.5, w: 5, h: 6 }), '1,10.5,5,6');
});

test('success curve, AUC and precision@20 on hand-made boxes', () => {
  const gt = { x: 0, y: 0, w: 10, h: 10 };
  // IoUs 1, 1/3 (half shift), 0 (far away); centre errors 0, 5, 100.
  const predicted = [gt, { x: 5, y: 0, w: 10, h: 10 }, { x: 100, y: 0, w: 10, h: 10 }];
  const s = scoreSequence(predicted, [gt, gt, gt]);
  assert.deepEqual(s.ious.map((v) => Math.round(v * 1000) / 1000), [1, 0.333, 0]);
  // Thresholds 0..1 step 0.05: IoU 1 passes 20 of 21 (not > 1), IoU 1/3 passes 0..0.3 (7 thresholds).
  close(s.auc, (20 + 7 + 0) / 3 / 21);
  close(s.precision20, 2 / 3);
  close(s.success[0]!.value, 2 / 3);
  close(s.success[20]!.value, 0);
  assert.equal(s.frames, 3);
  const p = precisionCurve([0, 5, 100]);
  close(p[4]!.value, 1 / 3);
  close(p[5]!.value, 2 / 3);
  close(p[50]!.value, 2 / 3);
  close(successAuc(successCurve([1, 1])), 20 / 21);
});

test('frames without ground truth are not scored', () => {
  const gt = { x: 0, y: 0, w: 10, h: 10 };
  const s = scoreSequence([gt, { x: 50, y: 50, w: 10, h: 10 }], [gt, null]);
  assert.equal(s.frames, 1);
  close(s.precision20, 1);
  assert.ok(Number.isNaN(s.ious[1]!));
});

test('metrics reject mismatched lengths and non-finite predictions', () => {
  const gt = { x: 0, y: 0, w: 10, h: 10 };
  assert.throws(() => scoreSequence([gt], [gt, gt]), /1 predicted boxes for 2/);
  assert.throws(() => scoreSequence([{ x: NaN, y: 0, w: 1, h: 1 }], [gt]), /not finite/);
});
