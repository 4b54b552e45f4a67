/**
 * `npm run bench:speed [-- --json]`: training and inference speed of fewshot's default backend
 * against the TF.js wasm and cpu backends, PyTorch (CPU) and, for inference, ONNX Runtime, on
 * the same models, batches and thread count, in one run.
 *
 * Every (engine, workload) runs in its own child process so that peak memory (max RSS) is its
 * own and backends cannot disturb each other. Times: median of >= 3 timed steps after warm-up.
 * The slow TF.js backends run reduced batches (reported as `batch`), per-item rates compare.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { selectBackend, type BackendName } from '../src/backend/select.js';
import { conv4, conv4EpisodeStep, EPISODE, INFERENCE_BATCH, koch, kochPairStep, PAIR_BATCH, uniform } from './workloads.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const PYTHON = '/usr/bin/python3';
type Workload = 'conv4-episode' | 'koch-pair' | 'conv4-infer';
const WORKLOADS: Workload[] = ['conv4-episode', 'koch-pair', 'conv4-infer'];

interface Measurement {
  engine: string;
  backend?: string;
  workload: Workload;
  batch: number;
  per_s: number;
  median_s: number;
  times_s: number[];
  peak_rss_mb: number;
  note?: string;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

function timeSteps(step: () => void, warmup: number, reps: number): number[] {
  for (let i = 0; i < warmup; i++) step();
  const times: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t = performance.now();
    step();
    times.push((performance.now() - t) / 1000);
  }
  return times;
}

// ---------------------------------------------------------------- worker side (one process each)

/** Conv-4 with non-trivial batch-norm statistics, as raw float32 files + manifest (TF.js layout). */
function exportConv4(model: tfl.Sequential, dir: string): void {
  mkdirSync(dir, { recursive: true });
  const manifest: Array<{ name: string; file: string; shape: number[] }> = [];
  const write = (name: string, t: tf.Tensor) => {
    const file = name.replace('/', '_') + '.bin';
    writeFileSync(join(dir, file), Buffer.from((t.dataSync() as Float32Array).buffer.slice(0)));
    manifest.push({ name, file, shape: t.shape });
  };
  let conv = 0, bn = 0;
  for (const layer of model.layers) {
    const w = layer.getWeights();
    if (layer.getClassName() === 'Conv2D') { write(`conv${conv}/kernel`, w[0]); write(`conv${conv}/bias`, w[1]); conv++; }
    if (layer.getClassName() === 'BatchNormalization') {
      ['gamma', 'beta', 'moving_mean', 'moving_variance'].forEach((n, i) => write(`bn${bn}/${n}`, w[i]));
      bn++;
    }
  }
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
}

/** Seeded Conv-4 whose batch-norm layers carry non-trivial moving statistics. */
function inferenceConv4(): tfl.Sequential {
  const model = conv4();
  let seed = 100;
  for (const layer of model.layers) {
    if (layer.getClassName() !== 'BatchNormalization') continue;
    const w = layer.getWeights();
    const r = (lo: number, hi: number) => tf.randomUniform(w[0].shape, lo, hi, 'float32', seed++);
    layer.setWeights([r(0.5, 1.5), r(-0.2, 0.2), r(-0.3, 0.3), r(0.5, 2)]);
  }
  return model;
}

