/**
 * Loads the compiled oneDNN kernels (native/build/Release/fewshot_native.node). Missing or
 * unloadable addon => null plus the reason, so callers can fall back and say how to get it.
 */
import { createRequire } from 'node:module';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NativeInferencePlan, PlanSpec } from './inference_plan.js';

/** The functions native/src/addon.cc exports. All buffers are Float32Arrays used in place. */
export interface NativeAddon {
  /**
   * groups (default 1): the channel count makes it a depthwise convolution. bf16: compute from
   * bfloat16 copies of the inputs, f32 out (precision.ts); ignored where the CPU or geometry has no bf16 kernel.
   */
  conv2dForward(geometry: number[], x: Float32Array, w: Float32Array, bias: Float32Array | null, y: Float32Array, activation: number, alpha: number, groups?: number, bf16?: boolean): void;
  /** groups: as conv2dForward's (the channel count: the gradients of a depthwise convolution). */
  conv2dBackwardData(geometry: number[], dy: Float32Array, w: Float32Array, dx: Float32Array, bf16?: boolean, groups?: number): void;
  conv2dBackwardWeights(geometry: number[], x: Float32Array, dy: Float32Array, dw: Float32Array, bf16?: boolean, db?: Float32Array | null, groups?: number): void;
  /** Whether oneDNN runs bf16 kernels natively here (AVX512-BF16 or AMX). */
  bf16Supported(): boolean;
  /** The float32 algorithm a convolution of this geometry runs: FFT (large filters), Winograd (3x3) or direct. */
  convAlgorithm(geometry: number[], groups?: number): 'single-output' | 'fft' | 'winograd' | 'direct';
  /** Images per pass of the FFT convolutions' workspace (0: automatic); tests use 1 to cover the chunked path. */
  setFftChunkImages(images: number): void;
  batchMatMul(a: Float32Array, b: Float32Array, c: Float32Array, batch: number, aBatched: boolean, bBatched: boolean, m: number, n: number, k: number, transA: boolean, transB: boolean): void;
  biasActivation(y: Float32Array, bias: Float32Array | null, period: number, activation: number, alpha: number): void;
  maxPool(geometry: number[], x: Float32Array, y: Float32Array): void;
  avgPool(geometry: number[], x: Float32Array, y: Float32Array): void;
  maxPoolGrad(geometry: number[], dy: Float32Array, x: Float32Array, dx: Float32Array): void;
  batchNorm(x: Float32Array, channels: number, mean: Float32Array, variance: Float32Array, offset: Float32Array | null, scale: Float32Array | null, eps: number, y: Float32Array): void;
  batchNormGrad(x: Float32Array, dy: Float32Array, channels: number, mean: Float32Array, variance: Float32Array, scale: Float32Array | null, eps: number, dx: Float32Array, dmean: Float32Array, dvariance: Float32Array, dscale: Float32Array, doffset: Float32Array): void;
  /** relu: y = max(0, batchnorm(x)), a following ReLU fused in. */
  batchNormTrain(x: Float32Array, channels: number, gamma: Float32Array | null, beta: Float32Array | null, eps: number, y: Float32Array, mean: Float32Array, variance: Float32Array, relu: boolean): void;
  /** reluOut: the fused variant's output, through whose ReLU the gradient flows; null without. */
  /** Training batch norm + ReLU + max-pool 2x2/2 'valid' of x [n, h, w, c]: only the pooled output is written. */
  batchNormReluPoolTrain(x: Float32Array, shape: number[], gamma: Float32Array, beta: Float32Array, eps: number, pooled: Float32Array, mean: Float32Array, variance: Float32Array): void;
  /** Its gradient from the pooled output's gradient (activations recomputed from x). */
  batchNormReluPoolTrainGrad(x: Float32Array, dyPool: Float32Array, shape: number[], mean: Float32Array, variance: Float32Array, gamma: Float32Array, beta: Float32Array, eps: number, dx: Float32Array, dgamma: Float32Array, dbeta: Float32Array): void;
  batchNormTrainGrad(x: Float32Array, dy: Float32Array, channels: number, mean: Float32Array, variance: Float32Array, gamma: Float32Array | null, eps: number, dx: Float32Array, dgamma: Float32Array, dbeta: Float32Array, reluOut: Float32Array | null): void;
  binary(op: number, a: Float32Array, b: Float32Array, y: Float32Array, mode: number, m: number): void;
  unary(op: number, x: Float32Array, y: Float32Array, alpha: number): void;
  reduce(kind: number, x: Float32Array, outer: number, inner: number, scale: number, y: Float32Array, overRows: boolean): void;
  adam(v: Float32Array, g: Float32Array, m: Float32Array, s: Float32Array, lr: number, beta1: number, beta2: number, eps: number, beta1Power: number, beta2Power: number, vOut: Float32Array, mOut: Float32Array, sOut: Float32Array): void;
  /** NHWC bilinear resize; geometry [n, ih, iw, c, oh, ow]. */
  resizeBilinear(x: Float32Array | Int32Array, geometry: number[], alignCorners: boolean, halfPixelCenters: boolean, y: Float32Array): void;
  /** The tracker's crop passes over tabulated taps (src/tracking/native_crop.ts): bitwise the JavaScript result. */
  cropPasses(
    data: Uint8Array, width: number, channels: number, xIndex: Int32Array, xWeight: Float64Array, xOutside: Float64Array,
    yIndex: Int32Array, yWeight: Float64Array, yOutside: Float64Array, yFirst: number, rows: number, taps: number, out: number,
    fill: Float64Array, dst: Float32Array,
  ): void;
  setNumThreads(n: number): void;
  getNumThreads(): number;
  version(): string;
  /** A loaded model compiled into one native forward pass (see inference_plan.ts). */
  InferencePlan: new (spec: PlanSpec) => NativeInferencePlan;
}

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/**
 * One line telling a user how to get the fast path, as a command that works where fewshot is:
 * in a clone `npm rebuild fewshot` builds nothing, so there it is the `build:native` script.
 */
