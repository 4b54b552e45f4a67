/**
 * `npm run bench:speed [-- --json]`: fewshot against PyTorch (CPU) and ONNX Runtime on the same
 * models, batches and threads, every engine at its best, measured in interleaved rounds.
 *
 * Fairness rules (issue 11):
 *  - every process gets the same allocator settings (glibc: no mmap for big blocks, 1 GiB trim
 *    threshold, i.e. what the native addon sets for itself; `--allocator default` turns it off
 *    for everyone);
 *  - every engine runs in each of its configurations and its best one is its reference: PyTorch
 *    NCHW and channels-last, OpenMP workers passive and active (spinning) for fewshot and
 *    PyTorch, ONNX Runtime's thread pool spinning and not; the bench prints which won;
 *  - engines alternate: each round runs every (engine, configuration) once in a rotated order, in
 *    a fresh process (warm-up steps, then >= 5 timed steps; the round's rate is their median);
 *  - ratio = median over rounds of (fewshot's best config / the peer's best config) in the same
 *    round, printed with min and max, next to the load average seen during the rounds;
 *  - peak memory: the max RSS of each process, the max over rounds of the best configuration.
 *  - bf16 (training, where the CPU has AVX512-BF16/AMX; `--precisions fp32` skips it): fewshot's
 *    opt-in `--precision bf16` runs in the same rounds against PyTorch at its best in reduced
 *    precision (torch.autocast('cpu', bfloat16), both layouts); its ratios against PyTorch bf16
 *    and against PyTorch fp32 are printed side by side, in the workload's `bf16` object. The
 *    fp32 rows stay the headline: bf16 changes the arithmetic, so it is its own row.
 *
 * Inference ("fewshot") is the product's path for a loaded model on the native backend: the
 * compiled oneDNN plan (src/backend/native/inference_plan.ts). The op-by-op TF.js run and
 * `--backend onnx` (ONNX Runtime on fewshot's own TypeScript ONNX export) are their own rows.
 * ONNX Runtime's reference graph is torch.onnx's export of the same weights (NCHW, what most
 * ONNX users run), or fewshot's export when PyTorch is missing.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { selectBackend } from '../src/backend/select.js';
import { loadNativeAddon } from '../src/backend/native/addon.js';
import { setTrainingPrecision } from '../src/backend/native/precision.js';
import { compileInferencePlan } from '../src/backend/native/inference_plan.js';
import { OrtSession } from '../src/backend/onnx/runtime.js';
import { exportOnnx } from '../src/export/onnx/export.js';
import { conv4, trainingStep, uniform } from './workloads.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const PYTHON = '/usr/bin/python3';
type Workload = 'conv4-episode' | 'koch-pair' | 'conv4-infer' | 'conv4-infer-1';
const WORKLOADS: Workload[] = ['conv4-episode', 'koch-pair', 'conv4-infer', 'conv4-infer-1'];
const isInference = (w: Workload) => w.startsWith('conv4-infer');
/** Inference batch and calls per timed step (batch 1 is too short to time one call). */
const INFER: Record<string, { batch: number; calls: number }> = { 'conv4-infer': { batch: 256, calls: 1 }, 'conv4-infer-1': { batch: 1, calls: 64 } };

/** One way to run one engine: what the child process gets. */
interface Variant {
  engine: 'fewshot' | 'fewshot-tfjs' | 'fewshot-onnx' | 'pytorch' | 'onnxruntime' | 'tfjs-wasm' | 'tfjs-cpu';
  label: string;
  wait: 'passive' | 'active';
  channelsLast?: boolean;
  /** Training only: bf16 convolutions (fewshot --precision bf16, PyTorch autocast). */
  precision?: 'fp32' | 'bf16';
}

interface Measurement {
  per_s: number;
  median_s: number;
  times_s: number[];
  peak_rss_mb: number;
  max_abs_diff_vs_tfjs?: number;
  [k: string]: unknown;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
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

const f32 = (file: string) => {
  const b = readFileSync(file); // small files share Node's buffer pool: copy exactly their bytes
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
};
const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let d = 0;
  for (let i = 0; i < b.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!));
  return d;
};

// ---------------------------------------------------------------- shared inference model

