/**
 * `npx tsx bench/track-speed.ts [--sequences ZIP|DIR] [--sequence NAME] [--frames N] [--rounds N]
 *  [--backend auto|native|wasm|cpu] [--json]`: tracking speed of the shipped trackers on real
 * frames, decode excluded (reported apart).
 *
 * The frames are decoded once up front (that time is the "decode" line); then every round runs
 * each tracker (SiamFC pretrained, SiamFC small, NCC) over the same frames, rounds interleaved so
 * that load from other processes hits all of them alike. A tracker's time is init + every update:
 * crops, network (or NCC) and search; `network` is the part spent inside the scorer. fps =
 * frames / time; min / median / max over rounds.
 */
import '../src/tracking/native_crop.js'; // the tracker's crops in native code where the addon is built (bitwise the same)
import { parseArgs } from 'node:util';
import '../src/data/jpeg_turbo.js'; // decode as the CLI does (libjpeg-turbo), so the decode line is the user's
import { selectBackend, type BackendName } from '../src/backend/select.js';
import type { Image } from '../src/tracking/data_access.js';
import { loadTrackerModels } from '../src/tracking/default_model.js';
import { NccScorer } from '../src/tracking/scorers.js';
import { loadSequences } from '../src/tracking/sequence.js';
import { isOnline } from '../src/tracking/online_template.js';
import { SiamTracker, SIAMFC_PARAMS, type ResponseScorer, type TrackerParams } from '../src/tracking/tracker.js';

const { values: args } = parseArgs({
  options: {
    sequences: { type: 'string', default: '../shared/data/tracking/sequences.zip' },
    sequence: { type: 'string', default: 'Girl' },
    frames: { type: 'string', default: '120' },
    rounds: { type: 'string', default: '5' },
    backend: { type: 'string', default: 'auto' },
    json: { type: 'boolean', default: false },
  },
});

const backend = await selectBackend(args.backend as BackendName, { quiet: args.json });
const seqs = await loadSequences(args.sequences!);
const seq = seqs.find((s) => s.name === args.sequence) ?? seqs[0]!;
const n = Math.min(Number(args.frames), seq.length);
const t0 = performance.now();
const frames: Image[] = Array.from({ length: n }, (_, i) => seq.readFrame(i));
const decodeMs = (performance.now() - t0) / n;

/** Times the scorer's calls (the network part) inside a tracker's step. */
class TimedScorer implements ResponseScorer {
  seconds = 0;
  constructor(private readonly inner: ResponseScorer) {}
  get name() {
    return this.inner.name;
  }
  get stride() {
    return this.inner.stride;
  }
  setExemplar(crop: Float32Array, size: number): void {
    const t = performance.now();
    this.inner.setExemplar(crop, size);
    this.seconds += (performance.now() - t) / 1000;
  }
  score(crops: Float32Array[], size: number) {
    const t = performance.now();
    const r = this.inner.score(crops, size);
    this.seconds += (performance.now() - t) / 1000;
    return r;
  }
  // Template arithmetic (online update, distractors) counts as network time too.
  embedTemplate(crop: Float32Array, size: number): Float32Array {
    if (!this.inner.embedTemplate) throw new Error(`${this.inner.name}: no embedTemplate`);
    const t = performance.now();
    const r = this.inner.embedTemplate(crop, size);
    this.seconds += (performance.now() - t) / 1000;
    return r;
  }
  setTemplate(features: Float32Array): void {
    if (!this.inner.setTemplate) throw new Error(`${this.inner.name}: no setTemplate`);
    const t = performance.now();
    this.inner.setTemplate(features);
    this.seconds += (performance.now() - t) / 1000;
  }
  dispose(): void {
    this.inner.dispose();
  }
}

