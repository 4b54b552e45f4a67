/**
 * Per-kernel profile (wall and CPU time, all threads) of one training step on the native backend (issue 11):
 * `npx tsx bench/profile-step.ts [conv4-episode|koch-pair] [steps] [fp32|bf16]` (bf16: the
 * `--precision bf16` training path). Every kernel registered for
 * 'native' is wrapped with a timer; the rest of the step (tape bookkeeping, JS glue) is printed as
 * "outside kernels". CPU time is the figure to compare on a loaded machine. Compare with
 * bench/torch_profile.py on the same workload.
 */
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../src/backend/select.js';
import { setTrainingPrecision } from '../src/backend/native/precision.js';
import { trainingStep } from './workloads.js';

const workload = process.argv[2] ?? 'conv4-episode';
const steps = Number(process.argv[3] ?? 5);
await selectBackend('native', { quiet: true });
if (process.argv[4] === 'bf16') setTrainingPrecision('bf16');

const stats = new Map<string, { ms: number; cpuMs: number; calls: number }>();
let depth = 0;
for (const k of tf.getKernelsForBackend('native')) {
  const config = k as { kernelFunc: (a: unknown) => unknown; kernelName: string };
  const inner = config.kernelFunc;
  config.kernelFunc = (args: unknown) => {
    if (depth > 0) return inner(args); // a kernel calling another: count the outer one only
    depth++;
    const t = performance.now();
    const c0 = process.cpuUsage();
    try {
      return inner(args);
    } finally {
      depth--;
      const shapes = Object.values((args as { inputs: Record<string, tf.TensorInfo> }).inputs).filter(Boolean).map((x) => x.shape.join('x')).join(',');
      const key = `${config.kernelName} ${shapes}`;
      const s = stats.get(key) ?? { ms: 0, cpuMs: 0, calls: 0 };
      s.ms += performance.now() - t;
      const c = process.cpuUsage(c0);
      s.cpuMs += (c.user + c.system) / 1000;
      s.calls++;
      stats.set(key, s);
    }
  };
}

const { step, items } = trainingStep(workload === 'koch-pair' ? 'koch-pair' : 'conv4-episode');
step();
stats.clear();
const cpu0 = process.cpuUsage();
const t0 = performance.now();
for (let i = 0; i < steps; i++) step();
const total = (performance.now() - t0) / steps;
const cpu = process.cpuUsage(cpu0);
const rows = [...stats.entries()].map(([k, s]) => ({ k, ms: s.ms / steps, cpuMs: s.cpuMs / steps, calls: s.calls / steps })).sort((a, b) => b.cpuMs - a.cpuMs);
const inKernels = rows.reduce((a, r) => a + r.ms, 0);
const cpuInKernels = rows.reduce((a, r) => a + r.cpuMs, 0);
const cpuStep = (cpu.user + cpu.system) / 1000 / steps;
console.log(`${workload}: ${total.toFixed(1)} ms/step (${(items / total * 1000).toFixed(0)} items/s), CPU ${cpuStep.toFixed(1)} ms/step (${(cpuStep / items).toFixed(3)} ms/item); kernels ${inKernels.toFixed(1)} ms wall / ${cpuInKernels.toFixed(1)} ms CPU, outside kernels ${(total - inKernels).toFixed(1)} ms wall / ${(cpuStep - cpuInKernels).toFixed(1)} ms CPU`);
console.log('  wall ms   CPU ms  calls  kernel inputs');
for (const r of rows.filter((r) => r.cpuMs >= 0.2)) console.log(`${r.ms.toFixed(2).padStart(9)} ${r.cpuMs.toFixed(2).padStart(8)} ${String(r.calls).padStart(5)}x  ${r.k}`);
