/**
 * `FEWSHOT_NUM_THREADS=2 npx tsx bench/depthwise-grad.ts [--rounds 3] [--reps 3]`: the two gradients of
 * a depthwise convolution (DepthwiseConv2dNativeBackpropInput / -Filter), the native kernels
 * (oneDNN grouped convolutions, kernels.ts) against tfjs-backend-cpu's, which the native backend
 * fell back to before. Interleaved rounds, min / median / max ms per call. Shapes: MobileNetV3
 * blocks of the vendored CenterNet as signature fine-tuning runs them (40 canvases 160x320: stride
 * 16, 144 channels, 3x3) and as the tracker's crops meet them (9 crops 128x128: stride 8, 72
 * channels, 5x5 stride 2).
 */
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../src/backend/select.js';

const { values: args } = parseArgs({ options: { rounds: { type: 'string', default: '3' }, reps: { type: 'string', default: '3' } } });
const rounds = Number(args.rounds), reps = Number(args.reps);

interface Shape { name: string; x: [number, number, number, number]; k: number; stride: number }
const shapes: Shape[] = [
  { name: 'stride-16 block, 40x10x20x144, 3x3', x: [40, 10, 20, 144], k: 3, stride: 1 },
  { name: 'stride-8 block, 9x32x32x72, 5x5 stride 2', x: [9, 32, 32, 72], k: 5, stride: 2 },
];

const times = new Map<string, number[]>();
const record = (name: string, ms: number) => times.set(name, [...(times.get(name) ?? []), ms]);

function timeKernels(backend: string, s: Shape): void {
  const [x, filter, dy] = tf.tidy(() => {
    const x = tf.randomNormal(s.x, 0, 1, 'float32', 1) as tf.Tensor4D;
    const filter = tf.randomNormal([s.k, s.k, s.x[3], 1], 0, 1, 'float32', 2) as tf.Tensor4D;
    return [x, filter, tf.randomNormal(tf.depthwiseConv2d(x, filter, s.stride, 'same').shape, 0, 1, 'float32', 3)];
  });
  const attrs = { strides: s.stride, pad: 'same', dilations: 1 };
  const kernels: [string, () => tf.Tensor][] = [
    ['input gradient', () => tf.engine().runKernel('DepthwiseConv2dNativeBackpropInput', { dy, filter }, { ...attrs, inputShape: s.x } as unknown as tf.NamedAttrMap) as tf.Tensor],
    ['filter gradient', () => tf.engine().runKernel('DepthwiseConv2dNativeBackpropFilter', { x, dy }, { ...attrs, filterShape: filter.shape } as unknown as tf.NamedAttrMap) as tf.Tensor],
  ];
  for (const [what, run] of kernels) {
    run().dispose(); // warm-up (oneDNN builds its primitive once per geometry)
    for (let r = 0; r < reps; r++) {
      const t0 = performance.now();
      const out = run();
      out.dataSync();
      record(`${s.name}: ${what}, ${backend}`, performance.now() - t0);
      out.dispose();
    }
  }
  tf.dispose([x, filter, dy]);
}

for (let round = 0; round < rounds; round++) {
  // alternate which backend goes first, so that neither always runs on a warmer machine
  const order = round % 2 ? ['cpu', 'native'] : ['native', 'cpu'];
  for (const backend of order) {
    if ((await selectBackend(backend as 'cpu' | 'native', { quiet: true })) !== backend) throw new Error(`depthwise-grad: backend ${backend} unavailable (npm run build:native)`);
    for (const s of shapes) timeKernels(backend, s);
  }
}
const stats = (v: number[]) => {
  const sorted = [...v].sort((a, b) => a - b);
  return { min: sorted[0]!, median: sorted[Math.floor(sorted.length / 2)]!, max: sorted.at(-1)! };
};
console.log(`threads: FEWSHOT_NUM_THREADS=${process.env.FEWSHOT_NUM_THREADS ?? '(default)'}; ${rounds} rounds x ${reps} calls, ms per call min / median / max`);
for (const s of shapes) {
  for (const what of ['input gradient', 'filter gradient']) {
    const native = stats(times.get(`${s.name}: ${what}, native`)!), cpu = stats(times.get(`${s.name}: ${what}, cpu`)!);
    const fmt = (t: { min: number; median: number; max: number }) => `${t.min.toFixed(2)} / ${t.median.toFixed(2)} / ${t.max.toFixed(2)}`;
    console.log(`${s.name}, ${what}: native ${fmt(native)}, cpu ${fmt(cpu)}, cpu/native (medians) ${(cpu.median / native.median).toFixed(1)}x`);
  }
}
