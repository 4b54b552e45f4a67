/**
 * `FEWSHOT_NUM_THREADS=2 npx tsx bench/filter-refine.ts [--rounds 5] [--reps 20]`: the pieces of the
 * tracker's per-frame cost that the seventh tracking round changed (docs/tracking.md), on the
 * native backend, in interleaved rounds (min / median / max ms per call):
 * - the one-output-channel convolution of the stride-4 filter (9 x 32x32x64 by 8x8x64x1), forward
 *   and filter gradient: run it once with FEWSHOT_CONV_SINGLE_OUTPUT=0 (oneDNN's direct kernel)
 *   and once without (single_output_conv.cc) to compare;
 * - refineFilter for both members' shapes, computing the residual itself against handed one;
 * - the three search crops of boat1's first frame around its target (934 px -> 128), JavaScript
 *   passes against the native ones (native_crop.ts).
 */
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../src/backend/select.js';
import { loadNativeAddon } from '../src/backend/native/addon.js';
import { cropResize, exemplarSide, meanColor, registerCropPasses } from '../src/tracking/crop.js';
import { refineFilter } from '../src/tracking/discriminative_filter.js';
import { registerNativeCrop } from '../src/tracking/native_crop.js';
import { loadSequences } from '../src/tracking/sequence.js';

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    reps: { type: 'string', default: '20' },
    sequences: { type: 'string', default: '../shared/data/tracking/sequences.zip' },
  },
});
const rounds = Number(args.rounds);
const reps = Number(args.reps);
if (await selectBackend('native', { quiet: true }) !== 'native') throw new Error('filter-refine: needs the native backend (npm run build:native)');
const addon = loadNativeAddon().addon!;

const C = 64, M = 9;
const cases: { name: string; run: () => void }[] = [];
const timedTensor = (name: string, f: () => tf.Tensor | tf.Tensor[]) =>
  cases.push({ name, run: () => { const r = f(); const list = Array.isArray(r) ? r : [r]; list[0]!.dataSync(); tf.dispose(list); } });

{
  const x = tf.randomNormal([M, 32, 32, C], 0, 1, 'float32', 1) as tf.Tensor4D;
  const w = tf.randomNormal([8, 8, C, 1], 0, 1, 'float32', 2) as tf.Tensor4D;
  const dy = tf.randomNormal([M, 25, 25, 1], 0, 1, 'float32', 3) as tf.Tensor4D;
  const path = addon.convAlgorithm([M, 32, 32, C, 25, 25, 1, 8, 8, 1, 1, 1, 1, 0, 0, 0, 0]);
  timedTensor(`conv 9x32x32x64 by 8x8x64x1 forward (${path})`, () => tf.conv2d(x, w, 1, 'valid'));
  timedTensor(`conv 9x32x32x64 by 8x8x64x1 filter gradient (${path})`, () =>
    tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { strides: 1, pad: 'valid', dataFormat: 'NHWC', filterShape: w.shape } as unknown as tf.NamedAttrMap) as tf.Tensor);
}
for (const [S, k, member] of [[32, 8, 's4x'], [16, 6, 's8']] as const) {
  const out = S - k + 1;
  const x = tf.randomNormal([M, S, S, C], 0, 1, 'float32', 4) as tf.Tensor4D;
  const labels = tf.randomNormal([M, out, out, 1], 0, 1, 'float32', 5) as tf.Tensor4D;
  const w = tf.randomNormal([k, k, C, 1], 0, 0.1, 'float32', 6) as tf.Tensor4D;
  const residual = tf.randomNormal([M, out, out, 1], 0, 1, 'float32', 7) as tf.Tensor4D;
  const weights = new Float32Array(M).fill(0.1);
  timedTensor(`refineFilter ${member}, 2 steps, residual computed`, () => Object.values(refineFilter(w, x, labels, weights, 0.1, 2)));
  timedTensor(`refineFilter ${member}, 2 steps, residual handed in`, () => Object.values(refineFilter(w, x, labels, weights, 0.1, 2, residual)));
}
{
  const seq = (await loadSequences(args.sequences!)).find((s) => s.name === 'boat1');
  if (seq) {
    const frame = seq.readFrame(0);
    const b = seq.groundTruth[0]!;
    const side = 2 * exemplarSide(b.w, b.h, 0.5);
    const fill = meanColor(frame);
    const crops = () => [0.964, 1, 1.0375].forEach((s) => cropResize(frame, b.x + b.w / 2, b.y + b.h / 2, side * s, 128, fill));
    cases.push({ name: `3 search crops of boat1 (${Math.round(side)} px -> 128), JavaScript passes`, run: () => { registerCropPasses(null); crops(); } });
    cases.push({ name: `3 search crops of boat1 (${Math.round(side)} px -> 128), native passes`, run: () => { registerNativeCrop(); crops(); } });
  } else {
    console.log(`(no boat1 in ${args.sequences}: crops not timed)`);
  }
}

for (const c of cases) c.run(); // warm-up
const ms = new Map(cases.map((c) => [c.name, [] as number[]]));
for (let r = 0; r < rounds; r++) {
  for (const c of cases) {
    const t = performance.now();
    for (let i = 0; i < reps; i++) c.run();
    ms.get(c.name)!.push((performance.now() - t) / reps);
  }
}
console.log(`native backend, ${addon.getNumThreads()} threads, ${rounds} interleaved rounds of ${reps} calls; ms per call min / median / max`);
for (const [name, xs] of ms) {
  const s = [...xs].sort((a, b) => a - b);
  console.log(`${name.padEnd(72)} ${s[0]!.toFixed(2)} / ${s[Math.floor(s.length / 2)]!.toFixed(2)} / ${s[s.length - 1]!.toFixed(2)}`);
}