/** Seeded Conv-4 whose batch-norm layers carry non-trivial moving statistics. */
function inferenceConv4(): tfl.Sequential {
  const model = conv4();
  let seed = 100;
  for (const layer of model.layers) {
    if (layer.getClassName() !== 'BatchNormalization') continue;
    const w = layer.getWeights();
    const r = (lo: number, hi: number) => tf.randomUniform(w[0]!.shape, lo, hi, 'float32', seed++);
    layer.setWeights([r(0.5, 1.5), r(-0.2, 0.2), r(-0.3, 0.3), r(0.5, 2)]);
  }
  return model;
}

/**
 * Writes, for every engine: the weights (raw float32 + manifest, TF.js layout), the inputs of
 * each batch size, TF.js cpu's outputs (the reference every engine is compared with) and
 * fewshot's ONNX export.
 */
async function prepareInference(dir: string): Promise<void> {
  await selectBackend('cpu', { quiet: true });
  const model = inferenceConv4();
  const manifest: Array<{ name: string; file: string; shape: number[] }> = [];
  const write = (name: string, t: tf.Tensor) => {
    const file = name.replace('/', '_') + '.bin';
    writeFileSync(join(dir, file), Buffer.from((t.dataSync() as Float32Array).buffer.slice(0)));
    manifest.push({ name, file, shape: t.shape });
  };
  let conv = 0, bn = 0;
  for (const layer of model.layers) {
    const w = layer.getWeights();
    if (layer.getClassName() === 'Conv2D') { write(`conv${conv}/kernel`, w[0]!); write(`conv${conv}/bias`, w[1]!); conv++; }
    if (layer.getClassName() === 'BatchNormalization') {
      ['gamma', 'beta', 'moving_mean', 'moving_variance'].forEach((n, i) => write(`bn${bn}/${n}`, w[i]!));
      bn++;
    }
  }
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
  for (const { batch } of Object.values(INFER)) {
    const x = uniform([batch, 28, 28, 1], 7);
    writeFileSync(join(dir, `input${batch}.bin`), Buffer.from((x.dataSync() as Float32Array).buffer.slice(0)));
    const y = model.predict(x) as tf.Tensor;
    writeFileSync(join(dir, `tfjs${batch}.bin`), Buffer.from((y.dataSync() as Float32Array).buffer.slice(0)));
  }
  writeFileSync(join(dir, 'fewshot.onnx'), exportOnnx(model));
}

/** The same model rebuilt from the prepared weights (fresh process). */
function loadInferenceConv4(dir: string): tfl.Sequential {
  const model = conv4();
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Array<{ name: string; file: string; shape: number[] }>;
  const value = (name: string) => {
    const e = manifest.find((m) => m.name === name)!;
    return tf.tensor(f32(join(dir, e.file)), e.shape);
  };
  let conv = 0, bn = 0;
  for (const layer of model.layers) {
    if (layer.getClassName() === 'Conv2D') { layer.setWeights([value(`conv${conv}/kernel`), value(`conv${conv}/bias`)]); conv++; }
    if (layer.getClassName() === 'BatchNormalization') { layer.setWeights(['gamma', 'beta', 'moving_mean', 'moving_variance'].map((n) => value(`bn${bn}/${n}`))); bn++; }
  }
  return model;
}

// ---------------------------------------------------------------- worker (one process per run)

interface WorkerArgs { variant: Variant; workload: Workload; warmup: number; reps: number; dir: string; threads: number; batchScale: number }

