/**
 * `npm run bench:faces [-- --rounds 5 --photos 6 --json --detectors ssd-mobilenet-v1,tiny-face-detector --input-size 416]`:
 * end-to-end face photos per second — JPEG decode + detect (SSD-MobileNet v1, or the tiny face
 * detector with the SSD as its fallback) + 68 landmarks + align + 128-d descriptor of the largest
 * face — at 640x480, on the native (oneDNN) and wasm backends, in one process with rounds
 * interleaved (native/ssd, native/tiny, wasm/ssd, ...) so that all see the same machine load. Photos: face-api's
 * own demo pictures, cropped to 4:3 and scaled to 640x480, re-encoded as JPEG (so decode is timed).
 * Threads: native uses OMP_NUM_THREADS (default 2); the wasm backend runs its single-threaded
 * SIMD build in Node. Prints min / median / max photos/s per backend, the ratio, the CPU time per
 * photo (user + system, all threads), and the load average: on a shared machine photos/s measures
 * the load as much as the code.
 */
import { loadavg, cpus } from 'node:os';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../src/backend/select.js';
import { decodeImage, type Image } from '../src/data/image.js';
import '../src/data/jpeg_turbo.js'; // as the CLI and the service decode JPEGs
import { FacePipeline } from '../src/applications/faces/pipeline.js';
import { benchPhoto } from './face_photos.js';
import type { FaceDetectorName } from '../src/data/preprocess.js';

const { values: args } = parseArgs({ options: { rounds: { type: 'string', default: '5' }, photos: { type: 'string', default: '6' }, json: { type: 'boolean' }, backends: { type: 'string', default: 'native,wasm' }, detectors: { type: 'string', default: 'ssd-mobilenet-v1,tiny-face-detector' }, 'input-size': { type: 'string', default: '416' } } });
const rounds = Number(args.rounds);
const backends = args.backends!.split(',') as ('native' | 'wasm' | 'cpu')[];
const detectors = args.detectors!.split(',') as FaceDetectorName[];
const inputSize = Number(args['input-size']);
/** One measured configuration: backend/detector. */
const workloads = backends.flatMap((backend) => detectors.map((detector) => ({ backend, detector, key: `${backend}/${detector === 'tiny-face-detector' ? `tiny${inputSize}` : 'ssd'}` })));

const photos = Array.from({ length: Number(args.photos) }, (_, i) => benchPhoto((i % 6) + 1));

const pipeline = await FacePipeline.load();
/** Photos per second of one pass over the photos: everything from JPEG bytes to the descriptor. */
async function pass(detector: FaceDetectorName): Promise<{ perSecond: number; cpuMsPerPhoto: number }> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  for (const [i, bytes] of photos.entries()) {
    const img: Image = decodeImage(bytes, `photo ${i}`);
    const face = await pipeline.alignLargest(img, `photo ${i}`, { detector, inputSize });
    const x = tf.tensor4d(Float32Array.from(face.pixels), [1, 150, 150, 3]);
    const d = pipeline.describeTensor(x);
    await d.data();
    tf.dispose([x, d]);
  }
  const cpu = process.cpuUsage(c0);
  return { perSecond: photos.length / ((performance.now() - t0) / 1000), cpuMsPerPhoto: (cpu.user + cpu.system) / 1000 / photos.length };
}

const results: Record<string, number[]> = Object.fromEntries(workloads.map((w) => [w.key, []]));
const cpuMs: Record<string, number[]> = Object.fromEntries(workloads.map((w) => [w.key, []]));
for (const w of workloads) { await selectBackend(w.backend, { quiet: true }); await pass(w.detector); } // warm-up: primitives, wasm compile
const tensors = tf.memory().numTensors;
for (let r = 0; r < rounds; r++) {
  for (const w of workloads) {
    await selectBackend(w.backend, { quiet: true });
    const p = await pass(w.detector);
    results[w.key]!.push(p.perSecond);
    cpuMs[w.key]!.push(p.cpuMsPerPhoto);
  }
}
const stats = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); return { min: s[0]!, median: s[Math.floor(s.length / 2)]!, max: s[s.length - 1]! }; };
const summary = {
  workload: `${photos.length} photos 640x480 JPEG: decode + detect + landmarks + align + descriptor (largest face); tiny = tiny face detector at ${inputSize}, SSD when it finds none`,
  threads: { native: Number(process.env.OMP_NUM_THREADS ?? 2), wasm: 1 },
  cpus: cpus().length,
  loadAverage: loadavg().map((v) => Math.round(v * 100) / 100),
  rounds,
  photosPerSecond: Object.fromEntries(Object.entries(results).map(([b, xs]) => [b, stats(xs)])),
  // CPU time this process used per photo (all threads): what a photo costs, whatever the machine's load.
  cpuMsPerPhoto: Object.fromEntries(Object.entries(cpuMs).map(([b, xs]) => [b, stats(xs)])),
  nativeOverWasm: Object.fromEntries(detectors.map((d) => {
    const [n, w] = ['native', 'wasm'].map((b) => workloads.find((x) => x.backend === b && x.detector === d)?.key);
    return [d, n && w ? stats(results[n]!).median / stats(results[w]!).median : null];
  })),
  tensorsLeaked: tf.memory().numTensors - tensors,
};
if (args.json) console.log(JSON.stringify(summary, null, 2));
else {
  console.log(`${summary.workload}; ${rounds} rounds interleaved; load average ${summary.loadAverage.join(' ')} on ${summary.cpus} cpus`);
  for (const [b, s] of Object.entries(summary.photosPerSecond)) {
    const c = summary.cpuMsPerPhoto[b]!;
    console.log(`  ${b.padEnd(12)} photos/s min ${s.min.toFixed(2)}  median ${s.median.toFixed(2)}  max ${s.max.toFixed(2)}   cpu ms/photo median ${c.median.toFixed(0)} (min ${c.min.toFixed(0)})`);
  }
  for (const [d, x] of Object.entries(summary.nativeOverWasm)) if (x !== null) console.log(`  native / wasm (median, ${d}): ${x.toFixed(2)}x`);
}
