/** Small shared helpers for the metric-learning tests. */
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';

/** Asserts element-wise |actual - expected| <= tol, with a readable message. */
export function assertClose(actual: ArrayLike<number> | number, expected: readonly number[] | number, tol = 1e-5, what = 'value'): void {
  const a = typeof actual === 'number' ? [actual] : Array.from(actual);
  const e = typeof expected === 'number' ? [expected] : [...expected];
  assert.equal(a.length, e.length, `${what}: length ${a.length} != ${e.length}`);
  a.forEach((v, i) => {
    assert.ok(Math.abs(v - e[i]!) <= tol, `${what}[${i}] = ${v}, expected ${e[i]} (tol ${tol}); all: [${a.join(', ')}]`);
  });
}

/** Runs f, reads the scalar / tensor it returns, disposes it. */
export function values(f: () => tf.Tensor): number[] {
  const t = f();
  const out = Array.from(t.dataSync());
  t.dispose();
  return out;
}

export function scalar(f: () => tf.Tensor): number {
  return values(f)[0]!;
}