/** A TimedScorer that also forwards (and times) the discriminative filter's hooks. */
class TimedLearningScorer extends TimedScorer {
  constructor(private readonly learner: ResponseScorer & Required<Pick<ResponseScorer, 'setContext' | 'observe'>>) {
    super(learner);
  }
  setContext(crop: Float32Array, size: number, target: { w: number; h: number }): void {
    const t = performance.now();
    this.learner.setContext(crop, size, target);
    this.seconds += (performance.now() - t) / 1000;
  }
  observe(index: number, dx: number, dy: number): void {
    const t = performance.now();
    this.learner.observe(index, dx, dy);
    this.seconds += (performance.now() - t) / 1000;
  }
}

/** The hooks must be forwarded only when present: the tracker does the extra work only then. */
const timed = (s: ResponseScorer): TimedScorer =>
  s.setContext && s.observe ? new TimedLearningScorer(s as ResponseScorer & Required<Pick<ResponseScorer, 'setContext' | 'observe'>>) : new TimedScorer(s);

const models = await loadTrackerModels();
const trackers: { name: string; make: () => ResponseScorer; params: TrackerParams }[] = [
  ...models.flatMap((m) => [
    { name: m.name, make: () => m.scorer(), params: m.meta.params },
    // A model shipped with online options or the discriminative filter is also timed without
    // them: what they cost.
    ...(isOnline(m.meta.params) ? [{ name: `${m.name} first-frame`, make: () => m.scorer(), params: { ...m.meta.params, templateRate: 0, distractorWeight: 0 } }] : []),
    ...(m.meta.params.filterWeight ? [{ name: `${m.name} without filter`, make: () => m.scorer({ ...m.meta.params, filterWeight: 0 }), params: { ...m.meta.params, filterWeight: 0 } }] : []),
  ]),
  { name: 'ncc', make: () => new NccScorer(), params: SIAMFC_PARAMS },
];
const first = seq.groundTruth[0]!;
const runOnce = (t: (typeof trackers)[number]) => {
  const scorer = timed(t.make());
  const tracker = new SiamTracker(scorer, t.params);
  const start = performance.now();
  tracker.init(frames[0]!, first);
  for (let i = 1; i < n; i++) tracker.update(frames[i]!);
  const seconds = (performance.now() - start) / 1000;
  tracker.dispose();
  return { fps: n / seconds, networkShare: scorer.seconds / seconds };
};
for (const t of trackers) runOnce(t); // warm-up: primitive caches, JIT
const results = new Map(trackers.map((t) => [t.name, [] as { fps: number; networkShare: number }[]]));
for (let r = 0; r < Number(args.rounds); r++) for (const t of trackers) results.get(t.name)!.push(runOnce(t));

const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return { min: s[0]!, median: s[Math.floor(s.length / 2)]!, max: s[s.length - 1]! };
};
const r1 = (v: number) => Math.round(v * 10) / 10;
const summary = Object.fromEntries(
  [...results].map(([name, rs]) => {
    const f = stats(rs.map((x) => x.fps));
    return [name, { fpsMin: r1(f.min), fpsMedian: r1(f.median), fpsMax: r1(f.max), networkShare: Math.round(stats(rs.map((x) => x.networkShare)).median * 100) / 100 }];
  }),
);
const out = { backend, sequence: seq.name, frames: n, rounds: Number(args.rounds), decodeMsPerFrame: r1(decodeMs), decodeFps: r1(1000 / decodeMs), trackers: summary };
if (args.json) console.log(JSON.stringify(out));
else {
  console.log(`${seq.name}, ${n} frames ${frames[0]!.width}x${frames[0]!.height}, backend ${backend}, ${args.rounds} interleaved rounds`);
  console.log(`decode (not in fps): ${out.decodeMsPerFrame} ms/frame (${out.decodeFps} fps)`);
  for (const [name, s] of Object.entries(summary)) {
    console.log(`${name.padEnd(30)} fps min ${s.fpsMin} median ${s.fpsMedian} max ${s.fpsMax}  (network ${Math.round(s.networkShare * 100)}% of the time)`);
  }
}
for (const m of models) m.dispose();
