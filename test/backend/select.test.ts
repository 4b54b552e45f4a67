/** Backend selection and the wasm backend's added Conv2DBackpropFilter. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../../src/backend/select.js';
import { readFileSync } from 'node:fs';
import { nativeAdvice, NATIVE_ADVICE } from '../../src/backend/native/addon.js';
import { randn, relativeError, skipNative } from './compare.js';

test("selectBackend('cpu') and forcing an unavailable backend gives a clear error", async () => {
  assert.equal(await selectBackend('cpu', { quiet: true }), 'cpu');
  let nodeInstalled = true;
  try {
    await import('@tensorflow/tfjs-node' as string);
  } catch {
    nodeInstalled = false;
  }
  if (!nodeInstalled) await assert.rejects(selectBackend('node', { quiet: true }), /backend 'node' is not available: .*tfjs-node is not installed/);
  assert.equal(tf.getBackend(), 'cpu');
});

test("'auto' picks native when the addon is built", { skip: skipNative }, async () => {
  assert.equal(await selectBackend('auto', { quiet: true }), 'native');
  assert.equal(await selectBackend('native', { quiet: true }), 'native');
  await selectBackend('cpu', { quiet: true });
});

test('wasm can train a conv net: its Conv2DBackpropFilter matches cpu', async () => {
  const grads = async (backend: 'cpu' | 'wasm') => {
    await selectBackend(backend, { quiet: true });
    return tf.tidy(() => {
      const x = randn([3, 9, 8, 2], 1), w = randn([3, 3, 2, 4], 2);
      const dy = randn(tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 2, 'same').shape, 3);
      const g = tf.grad((ww: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(x as tf.Tensor4D, ww as tf.Tensor4D, 2, 'same'), dy)))(w);
      return Float32Array.from(g.dataSync());
    });
  };
  const cpu = await grads('cpu');
  const wasm = await grads('wasm');
  assert.ok(relativeError(wasm, cpu) <= 1e-4, `wasm filter gradient differs: ${relativeError(wasm, cpu)}`);
  await selectBackend('cpu', { quiet: true });
});

test('the advice printed without oneDNN is a command that builds the addon where fewshot is', () => {
  // In this clone: an npm script that exists (`npm rebuild fewshot` builds nothing in the repo root).
  const build = /&& npm run (\S+)$/.exec(NATIVE_ADVICE)?.[1];
  assert.ok(build, NATIVE_ADVICE);
  const scripts = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).scripts as Record<string, string>;
  assert.match(scripts[build], /build-native\.mjs --required/);
  assert.match(NATIVE_ADVICE, /^apt-get install -y libdnnl-dev /);
  // Installed as a dependency: rebuilding the package is what runs its install hook.
  assert.match(nativeAdvice('/app/node_modules/fewshot'), /&& npm rebuild fewshot$/);
});