async function worker(engine: string, workload: Workload, batchScale: number, warmup: number, reps: number, exportDir?: string): Promise<Measurement> {
  const backend = await selectBackend((engine === 'fewshot' ? 'auto' : engine) as BackendName, { quiet: true });
  let step: () => void;
  let batch: number;
  if (workload === 'conv4-episode') {
    const way = Math.max(2, Math.round(EPISODE.way * batchScale));
    batch = way * (EPISODE.shot + EPISODE.query);
    const model = conv4();
    const opt = tf.train.adam(1e-3, 0.9, 0.999, 1e-7);
    const x = uniform([batch, 28, 28, 1], 1) as tf.Tensor4D;
    step = () => { conv4EpisodeStep(model, opt, x, { ...EPISODE, way }); };
  } else if (workload === 'koch-pair') {
    batch = Math.max(1, Math.round(PAIR_BATCH * batchScale));
    const enc = koch();
    const head = tfl.layers.dense({ units: 1 });
    const opt = tf.train.adam(1e-4, 0.9, 0.999, 1e-7);
    const left = uniform([batch, 105, 105, 1], 1) as tf.Tensor4D;
    const right = uniform([batch, 105, 105, 1], 2) as tf.Tensor4D;
    const same = tf.tensor2d(Array.from({ length: batch }, (_, i) => i % 2), [batch, 1]);
    step = () => { kochPairStep(enc, head, opt, left, right, same); };
  } else {
    batch = Math.max(1, Math.round(INFERENCE_BATCH * batchScale));
    const model = inferenceConv4();
    const x = uniform([batch, 28, 28, 1], 7) as tf.Tensor4D;
    if (exportDir) {
      exportConv4(model, exportDir);
      writeFileSync(join(exportDir, 'input.bin'), Buffer.from((x.dataSync() as Float32Array).buffer.slice(0)));
      const y = tf.tidy(() => model.predict(x, { batchSize: batch }) as tf.Tensor);
      writeFileSync(join(exportDir, 'fewshot_out.bin'), Buffer.from((y.dataSync() as Float32Array).buffer.slice(0)));
      y.dispose();
    }
    step = () => { const y = tf.tidy(() => model.predict(x, { batchSize: batch }) as tf.Tensor); y.dataSync(); y.dispose(); };
  }
  const times = timeSteps(step, warmup, reps);
  const med = median(times);
  return { engine, backend, workload, batch, per_s: batch / med, median_s: med, times_s: times, peak_rss_mb: process.resourceUsage().maxRSS / 1024 };
}

