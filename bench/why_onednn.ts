/**
 * oneDNN side of the "why oneDNN" measurement (see bench/why_onednn.py for the OpenBLAS side):
 * the same Koch conv2 forward and dense GEMM through fewshot's native kernels. Prints JSON.
 */
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../src/backend/select.js';

await selectBackend('native', { quiet: true });
const best = (f: () => void, reps = 3) => {
  f();
  let m = Infinity;
  for (let i = 0; i < reps; i++) {
    const t = performance.now();
    f();
    m = Math.min(m, (performance.now() - t) / 1000);
  }
  return m;
};
const x = tf.randomUniform([8, 48, 48, 64]) as tf.Tensor4D;
const w = tf.randomUniform([7, 7, 64, 128]) as tf.Tensor4D;
const a = tf.randomUniform([64, 9216]) as tf.Tensor2D;
const b = tf.randomUniform([9216, 4096]) as tf.Tensor2D;
const run = (f: () => tf.Tensor) => () => { const y = f(); y.dataSync(); y.dispose(); };
console.log(JSON.stringify({
  conv_onednn_s: best(run(() => tf.conv2d(x, w, 1, 'valid'))),
  dense_onednn_s: best(run(() => tf.matMul(a, b))),
}));
