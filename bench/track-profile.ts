/**
 * `npx tsx bench/track-profile.ts --model DIR [--frames 20] [--backend native]`: where a tracking
 * network's time goes. Times the scorer alone (exemplar set once, then the 3-scale search crops of
 * one frame, random pixels) and lists the TF.js kernels of one frame by total time, so a kernel that
 * falls back to the slow cpu implementation stands out (the stride-8 cut's squeeze-excite multiply
 * did: 34 of its 43 ms per frame before the native backend took those shapes). DIR is any tracker
 * folder, a fused one included.
 */
import '../src/tracking/native_crop.js'; // the tracker's crops in native code where the addon is built (bitwise the same)
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend, type BackendName } from '../src/backend/select.js';
import { loadTracker } from '../src/tracking/loaded_tracker.js';
import { Rng } from '../src/util/random.js';

const { values: args } = parseArgs({
  options: {
    model: { type: 'string' },
    frames: { type: 'string', default: '20' },
    backend: { type: 'string', default: 'native' },
  },
});
if (!args.model) throw new Error('usage: track-profile.ts --model DIR [--frames N] [--backend native|wasm|cpu]');
const frames = Number(args.frames);
if (!(Number.isInteger(frames) && frames > 0)) throw new Error(`--frames: a positive integer, got ${args.frames}`);
await selectBackend(args.backend as BackendName);
const tracker = await loadTracker(args.model);
const { exemplarSize, searchSize, numScales } = tracker.meta.params;
const rng = new Rng(1);
const pixels = (n: number) => Float32Array.from({ length: n }, () => rng.next());
const scorer = tracker.scorer();
scorer.setExemplar(pixels(exemplarSize * exemplarSize * 3), exemplarSize);
const crops = Array.from({ length: numScales }, () => pixels(searchSize * searchSize * 3));
for (let i = 0; i < 3; i++) scorer.score(crops, searchSize); // warm-up
const t0 = performance.now();
for (let i = 0; i < frames; i++) scorer.score(crops, searchSize);
const msPerFrame = (performance.now() - t0) / frames;
const profile = await tf.profile(() => {
  scorer.score(crops, searchSize);
});
const byKernel = new Map<string, number>();
for (const k of profile.kernels) byKernel.set(k.name, (byKernel.get(k.name) ?? 0) + Number(k.kernelTimeMs));
console.log(`${args.model}: ${tracker.networks.length} network(s), ${numScales} search crops of ${searchSize} px, ${tf.getBackend()} backend`);
console.log(`scorer: ${msPerFrame.toFixed(1)} ms per frame (mean of ${frames})`);
console.log('kernels of one frame, by total time:');
for (const [name, ms] of [...byKernel].sort((a, b) => b[1] - a[1]).slice(0, 12)) console.log(`  ${name.padEnd(32)} ${ms.toFixed(2)} ms`);
scorer.dispose();
tracker.dispose();