async function onnxWorker(dir: string, warmup: number, reps: number, threads: number): Promise<Measurement & { max_abs_diff_vs_fewshot: number }> {
  const ort = await import('onnxruntime-node');
  const session = await ort.InferenceSession.create(join(dir, 'conv4.onnx'), { intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all' });
  const input = new Float32Array(readFileSync(join(dir, 'input.bin')).buffer.slice(0));
  const batch = INFERENCE_BATCH;
  // A single input channel: NHWC and NCHW are the same bytes.
  const feeds = { images: new ort.Tensor('float32', input, [batch, 1, 28, 28]) };
  let out: Float32Array = new Float32Array();
  const run = async () => { out = (await session.run(feeds)).embeddings.data as Float32Array; };
  for (let i = 0; i < warmup; i++) await run();
  const times: number[] = [];
  for (let i = 0; i < reps; i++) { const t = performance.now(); await run(); times.push((performance.now() - t) / 1000); }
  const ref = new Float32Array(readFileSync(join(dir, 'fewshot_out.bin')).buffer.slice(0));
  let diff = 0;
  for (let i = 0; i < ref.length; i++) diff = Math.max(diff, Math.abs(ref[i] - out[i]));
  const med = median(times);
  return { engine: 'onnxruntime', workload: 'conv4-infer', batch, per_s: batch / med, median_s: med, times_s: times, peak_rss_mb: process.resourceUsage().maxRSS / 1024, max_abs_diff_vs_fewshot: diff };
}

// ---------------------------------------------------------------- orchestrator

function runChild(cmd: string, args: string[], env: NodeJS.ProcessEnv): { json?: Record<string, unknown>; error?: string } {
  const r = spawnSync('nice', ['-n', '10', cmd, ...args], { env, encoding: 'utf8', maxBuffer: 1 << 24 });
  const last = (r.stdout ?? '').trim().split('\n').filter(Boolean).pop();
  try {
    const json = JSON.parse(last ?? '');
    return json.error ? { error: String(json.error) } : { json };
  } catch {
    return { error: `exit ${r.status}: ${(r.stderr ?? '').trim().split('\n').slice(-3).join(' | ')}` };
  }
}

function progress(msg: string): void {
  process.stderr.write(`bench: ${msg}\n`);
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv[0] === '--worker') {
    const [, engine, workload, scale, warmup, reps, exportDir] = argv;
    const m = engine === 'onnxruntime'
      ? await onnxWorker(exportDir, Number(warmup), Number(reps), Number(process.env.FEWSHOT_NUM_THREADS ?? 2))
      : await worker(engine, workload as Workload, Number(scale), Number(warmup), Number(reps), exportDir || undefined);
    console.log(JSON.stringify(m));
    return;
  }
  const json = argv.includes('--json');
  const threads = Number(argv[argv.indexOf('--threads') + 1] ?? 2) || 2;
  const only = argv.includes('--workloads') ? argv[argv.indexOf('--workloads') + 1].split(',') as Workload[] : WORKLOADS;
  const skipSlow = argv.includes('--skip-slow');
  // Same threading for every engine: `threads` OpenMP threads that sleep at barriers (fewshot's
  // default; on a shared machine spinning threads slow everyone, PyTorch included).
  const waitPolicy = process.env.OMP_WAIT_POLICY ?? 'passive';
  const env = { ...process.env, FEWSHOT_NUM_THREADS: String(threads), OMP_NUM_THREADS: String(threads), OPENBLAS_NUM_THREADS: String(threads), OMP_WAIT_POLICY: waitPolicy };
  const self = fileURLToPath(import.meta.url);
  const nodeWorker = (engine: string, w: Workload, scale: number, warmup: number, reps: number, exportDir = '') =>
    runChild(process.execPath, ['--import', 'tsx', self, '--worker', engine, w, String(scale), String(warmup), String(reps), exportDir], env);

  const torchAvailable = existsSync(PYTHON) && spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' }).status === 0;
  const torchNote = torchAvailable ? null : `PyTorch missing: ${PYTHON} cannot import torch (Debian: apt-get install -y python3-torch libopenblas0-pthread)`;
  if (torchNote) progress(torchNote);
  const exportDir = mkdtempSync(join(tmpdir(), 'fewshot-bench-'));

  // Slow TF.js backends: smaller batches, so the whole bench stays a few minutes on 2 cores.
  // The stock cpu backend needs minutes per Koch step (JS convolution gradients): skipped unless
  // --cpu-koch; its Conv-4 step runs once on a 20-image episode.
  const slow: Record<string, Record<Workload, { scale: number; warmup: number; reps: number } | null>> = {
    wasm: { 'conv4-episode': { scale: 0.1, warmup: 1, reps: 3 }, 'koch-pair': { scale: 1 / 16, warmup: 1, reps: 3 }, 'conv4-infer': { scale: 1, warmup: 1, reps: 3 } },
    cpu: { 'conv4-episode': { scale: 1 / 30, warmup: 0, reps: 1 }, 'koch-pair': argv.includes('--cpu-koch') ? { scale: 1 / 16, warmup: 0, reps: 1 } : null, 'conv4-infer': { scale: 0.125, warmup: 1, reps: 3 } },
  };
  const results: Record<string, Record<string, unknown>> = {};
  for (const w of only) {
    const entry: Record<string, unknown> = {};
    progress(`${w}: fewshot default backend`);
    const fs = nodeWorker('fewshot', w, 1, w === 'conv4-infer' ? 2 : 1, w === 'conv4-infer' ? 5 : 3, w === 'conv4-infer' ? exportDir : '');
    entry.fewshot = fs.json ?? { error: fs.error };
    for (const engine of skipSlow ? [] : ['wasm', 'cpu']) {
      const cfg = slow[engine][w];
      if (!cfg) {
        entry[`tfjs_${engine}`] = { error: 'skipped: minutes per step on this backend (run with --cpu-koch)' };
        continue;
      }
      progress(`${w}: tfjs ${engine} (batch x${cfg.scale.toFixed(3)}, ${cfg.reps} timed)`);
      const r = nodeWorker(engine, w, cfg.scale, cfg.warmup, cfg.reps);
      entry[`tfjs_${engine}`] = r.json ?? { error: r.error };
    }
    const torchRuns: Array<Record<string, unknown>> = [];
    if (torchAvailable) {
      for (const channelsLast of w === 'koch-pair' ? [false] : [false, true]) {
        progress(`${w}: pytorch${channelsLast ? ' channels-last' : ''}`);
        const args = [join(HERE, 'torch_speed.py'), '--workload', w, '--threads', String(threads), '--reps', w === 'conv4-infer' ? '5' : '3', '--warmup', w === 'conv4-infer' ? '2' : '1'];
        if (channelsLast) args.push('--channels-last');
        if (w === 'conv4-infer' && !channelsLast) args.push('--weights', exportDir, '--onnx-out', join(exportDir, 'conv4.onnx'), '--outputs-out', join(exportDir, 'torch_out.bin'));
        const r = runChild(PYTHON, args, env);
        torchRuns.push(r.json ?? { error: r.error, channels_last: channelsLast });
      }
    }
    entry.pytorch = torchAvailable ? torchRuns : { error: torchNote };
    if (w === 'conv4-infer') {
      if (existsSync(join(exportDir, 'conv4.onnx'))) {
        progress(`${w}: onnxruntime`);
        const r = nodeWorker('onnxruntime', w, 1, 2, 5, exportDir);
        entry.onnxruntime = r.json ?? { error: r.error };
        if (existsSync(join(exportDir, 'torch_out.bin')) && existsSync(join(exportDir, 'fewshot_out.bin'))) {
          const a = new Float32Array(readFileSync(join(exportDir, 'torch_out.bin')).buffer.slice(0));
          const b = new Float32Array(readFileSync(join(exportDir, 'fewshot_out.bin')).buffer.slice(0));
          entry.max_abs_diff_fewshot_vs_pytorch = a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
        }
      } else entry.onnxruntime = { error: 'no ONNX model: the PyTorch helper exports it (needs torch)' };
    }
    results[w] = summarise(w, entry);
  }
  rmSync(exportDir, { recursive: true, force: true });
  const out = { machine: { threads, omp_wait_policy: waitPolicy, cpus: (await import('node:os')).cpus().length, load_average: (await import('node:os')).loadavg().map((x) => +x.toFixed(2)) }, workloads: results };
  if (json) console.log(JSON.stringify(out, null, 2));
  else printTable(out.workloads);
}

const num = (x: unknown) => (typeof x === 'number' && Number.isFinite(x) ? x : null);
const round = (x: number | null, d = 1) => (x == null ? null : +x.toFixed(d));

function summarise(w: Workload, e: Record<string, unknown>): Record<string, unknown> {
  const fs = e.fewshot as Partial<Measurement>;
  const torchRuns = Array.isArray(e.pytorch) ? (e.pytorch as Array<Record<string, unknown>>).filter((r) => num(r.per_s) != null) : [];
  // The faster PyTorch memory format is the reference (conservative ratio).
  const best = torchRuns.sort((a, b) => (b.per_s as number) - (a.per_s as number))[0];
  const fsRate = num(fs.per_s), ptRate = best ? (best.per_s as number) : null;
  const s: Record<string, unknown> = {
    backend: fs.backend ?? null,
    fewshot_per_s: round(fsRate),
    pytorch_per_s: round(ptRate),
    pytorch_channels_last: best ? best.channels_last : null,
    ratio_vs_pytorch: fsRate != null && ptRate ? round(fsRate / ptRate, 2) : null,
    tfjs_wasm_per_s: round(num((e.tfjs_wasm as Measurement | undefined)?.per_s), 2),
    tfjs_cpu_per_s: round(num((e.tfjs_cpu as Measurement | undefined)?.per_s), 2),
    fewshot_peak_rss_mb: round(num(fs.peak_rss_mb), 0),
    pytorch_peak_rss_mb: best ? round(best.peak_rss_mb as number, 0) : null,
    memory_ratio_vs_pytorch: best && num(fs.peak_rss_mb) ? round((fs.peak_rss_mb as number) / (best.peak_rss_mb as number), 2) : null,
  };
  if (w === 'conv4-infer') {
    const o = e.onnxruntime as Record<string, unknown> | undefined;
    const oRate = num(o?.per_s);
    Object.assign(s, {
      onnxruntime_per_s: round(oRate),
      ratio_vs_onnxruntime: fsRate != null && oRate ? round(fsRate / oRate, 2) : null,
      onnxruntime_peak_rss_mb: round(num(o?.peak_rss_mb), 0),
      onnx_max_abs_diff_vs_fewshot: o?.max_abs_diff_vs_fewshot ?? null,
      max_abs_diff_fewshot_vs_pytorch: e.max_abs_diff_fewshot_vs_pytorch ?? null,
    });
  }
  s.details = e;
  return s;
}

function printTable(results: Record<string, Record<string, unknown>>): void {
  const cols = ['fewshot_per_s', 'pytorch_per_s', 'ratio_vs_pytorch', 'onnxruntime_per_s', 'ratio_vs_onnxruntime', 'tfjs_wasm_per_s', 'tfjs_cpu_per_s', 'fewshot_peak_rss_mb', 'pytorch_peak_rss_mb'];
  console.log(['workload', ...cols].join('\t'));
  for (const [w, r] of Object.entries(results)) console.log([w, ...cols.map((c) => String(r[c] ?? '-'))].join('\t'));
}

await main();