async function worker(a: WorkerArgs): Promise<Measurement> {
  const { variant: v, workload, dir } = a;
  const extra: Record<string, unknown> = {};
  let step: () => void;
  let items: number;
  if (isInference(workload)) {
    const { batch, calls } = INFER[workload]!;
    items = batch * calls;
    const x = f32(join(dir, `input${batch}.bin`));
    const reference = f32(join(dir, `tfjs${batch}.bin`));
    let forward: () => Float32Array;
    if (v.engine === 'onnxruntime' || v.engine === 'fewshot-onnx') {
      const file = v.engine === 'onnxruntime' && existsSync(join(dir, 'torch.onnx')) ? 'torch.onnx' : 'fewshot.onnx';
      extra.onnx_model = file === 'torch.onnx' ? 'torch.onnx export (NCHW)' : "fewshot's TypeScript export (NHWC)";
      const session = OrtSession.create(new Uint8Array(readFileSync(join(dir, file))), { threads: a.threads, spinning: v.wait === 'active' });
      // One input channel: NHWC and NCHW are the same bytes; only the dims differ.
      const dims = file === 'torch.onnx' ? [batch, 1, 28, 28] : [batch, 28, 28, 1];
      const feeds = { [session.inputNames[0]!]: { data: x, dims } };
      forward = () => session.run(feeds)[session.outputNames[0]!]!.data;
    } else {
      await selectBackend('native', { quiet: true });
      const model = loadInferenceConv4(dir);
      if (v.engine === 'fewshot') {
        const compiled = compileInferencePlan(model, loadNativeAddon().addon!);
        if (!('plan' in compiled)) throw new Error(`inference plan: ${compiled.reason}`);
        const y = new Float32Array(batch * compiled.plan.outputSize);
        forward = () => { compiled.plan.run(x, batch, y); return y; };
      } else {
        const xt = tf.tensor4d(x, [batch, 28, 28, 1]);
        forward = () => { const y = tf.tidy(() => model.predict(xt) as tf.Tensor); const d = y.dataSync() as Float32Array; y.dispose(); return d; };
      }
    }
    extra.max_abs_diff_vs_tfjs = maxAbsDiff(forward(), reference);
    step = () => { for (let i = 0; i < calls; i++) forward(); };
  } else {
    const backend = v.engine === 'tfjs-wasm' ? 'wasm' : v.engine === 'tfjs-cpu' ? 'cpu' : 'native';
    await selectBackend(backend, { quiet: true });
    if (v.precision === 'bf16') setTrainingPrecision('bf16');
    ({ step, items } = trainingStep(workload as 'conv4-episode' | 'koch-pair', a.batchScale));
  }
  for (let i = 0; i < a.warmup; i++) step();
  const cpu0 = process.cpuUsage();
  const times = timeSteps(step, 0, a.reps);
  const cpu = process.cpuUsage(cpu0);
  const med = median(times);
  // CPU seconds per item (all threads): far less sensitive to other jobs than wall time.
  const cpuPerItem = (cpu.user + cpu.system) / 1e6 / (items * a.reps);
  return { ...extra, items, per_s: items / med, median_s: med, times_s: times, cpu_s_per_item: cpuPerItem, peak_rss_mb: process.resourceUsage().maxRSS / 1024 };
}

// ---------------------------------------------------------------- orchestrator

// Children inherit the bench's own priority (every engine the same): a fixed `nice` here made them lose to
// other jobs on a shared machine while the bench looked "quiet". Share the machine with `nice npm run ...`.
function runChild(cmd: string, args: string[], env: NodeJS.ProcessEnv): Measurement | { error: string } {
  const r = spawnSync(cmd, args, { env, encoding: 'utf8', maxBuffer: 1 << 24 });
  const last = (r.stdout ?? '').trim().split('\n').filter(Boolean).pop();
  try {
    const json = JSON.parse(last ?? '');
    return json.error ? { error: String(json.error) } : json;
  } catch {
    return { error: `exit ${r.status}: ${(r.stderr ?? '').trim().split('\n').slice(-3).join(' | ')}` };
  }
}

const progress = (msg: string) => process.stderr.write(`bench: ${msg}\n`);

