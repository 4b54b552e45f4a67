/** Test helpers: run the same computation on the cpu and native backends and compare. */
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../../src/backend/select.js';
import { loadNativeAddon, NATIVE_ADVICE } from '../../src/backend/native/addon.js';

/** false when the addon is built, else the reason to skip (printed by the test runner). */
export const skipNative: false | string = loadNativeAddon().addon ? false : `native addon not built (${loadNativeAddon().error}); ${NATIVE_ADVICE}`;

/** max |a-b| / max(|b|) over the whole tensor: "relative" at the tensor's own scale. */
export function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length, 'length mismatch');
  let diff = 0, scale = 1e-12;
  for (let i = 0; i < b.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return diff / scale;
}

/** Runs `f` (which must create its own inputs deterministically) on cpu then native. */
export async function onBoth(f: () => tf.Tensor | tf.Tensor[]): Promise<{ cpu: Float32Array[]; native: Float32Array[]; shapes: number[][] }> {
  const run = async (backend: 'cpu' | 'native') => {
    await selectBackend(backend, { quiet: true });
    return tf.tidy(() => {
      const r = f();
      const list = Array.isArray(r) ? r : [r];
      return { values: list.map((t) => Float32Array.from(t.dataSync())), shapes: list.map((t) => t.shape) };
    });
  };
  const cpu = await run('cpu');
  const native = await run('native');
  await selectBackend('cpu', { quiet: true });
  for (let i = 0; i < cpu.shapes.length; i++) assert.deepEqual(native.shapes[i], cpu.shapes[i], `output ${i} shape`);
  return { cpu: cpu.values, native: native.values, shapes: cpu.shapes };
}

export async function assertSame(name: string, f: () => tf.Tensor | tf.Tensor[], tol = 1e-4): Promise<void> {
  const { cpu, native } = await onBoth(f);
  cpu.forEach((c, i) => {
    const err = relativeError(native[i], c);
    assert.ok(err <= tol, `${name} output ${i}: relative error ${err.toExponential(2)} > ${tol}`);
  });
}

/** Seeded normal tensor (tf's own seeded generator: same values on every backend). */
export function randn(shape: number[], seed: number): tf.Tensor {
  // tfjs treats seed 0 as "unseeded"
  return tf.randomNormal(shape, 0, 1, 'float32', 1000 + seed);
}