export const NATIVE_ADVICE = nativeAdvice(repoRoot);

export function nativeAdvice(root: string): string {
  const build = root.split(sep).includes('node_modules') ? 'npm rebuild fewshot' : 'npm run build:native';
  return `apt-get install -y libdnnl-dev g++ make python3 && ${build}`;
}
export const ADDON_PATH = join(repoRoot, 'native', 'build', 'Release', 'fewshot_native.node');

let loaded: { addon: NativeAddon | null; error: string | null } | undefined;

/**
 * The source files (`native/binding.gyp`, `native/src/*`) that changed since `addon` was built,
 * or null. A stale build keeps the old functions' signatures and silently ignores new
 * arguments (an addon built before grouped convolutions ran depthwise kernels as dense ones:
 * wrong numbers, no error), so a stale addon is refused, not used. scripts/build-native.mjs
 * records each source's sha256 next to the addon (`<addon>.sources.json`); without that record
 * (a build made otherwise) a source modified after the addon file counts as changed.
 */
export function staleSources(addon: string, nativeDir: string): string[] | null {
  const src = join(nativeDir, 'src');
  const files = ['binding.gyp', ...(existsSync(src) ? readdirSync(src).sort().map((f) => `src/${f}`) : [])];
  const record = addon.replace(/\.node$/, '.sources.json');
  let changed: string[];
  if (existsSync(record)) {
    const built = JSON.parse(readFileSync(record, 'utf8')) as Record<string, string>;
    const hash = (f: string) => (existsSync(join(nativeDir, f)) ? createHash('sha256').update(readFileSync(join(nativeDir, f))).digest('hex') : undefined);
    changed = [...files.filter((f) => built[f] !== hash(f)), ...Object.keys(built).filter((f) => !files.includes(f))];
  } else {
    const builtAt = statSync(addon).mtimeMs;
    changed = files.filter((f) => existsSync(join(nativeDir, f)) && statSync(join(nativeDir, f)).mtimeMs > builtAt);
  }
  return changed.length > 0 ? changed.map((f) => join(nativeDir, f)) : null;
}

export function loadNativeAddon(): { addon: NativeAddon | null; error: string | null } {
  if (loaded) return loaded;
  if (!existsSync(ADDON_PATH)) {
    loaded = { addon: null, error: `native kernels not built (${ADDON_PATH} missing)` };
    return loaded;
  }
  // OpenMP threads that sleep at barriers instead of spinning: on a shared or busy machine a
  // spinning worker steals the core the other one needs (measured here: conv4 inference 2.6x
  // faster under load), and on an idle one the cost is microseconds per kernel. libgomp reads
  // this when the addon loads it; an explicit OMP_WAIT_POLICY wins.
  process.env.OMP_WAIT_POLICY ??= 'passive';
  const stale = staleSources(ADDON_PATH, join(repoRoot, 'native'));
  if (stale) {
    const names = stale.map((f) => f.slice(repoRoot.length + 1)).join(', ');
    loaded = { addon: null, error: `native kernels are older than their sources (${names} changed after the build): run npm run build:native` };
    return loaded;
  }
  try {
    const addon = createRequire(import.meta.url)(ADDON_PATH) as NativeAddon;
    loaded = { addon, error: null };
  } catch (e) {
    loaded = { addon: null, error: `native kernels failed to load: ${(e as Error).message}` };
  }
  return loaded;
}