function variantsFor(w: Workload, opts: { torch: boolean; waits: Array<'passive' | 'active'>; slow: boolean; bf16: boolean }): Variant[] {
  const out: Variant[] = [];
  const precisions = opts.bf16 && !isInference(w) ? (['fp32', 'bf16'] as const) : (['fp32'] as const);
  for (const wait of opts.waits) {
    for (const precision of precisions) {
      const tag = precision === 'bf16' ? ' bf16' : '';
      out.push({ engine: 'fewshot', label: `fewshot${tag} ${wait}`, wait, precision });
      if (opts.torch) for (const cl of [false, true]) out.push({ engine: 'pytorch', label: `pytorch${precision === 'bf16' ? ' autocast-bf16' : ''} ${cl ? 'channels-last' : 'nchw'} ${wait}`, wait, channelsLast: cl, precision });
    }
    if (isInference(w)) {
      out.push({ engine: 'onnxruntime', label: `onnxruntime ${wait === 'active' ? 'spinning' : 'no-spin'}`, wait });
      out.push({ engine: 'fewshot-onnx', label: `fewshot --backend onnx ${wait === 'active' ? 'spinning' : 'no-spin'}`, wait });
      out.push({ engine: 'fewshot-tfjs', label: `fewshot tfjs op-by-op ${wait}`, wait });
    }
  }
  if (opts.slow && !isInference(w)) {
    out.push({ engine: 'tfjs-wasm', label: 'tfjs wasm (reduced batch)', wait: 'passive' });
    out.push({ engine: 'tfjs-cpu', label: 'tfjs cpu (reduced batch)', wait: 'passive' });
  }
  return out;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv[0] === '--prepare') return prepareInference(argv[1]!);
  if (argv[0] === '--worker') {
    try {
      console.log(JSON.stringify(await worker(JSON.parse(argv[1]!) as WorkerArgs)));
    } catch (e) {
      console.log(JSON.stringify({ error: (e as Error).message }));
    }
    return;
  }
  const flag = (name: string) => argv.includes(name);
  const value = (name: string, fallback: string) => (argv.includes(name) ? argv[argv.indexOf(name) + 1]! : fallback);
  const json = flag('--json');
  const threads = Number(value('--threads', '2'));
  const rounds = Math.max(3, Number(value('--rounds', '3')));
  const reps = Math.max(5, Number(value('--reps', '5')));
  const only = value('--workloads', WORKLOADS.join(',')).split(',') as Workload[];
  const waits = value('--wait-policies', 'passive,active').split(',') as Array<'passive' | 'active'>;
  const allocator = value('--allocator', 'tuned');
  const slow = flag('--slow-backends');
  const wantBf16 = value('--precisions', 'fp32,bf16').split(',').includes('bf16');
  const bf16Note = !wantBf16 ? 'not run (--precisions fp32)' : loadNativeAddon().addon?.bf16Supported() ? null : 'not run: oneDNN reports no AVX512-BF16/AMX on this CPU';
  const bf16 = wantBf16 && bf16Note === null;
  // --save FILE: the JSON so far is written after every workload, so a run cut short keeps what it measured.
  const saveTo = argv.includes('--save') ? value('--save', '') : null;
  const startedAt = new Date().toISOString();

  // Same allocator and threads for every process.
  const env: NodeJS.ProcessEnv = { ...process.env, FEWSHOT_NUM_THREADS: String(threads), OMP_NUM_THREADS: String(threads), OPENBLAS_NUM_THREADS: String(threads) };
  if (allocator === 'tuned') Object.assign(env, { MALLOC_MMAP_MAX_: '0', MALLOC_TRIM_THRESHOLD_: String(2 ** 30) });
  else Object.assign(env, { FEWSHOT_MALLOC_TUNING: '0' });
  const self = fileURLToPath(import.meta.url);
  const torch = existsSync(PYTHON) && spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' }).status === 0;
  const torchNote = torch ? null : `PyTorch missing: ${PYTHON} cannot import torch (Debian: apt-get install -y python3-torch libopenblas0-pthread)`;
  if (torchNote) progress(torchNote);

  const dir = mkdtempSync(join(tmpdir(), 'fewshot-bench-'));
  const loads: number[] = [];
  const failed: string[] = []; // workloads where no fewshot (native) run succeeded
  const results: Record<string, unknown> = {};
  try {
    if (only.some(isInference)) {
      const prep = spawnSync(process.execPath, ['--import', 'tsx', self, '--prepare', dir], { env, encoding: 'utf8' });
      if (prep.status !== 0) throw new Error(`preparing the inference model failed: ${prep.stderr}`);
      if (torch) {
        const r = runChild(PYTHON, [join(HERE, 'torch_speed.py'), '--workload', 'conv4-infer', '--weights', dir, '--onnx-out', join(dir, 'torch.onnx')], env);
        if ('error' in r) progress(`torch.onnx export failed (${r.error}); ONNX Runtime runs fewshot's export`);
      }
    }
    for (const w of only) {
      const variants = variantsFor(w, { torch, waits, slow, bf16 });
      const perRound: Array<Record<string, Measurement | { error: string }>> = [];
      for (let round = 0; round < rounds; round++) {
        const row: Record<string, Measurement | { error: string }> = {};
        // Rotate the order so no engine always runs first (or right after the heaviest one).
        const order = variants.map((_, i) => variants[(i + round) % variants.length]!);
        for (const v of order) {
          if (v.engine.startsWith('tfjs-') && round > 0) continue; // slow backends: one round only
          const venv = { ...env, OMP_WAIT_POLICY: v.wait };
          const warmup = isInference(w) ? 2 : 1;
          const batchScale = v.engine === 'tfjs-wasm' ? (w === 'koch-pair' ? 1 / 16 : 0.1) : v.engine === 'tfjs-cpu' ? (w === 'koch-pair' ? 1 / 32 : 1 / 30) : 1;
          const stepsHere = v.engine.startsWith('tfjs-') ? 1 : reps;
          progress(`${w} round ${round + 1}/${rounds}: ${v.label}`);
          loads.push(loadavg()[0]!);
          let m: Measurement | { error: string };
          if (v.engine === 'pytorch') {
            const args = [join(HERE, 'torch_speed.py'), '--workload', isInference(w) ? 'conv4-infer' : w, '--threads', String(threads), '--reps', String(reps), '--warmup', String(warmup)];
            if (v.channelsLast) args.push('--channels-last');
            if (v.precision === 'bf16') args.push('--bf16');
            if (isInference(w)) {
              const { batch, calls } = INFER[w]!;
              args.push('--weights', dir, '--batch', String(batch), '--calls', String(calls), '--reference', join(dir, `tfjs${batch}.bin`));
            }
            m = runChild(PYTHON, args, venv);
          } else {
            const args: WorkerArgs = { variant: v, workload: w, warmup, reps: stepsHere, dir, threads, batchScale };
            m = runChild(process.execPath, ['--import', 'tsx', self, '--worker', JSON.stringify(args)], venv);
          }
          row[v.label] = m;
        }
        perRound.push(row);
      }
      results[w] = summarise(w, variants, perRound);
      const ours = variants.filter((v) => v.engine === 'fewshot').flatMap((v) => perRound.map((r) => r[v.label]).filter((m) => m !== undefined));
      if (ours.length > 0 && ours.every((m) => 'error' in m!)) {
        failed.push(w);
        progress(`${w}: every fewshot run failed, e.g. ${(ours[0] as { error: string }).error}`);
      }
      if (saveTo) writeFileSync(saveTo, JSON.stringify(report(), null, 2));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const out = report();
  if (json) console.log(JSON.stringify(out, null, 2));
  else printTable(out);
  if (failed.length > 0) {
    // a JSON of errors is not a measurement: fail so that no script or person mistakes it for one
    console.error(`bench:speed: every fewshot run failed on ${failed.join(', ')} (the errors are in the report${saveTo ? ` and in ${saveTo}` : ''})`);
    process.exitCode = 1;
  }

  function report() {
    return {
      machine: {
        started_at: startedAt, written_at: new Date().toISOString(),
        threads, cpus: cpus().length, cpu_model: cpus()[0]?.model, allocator: allocator === 'tuned' ? 'glibc MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=1GiB for every process' : 'glibc defaults for every process',
        wait_policies_tried: waits, rounds, timed_steps_per_round: reps,
        load_average_during_rounds: { min: +Math.min(...loads).toFixed(2), median: +median(loads).toFixed(2), max: +Math.max(...loads).toFixed(2) },
        pytorch: torch ? 'available' : torchNote,
        bf16_training: bf16 ? 'fewshot --precision bf16 vs PyTorch autocast bf16 (and fp32), same rounds' : bf16Note,
      },
      workloads: results,
    };
  }
}

const round = (x: number | null | undefined, d = 1) => (x == null || !Number.isFinite(x) ? null : +x.toFixed(d));

/** Per engine: its best configuration (highest median rate over rounds). */
function best(engine: Variant['engine'], variants: Variant[], perRound: Array<Record<string, Measurement | { error: string }>>, precision: 'fp32' | 'bf16' = 'fp32') {
  let chosen: { label: string; rates: Array<number | null>; median: number; peak: number; sample: Measurement } | null = null;
  for (const v of variants.filter((x) => x.engine === engine && (x.precision ?? 'fp32') === precision)) {
    const ms = perRound.map((r) => r[v.label]).filter((m): m is Measurement => !!m && !('error' in m));
    if (ms.length === 0) continue;
    const rates = perRound.map((r) => { const m = r[v.label]; return m && !('error' in m) ? m.per_s : null; });
    const med = median(ms.map((m) => m.per_s));
    if (!chosen || med > chosen.median) chosen = { label: v.label, rates, median: med, peak: Math.max(...ms.map((m) => m.peak_rss_mb)), sample: ms[0]! };
  }
  return chosen;
}

/** Median over rounds of a configuration's CPU milliseconds per item (null when not measured). */
function cpuMsPerItem(label: string | undefined, perRound: Array<Record<string, Measurement | { error: string }>>): number | null {
  if (!label) return null;
  const xs = perRound.map((r) => r[label]).filter((m): m is Measurement => !!m && !('error' in m) && typeof m.cpu_s_per_item === 'number').map((m) => m.cpu_s_per_item as number);
  return xs.length ? round(median(xs) * 1000, 4) : null;
}

function ratioStats(a: Array<number | null> | undefined, b: Array<number | null> | undefined) {
  if (!a || !b) return null;
  const r = a.map((x, i) => (x != null && b[i] != null ? x / b[i]! : null)).filter((x): x is number => x != null);
  return r.length ? { median: median(r), min: Math.min(...r), max: Math.max(...r), per_round: r.map((x) => round(x, 2)) } : null;
}

function summarise(w: Workload, variants: Variant[], perRound: Array<Record<string, Measurement | { error: string }>>): Record<string, unknown> {
  const fs = best('fewshot', variants, perRound), pt = best('pytorch', variants, perRound);
  const vsPt = ratioStats(fs?.rates, pt?.rates);
  const s: Record<string, unknown> = {
    fewshot_per_s: round(fs?.median),
    fewshot_config: fs?.label ?? null,
    pytorch_per_s: round(pt?.median),
    pytorch_config: pt?.label ?? null,
    pytorch_onednn: pt ? { available: pt.sample.mkldnn_available, enabled: pt.sample.mkldnn_enabled, version: pt.sample.onednn, cpu_capability: pt.sample.cpu_capability } : null,
    ratio_vs_pytorch: round(vsPt?.median, 2),
    ratio_vs_pytorch_min: round(vsPt?.min, 2),
    ratio_vs_pytorch_max: round(vsPt?.max, 2),
    fewshot_peak_rss_mb: round(fs?.peak, 0),
    pytorch_peak_rss_mb: round(pt?.peak, 0),
    memory_ratio_vs_pytorch: fs && pt ? round(fs.peak / pt.peak, 2) : null,
    cpu_ms_per_item: Object.fromEntries(['fewshot', 'pytorch', 'onnxruntime', 'fewshot-onnx'].map((e) => [e, cpuMsPerItem(best(e as Variant['engine'], variants, perRound)?.label, perRound)])),
  };
  if (isInference(w)) {
    const ort = best('onnxruntime', variants, perRound), fo = best('fewshot-onnx', variants, perRound), ft = best('fewshot-tfjs', variants, perRound);
    const vsOrt = ratioStats(fs?.rates, ort?.rates), onnxVsOrt = ratioStats(fo?.rates, ort?.rates);
    Object.assign(s, {
      batch: INFER[w]!.batch,
      onnxruntime_per_s: round(ort?.median),
      onnxruntime_config: ort ? `${ort.label}, ${String(ort.sample.onnx_model)}` : null,
      ratio_vs_onnxruntime: round(vsOrt?.median, 2),
      ratio_vs_onnxruntime_min: round(vsOrt?.min, 2),
      ratio_vs_onnxruntime_max: round(vsOrt?.max, 2),
      onnxruntime_peak_rss_mb: round(ort?.peak, 0),
      fewshot_onnx_backend_per_s: round(fo?.median),
      fewshot_onnx_backend_ratio_vs_onnxruntime: round(onnxVsOrt?.median, 2),
      fewshot_tfjs_op_by_op_per_s: round(ft?.median),
      max_abs_diff_vs_tfjs_cpu: Object.fromEntries(['fewshot', 'pytorch', 'onnxruntime', 'fewshot-onnx', 'fewshot-tfjs'].map((e) => [e, best(e as Variant['engine'], variants, perRound)?.sample.max_abs_diff_vs_tfjs ?? null])),
    });
  } else {
    for (const e of ['tfjs-wasm', 'tfjs-cpu'] as const) {
      const m = perRound[0]?.[variants.find((v) => v.engine === e)?.label ?? ''];
      if (m && !('error' in m)) s[`${e.replace('-', '_')}_per_s`] = { per_s: round(m.per_s, 2), batch: m.items };
    }
  }
  if (variants.some((v) => v.precision === 'bf16')) s.bf16 = summariseBf16(variants, perRound, fs, pt);
  s.ratio_vs_pytorch_per_round = vsPt?.per_round ?? null;
  s.rounds = perRound.map((r) => Object.fromEntries(Object.entries(r).map(([k, m]) => [k, 'error' in m ? { error: m.error } : { per_s: round(m.per_s), peak_rss_mb: round(m.peak_rss_mb, 0) }])));
  return s;
}

type Best = ReturnType<typeof best>;

/** The bf16 row: fewshot --precision bf16 against PyTorch autocast bf16 and against PyTorch fp32, same rounds. */
function summariseBf16(variants: Variant[], perRound: Array<Record<string, Measurement | { error: string }>>, fs32: Best, pt32: Best): Record<string, unknown> {
  const fs = best('fewshot', variants, perRound, 'bf16'), pt = best('pytorch', variants, perRound, 'bf16');
  const stats = (r: ReturnType<typeof ratioStats>) => (r ? { median: round(r.median, 2), min: round(r.min, 2), max: round(r.max, 2), per_round: r.per_round } : null);
  return {
    fewshot_per_s: round(fs?.median),
    fewshot_config: fs?.label ?? null,
    pytorch_per_s: round(pt?.median),
    pytorch_config: pt?.label ?? null,
    ratio_vs_pytorch_bf16: stats(ratioStats(fs?.rates, pt?.rates)),
    ratio_vs_pytorch_fp32: stats(ratioStats(fs?.rates, pt32?.rates)),
    speedup_over_fewshot_fp32: stats(ratioStats(fs?.rates, fs32?.rates)),
    pytorch_bf16_speedup_over_fp32: stats(ratioStats(pt?.rates, pt32?.rates)),
    fewshot_peak_rss_mb: round(fs?.peak, 0),
    pytorch_peak_rss_mb: round(pt?.peak, 0),
    cpu_ms_per_item: { fewshot: cpuMsPerItem(fs?.label, perRound), pytorch: cpuMsPerItem(pt?.label, perRound) },
  };
}

function printTable(out: { machine: Record<string, unknown>; workloads: Record<string, unknown> }): void {
  console.log(JSON.stringify(out.machine));
  const cols = ['fewshot_per_s', 'pytorch_per_s', 'ratio_vs_pytorch', 'ratio_vs_pytorch_min', 'ratio_vs_pytorch_max', 'onnxruntime_per_s', 'ratio_vs_onnxruntime', 'ratio_vs_onnxruntime_min', 'ratio_vs_onnxruntime_max', 'fewshot_onnx_backend_per_s', 'fewshot_peak_rss_mb', 'pytorch_peak_rss_mb', 'memory_ratio_vs_pytorch', 'fewshot_config', 'pytorch_config', 'onnxruntime_config'];
  console.log(['workload', ...cols].join('\t'));
  for (const [w, r] of Object.entries(out.workloads)) console.log([w, ...cols.map((c) => String((r as Record<string, unknown>)[c] ?? '-'))].join('\t'));
  for (const [w, r] of Object.entries(out.workloads)) {
    const b = (r as Record<string, unknown>).bf16 as Record<string, unknown> | undefined;
    if (!b) continue;
    const fmt = (x: unknown) => {
      const r = x as { median: number; min: number; max: number } | null;
      return r ? `${r.median}x [${r.min}, ${r.max}]` : '-';
    };
    console.log(`${w} bf16: fewshot ${String(b.fewshot_per_s)}/s (${String(b.fewshot_config)}), PyTorch autocast bf16 ${String(b.pytorch_per_s)}/s (${String(b.pytorch_config)}); ` +
      `ratio vs PyTorch bf16 ${fmt(b.ratio_vs_pytorch_bf16)}, vs PyTorch fp32 ${fmt(b.ratio_vs_pytorch_fp32)}, over fewshot fp32 ${fmt(b.speedup_over_fewshot_fp32)}`);
  }
}

await main();
