import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSchedule } from '../../src/training/schedule.js';

const close = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-12, `${a} vs ${b}`);

test('constant with linear warm-up', () => {
  const s = createSchedule({ name: 'constant', lr: 0.1, totalSteps: 100, warmupSteps: 4 });
  close(s(0), 0.025);
  close(s(3), 0.1);
  close(s(50), 0.1);
});

test('step decay by gamma every stepSize steps', () => {
  const s = createSchedule({ name: 'step', lr: 1, totalSteps: 100, stepSize: 10, gamma: 0.5 });
  close(s(9), 1);
  close(s(10), 0.5);
  close(s(25), 0.25);
});

test('cosine from lr to minLr over the steps after warm-up', () => {
  const s = createSchedule({ name: 'cosine', lr: 1, totalSteps: 110, warmupSteps: 10, minLr: 0 });
  close(s(10), 1);
  close(s(60), 0.5);
  close(s(110), 0);
  assert.ok(s(30) > s(40));
});

test('bad settings are refused', () => {
  assert.throws(() => createSchedule({ name: 'constant', lr: 0, totalSteps: 1 }), /positive/);
  assert.throws(() => createSchedule({ name: 'linear' as 'step', lr: 1, totalSteps: 1 }), /unknown learning-rate schedule/);
});
