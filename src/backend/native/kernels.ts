/**
 * Native replacements for the cpu backend's hot kernels. Each one handles the float32 NHWC
 * cases the models use and hands anything else (int dtypes, NCHW, prelu, odd broadcasts) to
 * the cpu kernel it replaces, so the 'native' backend is always at least as complete as 'cpu'.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import type { NativeAddon } from './addon.js';
import { ACTIVATIONS, f32, output } from './util.js';
import { LAYOUT_KERNELS } from './layout_kernels.js';

type Args = { inputs: Record<string, tf.TensorInfo>; backend: MathBackendCPU; attrs?: tf.NamedAttrMap };
/** Returns null to mean "not handled here, use the cpu kernel". */
export type NativeKernel = (args: Args, addon: NativeAddon) => tf.TensorInfo | tf.TensorInfo[] | null;

export function convGeometry(c: tf.backend_util.Conv2DInfo): number[] {
  return [
    c.batchSize, c.inHeight, c.inWidth, c.inChannels, c.outHeight, c.outWidth, c.outChannels,
    c.filterHeight, c.filterWidth, c.strideHeight, c.strideWidth, c.dilationHeight, c.dilationWidth,
    c.padInfo.top, c.padInfo.bottom, c.padInfo.left, c.padInfo.right,
  ];
}

function poolGeometry(c: tf.backend_util.Conv2DInfo): number[] {
  return [
    c.batchSize, c.inHeight, c.inWidth, c.inChannels, c.outHeight, c.outWidth, c.filterHeight, c.filterWidth,
    c.strideHeight, c.strideWidth, c.dilationHeight, c.dilationWidth, c.padInfo.top, c.padInfo.left,
  ];
}

/** fewshot's own attr on convolution kernels of a bf16 training pass (precision.ts). */
const bf16 = (attrs: tf.NamedAttrMap | undefined) => attrs?.['precision'] === 'bf16';

const isNHWC = (dataFormat: unknown) => dataFormat == null || dataFormat === 'NHWC' || dataFormat === 'channelsLast';
const nonEmpty = (shape: number[]) => shape.every((d) => d > 0);

const conv2D: NativeKernel = ({ inputs, backend, attrs }, addon) => {
  const { x, filter } = inputs;
  const { strides, pad, dataFormat, dilations, dimRoundingMode } = attrs as unknown as tf.Conv2DAttrs;
  const xv = f32(backend, x), wv = f32(backend, filter);
  if (!xv || !wv || !isNHWC(dataFormat)) return null;
  const info = tf.backend_util.computeConv2DInfo(x.shape as [number, number, number, number], filter.shape as [number, number, number, number], strides, dilations, pad, dimRoundingMode, false, 'channelsLast');
  if (!nonEmpty(info.outShape)) return null;
  const out = output(backend, info.outShape);
  addon.conv2dForward(convGeometry(info), xv, wv, null, out.values, 0, 0);
  return out.info;
};

const fusedConv2D: NativeKernel = ({ inputs, backend, attrs }, addon) => {
  const { x, filter, bias, preluActivationWeights } = inputs;
  const { strides, pad, dataFormat, dilations, dimRoundingMode, activation, leakyreluAlpha } = attrs as unknown as tf.FusedConv2DAttrs;
  const act = ACTIVATIONS[activation];
  const xv = f32(backend, x), wv = f32(backend, filter), bv = bias ? f32(backend, bias) : null;
  if (!xv || !wv || act === undefined || preluActivationWeights != null || !isNHWC(dataFormat)) return null;
  const info = tf.backend_util.computeConv2DInfo(x.shape as [number, number, number, number], filter.shape as [number, number, number, number], strides, dilations, pad, dimRoundingMode, false, 'channelsLast');
  if (bias && (!bv || bv.length !== info.outChannels)) return null;
  if (!nonEmpty(info.outShape)) return null;
  const out = output(backend, info.outShape);
  addon.conv2dForward(convGeometry(info), xv, wv, bv, out.values, act, leakyreluAlpha ?? 0.2, 1, bf16(attrs));
  return out.info;
};

/**
 * DepthwiseConv2dNative and FusedDepthwiseConv2D (MobileNet backbones): a grouped oneDNN
 * convolution with one group per input channel; the filter [kh, kw, C, multiplier] is used as is.
 */
const depthwiseConv2D: NativeKernel = ({ inputs, backend, attrs }, addon) => {
  const { x, filter, bias, preluActivationWeights } = inputs;
  const { strides, pad, dataFormat, dilations, dimRoundingMode, activation, leakyreluAlpha } = attrs as unknown as tf.FusedDepthwiseConv2DAttrs;
  const act = ACTIVATIONS[activation ?? 'linear'];
  const xv = f32(backend, x), wv = f32(backend, filter), bv = bias ? f32(backend, bias) : null;
  if (!xv || !wv || act === undefined || preluActivationWeights != null || !isNHWC(dataFormat)) return null;
  const info = tf.backend_util.computeConv2DInfo(x.shape as [number, number, number, number], filter.shape as [number, number, number, number], strides, dilations ?? 1, pad, dimRoundingMode, true, 'channelsLast');
  if (bias && (!bv || bv.length !== info.outChannels)) return null;
  if (!nonEmpty(info.outShape)) return null;
  const out = output(backend, info.outShape);
  addon.conv2dForward(convGeometry(info), xv, wv, bv, out.values, act, leakyreluAlpha ?? 0.2, info.inChannels);
  return out.info;
};

/** clipByValue(x, 0, 6) is how MobileNets spell relu6; other ranges stay on the cpu kernel. */
const clipByValue: NativeKernel = ({ inputs, backend, attrs }, addon) => {
  const { clipValueMin, clipValueMax } = attrs as unknown as tf.ClipByValueAttrs;
  if (clipValueMin !== 0 || clipValueMax !== 6) return null;
  return unaryKernel(UNARY.Relu6!)({ inputs, backend }, addon);
};

/**
 * Slice of any numeric dtype by copying contiguous runs (the cpu kernel indexes element by
 * element: face crops out of a photo took ~60 ms each).
 */
const slice: NativeKernel = ({ inputs, backend, attrs }) => {
  const { x } = inputs;
  const { begin, size } = attrs as unknown as tf.SliceAttrs;
  const [b, s] = tf.slice_util.parseSliceParams(x as tf.Tensor, begin, size);
  const src = backend.data.get(x.dataId).values;
  if (x.dtype === 'string' || x.dtype === 'complex64' || !ArrayBuffer.isView(src) || !nonEmpty(s) || x.shape.length === 0) return null;
  const values = src as Float32Array | Int32Array | Uint8Array;
  const rank = x.shape.length;
  const strides = tf.util.computeStrides(x.shape);
  // The innermost axes that are taken whole form one contiguous run.
  let inner = rank - 1;
  let run = s[inner]!;
  while (inner > 0 && s[inner] === x.shape[inner]) run *= s[--inner]!;
  if (inner === 0 && s[0] === x.shape[0]) return null; // the whole tensor: the cpu kernel shares storage
  const out = new (values.constructor as Float32ArrayConstructor)(tf.util.sizeFromShape(s));
  const outer = s.slice(0, inner);
  const count = tf.util.sizeFromShape(outer);
  const idx = new Array<number>(inner).fill(0);
  for (let r = 0; r < count; r++) {
    let offset = b[inner]! * (inner < rank - 1 ? strides[inner]! : 1);
    for (let d = 0; d < inner; d++) offset += (b[d]! + idx[d]!) * strides[d]!;
    out.set(values.subarray(offset, offset + run), r * run);
    for (let d = inner - 1; d >= 0; d--) {
      if (++idx[d]! < outer[d]!) break;
      idx[d] = 0;
    }
  }
  return backend.makeTensorInfo(s, x.dtype, out);
};

/** fewshot's own kernel: Conv2D + bias + ReLU or linear, with a lazy gradient (see conv_layer.ts). */
const conv2DBiasActivation: NativeKernel = ({ inputs, backend, attrs }, addon) => {
  const { strides, pad, activation, precision } = attrs as unknown as { strides: [number, number]; pad: 'same' | 'valid'; activation: string; precision?: string };
  return fusedConv2D({ inputs, backend, attrs: { strides, pad, dataFormat: 'NHWC', dilations: 1, activation, precision } as unknown as tf.NamedAttrMap }, addon);
};

const conv2DBackpropInput: NativeKernel = ({ inputs, backend, attrs }, addon) => {
  const { dy, filter } = inputs;
  const { inputShape, strides, pad, dataFormat, dimRoundingMode } = attrs as unknown as tf.Conv2DBackpropInputAttrs;
  const dyv = f32(backend, dy), wv = f32(backend, filter);
  if (!dyv || !wv || !isNHWC(dataFormat)) return null;
  const info = tf.backend_util.computeConv2DInfo(inputShape, filter.shape as [number, number, number, number], strides, 1, pad, dimRoundingMode, false, 'channelsLast');
  if (!nonEmpty(info.inShape) || !nonEmpty(info.outShape)) return null;
  const out = output(backend, [...inputShape]);
  addon.conv2dBackwardData(convGeometry(info), dyv, wv, out.values, bf16(attrs));
  return out.info;
};

const conv2DBackpropFilter: NativeKernel = ({ inputs, backend, attrs }, addon) => {
  const { x, dy } = inputs;
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs as unknown as tf.Conv2DBackpropFilterAttrs;
  const xv = f32(backend, x), dyv = f32(backend, dy);
  if (!xv || !dyv || !isNHWC(dataFormat)) return null;
  const info = tf.backend_util.computeConv2DInfo(x.shape as [number, number, number, number], filterShape, strides, 1, pad, dimRoundingMode, false, 'channelsLast');
  if (!nonEmpty(info.inShape) || !nonEmpty(info.outShape)) return null;
  const out = output(backend, [...filterShape]);
  // conv_layer.ts asks for the bias gradient too: written into its buffer in the same pass
  const bias = (attrs as { biasGradient?: BiasGradient }).biasGradient;
  const db = bias && bias.values.length === info.outChannels ? bias.values : undefined;
  addon.conv2dBackwardWeights(convGeometry(info), xv, dyv, out.values, bf16(attrs), db);
  if (db) bias!.done = true;
  return out.info;
};

/**
 * The two gradients of a depthwise convolution, as oneDNN grouped convolutions (groups = input
 * channels). tfjs-backend-cpu's loops read through TensorBuffer.get: on a MobileNet block of 40
 * maps 10x20x144 its filter gradient took 1.45 s (bench/depthwise-grad.ts). tfjs's fused depthwise gradient asks for both,
 * even when only the input's is needed (a frozen pretrained block behind tuned ones).
 */
const depthwiseBackpropInput: NativeKernel = ({ inputs, backend, attrs }, addon) => {
  const { dy, filter } = inputs;
  const { inputShape, strides, pad, dilations, dimRoundingMode } = attrs as unknown as tf.DepthwiseConv2dNativeBackpropInputAttrs;
  const dyv = f32(backend, dy), wv = f32(backend, filter);
  if (!dyv || !wv) return null;
  const info = tf.backend_util.computeConv2DInfo(inputShape, filter.shape as [number, number, number, number], strides, dilations ?? 1, pad, dimRoundingMode, true, 'channelsLast');
  if (!nonEmpty(info.inShape) || !nonEmpty(info.outShape)) return null;
  const out = output(backend, [...inputShape]);
  addon.conv2dBackwardData(convGeometry(info), dyv, wv, out.values, false, info.inChannels);
  return out.info;
};

const depthwiseBackpropFilter: NativeKernel = ({ inputs, backend, attrs }, addon) => {
  const { x, dy } = inputs;
  const { strides, pad, dilations, dimRoundingMode, filterShape } = attrs as unknown as tf.DepthwiseConv2dNativeBackpropFilterAttrs;
  const xv = f32(backend, x), dyv = f32(backend, dy);
  if (!xv || !dyv) return null;
  const info = tf.backend_util.computeConv2DInfo(x.shape as [number, number, number, number], filterShape, strides, dilations ?? 1, pad, dimRoundingMode, true, 'channelsLast');
  if (!nonEmpty(info.inShape) || !nonEmpty(info.outShape)) return null;
  const out = output(backend, [...filterShape]);
  addon.conv2dBackwardWeights(convGeometry(info), xv, dyv, out.values, false, null, info.inChannels);
  return out.info;
};

/** A bias gradient a filter-gradient kernel may fill as a by-product (`done` when it did). */
export interface BiasGradient { values: Float32Array; done: boolean }

function poolKernel(kind: 'max' | 'avg'): NativeKernel {
  return ({ inputs, backend, attrs }, addon) => {
    const { x } = inputs;
    const { filterSize, strides, pad, dimRoundingMode } = attrs as unknown as tf.MaxPoolAttrs;
    const xv = f32(backend, x);
    if (!xv || x.shape.length !== 4) return null;
    const info = tf.backend_util.computePool2DInfo(x.shape as [number, number, number, number], filterSize, strides, 1, pad, dimRoundingMode);
    if (!nonEmpty(info.outShape)) return null;
    // Identity pooling: tfjs returns the input itself.
    if (info.filterWidth === 1 && info.filterHeight === 1 && tf.util.arraysEqual(info.inShape, info.outShape)) return null;
    const out = output(backend, info.outShape);
    (kind === 'max' ? addon.maxPool : addon.avgPool)(poolGeometry(info), xv, out.values);
    return out.info;
  };
}

const maxPoolGrad: NativeKernel = ({ inputs, backend, attrs }, addon) => {
  const { dy, input } = inputs;
  const { filterSize, strides, pad, dimRoundingMode } = attrs as unknown as tf.MaxPoolGradAttrs;
  const dyv = f32(backend, dy), xv = f32(backend, input);
  if (!dyv || !xv) return null;
  const info = tf.backend_util.computePool2DInfo(input.shape as [number, number, number, number], filterSize, strides, 1, pad, dimRoundingMode);
  const out = output(backend, [...input.shape]);
  addon.maxPoolGrad(poolGeometry(info), dyv, xv, out.values);
  return out.info;
};

function matMul(fused: boolean): NativeKernel {
  return ({ inputs, backend, attrs }, addon) => {
    const { a, b, bias, preluActivationWeights } = inputs;
    const { transposeA, transposeB, activation, leakyreluAlpha } = attrs as unknown as { transposeA: boolean; transposeB: boolean; activation?: string; leakyreluAlpha?: number };
    const av = f32(backend, a), bv = f32(backend, b);
    if (!av || !bv || a.shape.length < 2 || b.shape.length < 2) return null;
    const act = fused ? ACTIVATIONS[activation ?? 'linear'] : 0;
    if (act === undefined || preluActivationWeights != null) return null;
    const ra = a.shape.length, rb = b.shape.length;
    const m = transposeA ? a.shape[ra - 1] : a.shape[ra - 2];
    const k = transposeA ? a.shape[ra - 2] : a.shape[ra - 1];
    const kb = transposeB ? b.shape[rb - 1] : b.shape[rb - 2];
    const n = transposeB ? b.shape[rb - 2] : b.shape[rb - 1];
    if (k !== kb) return null; // let the cpu kernel raise its own error
    const batchA = tf.util.sizeFromShape(a.shape.slice(0, -2)), batchB = tf.util.sizeFromShape(b.shape.slice(0, -2));
    if (batchA !== batchB && batchA !== 1 && batchB !== 1) return null;
    const batchShape = tf.broadcast_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
    const batch = Math.max(batchA, batchB);
    if (tf.util.sizeFromShape(batchShape) !== batch || m === 0 || n === 0 || k === 0) return null;
    let biasValues: Float32Array | null = null;
    if (bias) {
      biasValues = f32(backend, bias);
      if (!biasValues || (biasValues.length !== n && biasValues.length !== 1) || bias.shape.length > 1 && bias.shape[bias.shape.length - 1] !== biasValues.length) return null;
    }
    const out = output(backend, [...batchShape, m, n]);
    addon.batchMatMul(av, bv, out.values, batch, batchA > 1, batchB > 1, m, n, k, !!transposeA, !!transposeB);
    if (biasValues || act !== 0) {
      addon.biasActivation(out.values, biasValues, biasValues ? biasValues.length : 0, act, leakyreluAlpha ?? 0.2);
    }
    return out.info;
  };
}

/** Per-channel parameter of batch norm: length 1 or `channels`, else unsupported. */
function channelParam(backend: MathBackendCPU, t: tf.TensorInfo | undefined, channels: number): Float32Array | null | false {
  if (t == null) return null;
  const v = f32(backend, t);
  if (!v || (v.length !== 1 && v.length !== channels)) return false;
  return v;
}

const fusedBatchNorm: NativeKernel = ({ inputs, backend, attrs }, addon) => {
  const { x, mean, variance, offset, scale } = inputs;
  const { varianceEpsilon } = attrs as unknown as tf.FusedBatchNormAttrs;
  const xv = f32(backend, x);
  if (!xv || x.shape.length === 0) return null;
  const c = x.shape[x.shape.length - 1];
  const mv = channelParam(backend, mean, c), vv = channelParam(backend, variance, c);
  const ov = channelParam(backend, offset, c), sv = channelParam(backend, scale, c);
  if (!mv || !vv || ov === false || sv === false || c === 0) return null;
  const out = output(backend, [...x.shape]);
  addon.batchNorm(xv, c, mv, vv, ov, sv, varianceEpsilon ?? 0.001, out.values);
  return out.info;
};

/** fewshot's own kernel: every FusedBatchNorm gradient in one pass (see gradients.ts). */
export const BATCH_NORM_GRAD = 'FewshotBatchNormGrad';
const batchNormGrad: NativeKernel = ({ inputs, backend, attrs }, addon) => {
  const { x, dy, mean, variance, scale } = inputs;
  const { varianceEpsilon } = attrs as unknown as { varianceEpsilon: number };
  const c = mean.shape[0];
  const xv = f32(backend, x)!, dyv = f32(backend, dy)!, mv = f32(backend, mean)!, vv = f32(backend, variance)!;
  const sv = scale ? f32(backend, scale) : null;
  const dx = output(backend, [...x.shape]);
  const [dm, dv, ds, doff] = [0, 1, 2, 3].map(() => output(backend, [c]));
  addon.batchNormGrad(xv, dyv, c, mv, vv, sv, varianceEpsilon, dx.values, dm.values, dv.values, ds.values, doff.values);
  return [dx.info, dm.info, dv.info, ds.info, doff.info];
};

/** fewshot's own kernels for training-mode batch norm as one op (see batch_norm_layer.ts). */
export const BATCH_NORM_TRAIN = 'FewshotBatchNormTrain';
export const BATCH_NORM_TRAIN_GRAD = 'FewshotBatchNormTrainGrad';
const batchNormTrain: NativeKernel = ({ inputs, backend, attrs }, addon) => {
  const { x, gamma, beta } = inputs;
  const { varianceEpsilon, relu, pool } = attrs as unknown as { varianceEpsilon: number; relu?: boolean; pool?: boolean };
  const c = x.shape[x.shape.length - 1]!;
  if (pool) { // + ReLU + max-pool 2x2/2 'valid' (batch_norm_layer.ts): y is the pooled output
    const [n, h, w] = x.shape as [number, number, number, number];
    const y = output(backend, [n, Math.floor(h / 2), Math.floor(w / 2), c]), mean = output(backend, [c]), variance = output(backend, [c]);
    addon.batchNormReluPoolTrain(f32(backend, x)!, [...x.shape], f32(backend, gamma!)!, f32(backend, beta!)!, varianceEpsilon, y.values, mean.values, variance.values);
    return [y.info, mean.info, variance.info];
  }
  const y = output(backend, [...x.shape]), mean = output(backend, [c]), variance = output(backend, [c]);
  addon.batchNormTrain(f32(backend, x)!, c, gamma ? f32(backend, gamma) : null, beta ? f32(backend, beta) : null, varianceEpsilon, y.values, mean.values, variance.values, relu === true);
  return [y.info, mean.info, variance.info];
};
const batchNormTrainGrad: NativeKernel = ({ inputs, backend, attrs }, addon) => {
  const { x, dy, mean, variance, gamma, beta, reluOut } = inputs;
  const { varianceEpsilon, pool } = attrs as unknown as { varianceEpsilon: number; pool?: boolean };
  const c = x.shape[x.shape.length - 1]!;
  const dx = output(backend, [...x.shape]), dgamma = output(backend, [c]), dbeta = output(backend, [c]);
  if (pool) { // dy is the pooled output's gradient
    addon.batchNormReluPoolTrainGrad(f32(backend, x)!, f32(backend, dy)!, [...x.shape], f32(backend, mean)!, f32(backend, variance)!, f32(backend, gamma!)!, f32(backend, beta!)!, varianceEpsilon, dx.values, dgamma.values, dbeta.values);
    return [dx.info, dgamma.info, dbeta.info];
  }
  addon.batchNormTrainGrad(f32(backend, x)!, f32(backend, dy)!, c, f32(backend, mean)!, f32(backend, variance)!, gamma ? f32(backend, gamma) : null, varianceEpsilon, dx.values, dgamma.values, dbeta.values, reluOut ? f32(backend, reluOut) : null);
  return [dx.info, dgamma.info, dbeta.info];
};

// ------------------------------------------------------------------ elementwise

const BINARY: Record<string, number> = { Add: 0, Sub: 1, Multiply: 2, RealDiv: 3, Maximum: 4, Minimum: 5, SquaredDifference: 6 };
/** fewshot's own kernel: dy * (x > 0), Relu's gradient in one pass. */
export const RELU_GRAD = 'FewshotReluGrad';

/**
 * How `small` broadcasts against the output shape, as the native loop modes: 'suffix' (repeats
 * every m elements), 'prefix' (one value per block of m), or null when neither.
 */
function broadcastMode(small: number[], outShape: number[]): { kind: 'suffix' | 'prefix'; m: number } | null {
  const r = outShape.length;
  const s = [...Array(r - small.length).fill(1), ...small];
  // drop leading 1s => suffix pattern
  let first = 0;
  while (first < r && s[first] === 1) first++;
  if (s.slice(first).every((d, i) => d === outShape[first + i])) return { kind: 'suffix', m: tf.util.sizeFromShape(outShape.slice(first)) };
  let last = r;
  while (last > 0 && s[last - 1] === 1) last--;
  if (s.slice(0, last).every((d, i) => d === outShape[i])) return { kind: 'prefix', m: tf.util.sizeFromShape(outShape.slice(last)) };
  return null;
}

/**
 * `small` repeated over one contiguous block of middle axes of the output ([outer, 1.., inner]
 * against [outer, mid.., inner]; squeeze-excite's [n, 1, 1, c] scale of an [n, h, w, c] map), as
 * the sizes of the three blocks; null for any other pattern. Leading or trailing 1s of `small`
 * are the suffix / prefix modes instead.
 */
export function middleBroadcast(small: readonly number[], outShape: readonly number[]): { outer: number; mid: number; inner: number } | null {
  const r = outShape.length;
  const s = [...Array(r - small.length).fill(1), ...small];
  const repeated = s.map((d, i) => d === 1 && outShape[i] !== 1);
  const start = repeated.indexOf(true);
  const end = repeated.lastIndexOf(true);
  if (start <= 0 || end === r - 1) return null;
  for (let i = 0; i < r; i++) {
    const inBlock = i >= start && i <= end;
    if (inBlock ? s[i] !== 1 : s[i] !== outShape[i]) return null;
  }
  return {
    outer: tf.util.sizeFromShape(outShape.slice(0, start)),
    mid: tf.util.sizeFromShape(outShape.slice(start, end + 1)),
    inner: tf.util.sizeFromShape(outShape.slice(end + 1)),
  };
}

/** One native call per outer block is cheap only for a few blocks (each crosses into the addon). */
const MAX_NATIVE_BLOCKS = 1024;

function binaryKernel(op: number): NativeKernel {
  return ({ inputs, backend }, addon) => {
    const { a, b } = inputs;
    const av = f32(backend, a), bv = f32(backend, b);
    if (!av || !bv) return null;
    const outShape = tf.backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
    const size = tf.util.sizeFromShape(outShape);
    if (size === 0) return null;
    let mode: number, m = 0;
    if (av.length === size && bv.length === size) mode = 0;
    else if (av.length === size && bv.length === 1) { mode = 3; m = size; }
    else if (bv.length === size && av.length === 1) { mode = 4; m = size; }
    else if (av.length === size) {
      const bm = broadcastMode(b.shape, outShape);
      if (!bm) return middleBinary(op, av, bv, b.shape, outShape, 'b', backend, addon);
      mode = bm.kind === 'suffix' ? 1 : 3; m = bm.m;
    } else if (bv.length === size) {
      const am = broadcastMode(a.shape, outShape);
      if (!am) return middleBinary(op, av, bv, a.shape, outShape, 'a', backend, addon);
      mode = am.kind === 'suffix' ? 2 : 4; m = am.m;
    } else return null;
    if (m === 0 && mode !== 0) return null;
    const out = output(backend, outShape);
    addon.binary(op, av, bv, out.values, mode, m);
    return out.info;
  };
}

/**
 * A binary op whose `small` operand repeats over middle axes (middleBroadcast): per outer block,
 * the suffix mode on subarray views (the addon reads a typed array from its offset). Without it
 * squeeze-excite's multiply ran in the cpu kernel: 34 of the stride-8 tracker's 43 ms per frame.
 */
function middleBinary(
  op: number, av: Float32Array, bv: Float32Array, smallShape: number[], outShape: number[], small: 'a' | 'b',
  backend: Parameters<NativeKernel>[0]['backend'], addon: Parameters<NativeKernel>[1],
): tf.TensorInfo | null {
  const p = middleBroadcast(smallShape, outShape);
  if (!p || p.outer > MAX_NATIVE_BLOCKS) return null;
  const out = output(backend, outShape);
  const big = p.mid * p.inner;
  for (let o = 0; o < p.outer; o++) {
    const y = out.values.subarray(o * big, (o + 1) * big);
    const rep = (small === 'a' ? av : bv).subarray(o * p.inner, (o + 1) * p.inner);
    const full = (small === 'a' ? bv : av).subarray(o * big, (o + 1) * big);
    // mode 1: b repeats every m elements; mode 2: a does.
    if (small === 'b') addon.binary(op, full, rep, y, 1, p.inner);
    else addon.binary(op, rep, full, y, 2, p.inner);
  }
  return out.info;
}

const UNARY: Record<string, number> = {
  Relu: 0, Step: 1, Square: 2, Sqrt: 3, Rsqrt: 4, Exp: 5, Log: 6, Sigmoid: 7, Neg: 8, Abs: 9, Tanh: 10,
  Reciprocal: 11, Relu6: 12, Elu: 13, LeakyRelu: 14,
};

function unaryKernel(op: number, alphaAttr?: string, alphaDefault = 0): NativeKernel {
  return ({ inputs, backend, attrs }, addon) => {
    const x = inputs.x;
    const xv = f32(backend, x);
    if (!xv || xv.length === 0) return null;
    const out = output(backend, [...x.shape]);
    const alpha = alphaAttr ? Number((attrs as Record<string, unknown>)?.[alphaAttr] ?? alphaDefault) : 0;
    addon.unary(op, xv, out.values, alpha);
    return out.info;
  };
}

/** Tile where every repeated axis has size 1, i.e. a broadcast (tf.broadcastTo runs this). */
const tile: NativeKernel = ({ inputs, backend, attrs }, addon) => {
  const { x } = inputs;
  const { reps } = attrs as unknown as tf.TileAttrs;
  const xv = f32(backend, x);
  if (!xv || xv.length === 0 || reps.length !== x.shape.length) return null;
  if (reps.some((r, i) => r > 1 && x.shape[i] !== 1)) return null;
  const shape = x.shape.map((d, i) => d * reps[i]);
  const size = tf.util.sizeFromShape(shape);
  if (size === 0) return null;
  const bm = xv.length === 1 ? { kind: 'prefix' as const, m: size } : broadcastMode(x.shape, shape);
  if (!bm) return tileMiddle(x.shape, reps, xv, backend);
  const out = output(backend, shape);
  // op 9 ("second") copies b: the output buffer stands in as the unused first operand.
  addon.binary(9, out.values, xv, out.values, bm.kind === 'suffix' ? 1 : 3, bm.m);
  return out.info;
};

/**
 * Tile repeating one block of middle axes ([outer, 1.., inner] -> [outer, reps.., inner]: the
 * gradient of a mean over a middle axis, e.g. prototypes from [way, shot, dim]); the cpu
 * fallback's per-element index arithmetic took ~3 ms for Conv-4's 19k values.
 */
function tileMiddle(shape: number[], reps: number[], xv: Float32Array, backend: MathBackendCPU): tf.TensorInfo | null {
  const first = reps.findIndex((r) => r > 1);
  let last = reps.length - 1;
  while (reps[last] === 1) last--;
  if (first < 0 || reps.slice(first, last + 1).some((r, i) => shape[first + i] !== 1 && r > 1)) return null;
  if (reps.some((r, i) => r > 1 && (i < first || i > last))) return null;
  const outer = tf.util.sizeFromShape(shape.slice(0, first));
  const rep = reps.slice(first, last + 1).reduce((a, b) => a * b, 1) * tf.util.sizeFromShape(shape.slice(first, last + 1));
  const inner = tf.util.sizeFromShape(shape.slice(last + 1));
  if (outer * rep > 1 << 16) return null;
  const out = output(backend, shape.map((d, i) => d * reps[i]));
  for (let o = 0; o < outer; o++) {
    const chunk = xv.subarray(o * inner, (o + 1) * inner);
    for (let r = 0; r < rep; r++) out.values.set(chunk, (o * rep + r) * inner);
  }
  return out.info;
}

// ------------------------------------------------------------------ reductions

const REDUCE: Record<string, number> = { Sum: 0, Mean: 0, Max: 1, Min: 2 };

function reduceKernel(name: string): NativeKernel {
  return ({ inputs, backend, attrs }, addon) => {
    const { x } = inputs;
    // Max names its axes `reductionIndices`, the others `axis`.
    const { axis, reductionIndices, keepDims } = attrs as unknown as { axis?: number | number[]; reductionIndices?: number | number[]; keepDims: boolean };
    const xv = f32(backend, x);
    if (!xv || xv.length === 0) return null;
    const r = x.shape.length;
    const axes = [...new Set(tf.util.parseAxisParam((name === 'Max' ? reductionIndices : axis) as number | number[], x.shape))].sort((p, q) => p - q);
    if (axes.length === 0) return null;
    const [outShape, reduceShape] = tf.backend_util.computeOutAndReduceShapes(x.shape, axes);
    const count = tf.util.sizeFromShape(reduceShape);
    const leading = axes.every((ax, i) => ax === i);
    const trailing = axes.every((ax, i) => ax === r - axes.length + i);
    const finalShape = keepDims ? tf.backend_util.expandShapeToKeepDim(outShape, axes) : outShape;
    if (!leading && !trailing) {
      // a small block of middle axes ([outer, reduced, inner], e.g. prototypes: the mean over
      // shots of [way, shot, dim]) in plain JS (double accumulators, like the cpu backend), which
      // transposes first: ~3 ms for Conv-4's 19k values, 0.02 ms here
      if (axes.some((ax, i) => ax !== axes[0] + i)) return null;
      const outerSize = tf.util.sizeFromShape(x.shape.slice(0, axes[0]));
      const innerSize = tf.util.sizeFromShape(x.shape.slice(axes[axes.length - 1] + 1));
      const large = xv.length > 1 << 16;
      if (large && outerSize > MAX_NATIVE_BLOCKS) return null;
      const out = output(backend, finalShape);
      if (large) {
        // Larger ones (squeeze-excite's spatial mean of [n, h, w, c]): each outer block is a
        // [reduced, inner] reduction over its leading axis, in the addon.
        const block = count * innerSize;
        for (let o = 0; o < outerSize; o++) {
          addon.reduce(REDUCE[name], xv.subarray(o * block, (o + 1) * block), count, innerSize, name === 'Mean' ? 1 / count : 1, out.values.subarray(o * innerSize, (o + 1) * innerSize), true);
        }
        return out.info;
      }
      const acc = new Float64Array(innerSize);
      for (let o = 0; o < outerSize; o++) {
        const base = o * count * innerSize;
        for (let j = 0; j < innerSize; j++) acc[j] = xv[base + j];
        for (let k = 1; k < count; k++) {
          const row = base + k * innerSize;
          for (let j = 0; j < innerSize; j++) {
            const v = xv[row + j];
            acc[j] = name === 'Max' ? Math.max(acc[j], v) : name === 'Min' ? Math.min(acc[j], v) : acc[j] + v;
          }
        }
        for (let j = 0; j < innerSize; j++) out.values[o * innerSize + j] = name === 'Mean' ? acc[j] / count : acc[j];
      }
      return out.info;
    }
    const out = output(backend, finalShape);
    const outer = leading ? count : tf.util.sizeFromShape(outShape);
    const inner = leading ? tf.util.sizeFromShape(outShape) : count;
    addon.reduce(REDUCE[name], xv, outer, inner, name === 'Mean' ? 1 / count : 1, out.values, leading);
    return out.info;
  };
}

// ------------------------------------------------------------------ optimizer

/** fewshot's own kernel: one Adam step for one variable (see adam.ts). */
export const ADAM_UPDATE = 'FewshotAdamUpdate';
const adamUpdate: NativeKernel = ({ inputs, backend, attrs }, addon) => {
  const { variable, gradient, m, v } = inputs;
  const { learningRate, beta1, beta2, epsilon, beta1Power, beta2Power } = attrs as Record<string, number>;
  const vals = [variable, gradient, m, v].map((t) => f32(backend, t)!);
  const outs = [0, 1, 2].map(() => output(backend, [...variable.shape]));
  addon.adam(vals[0], vals[1], vals[2], vals[3], learningRate, beta1, beta2, epsilon, beta1Power, beta2Power, outs[0].values, outs[1].values, outs[2].values);
  return outs.map((o) => o.info);
};

/** Every kernel the native backend replaces (or adds), by TF.js kernel name. */
export const NATIVE_KERNELS: Record<string, NativeKernel> = {
  Conv2D: conv2D,
  FusedConv2D: fusedConv2D,
  DepthwiseConv2dNative: depthwiseConv2D,
  FusedDepthwiseConv2D: depthwiseConv2D,
  ClipByValue: clipByValue,
  Slice: slice,
  FewshotConv2DBiasActivation: conv2DBiasActivation,
  Conv2DBackpropInput: conv2DBackpropInput,
  Conv2DBackpropFilter: conv2DBackpropFilter,
  DepthwiseConv2dNativeBackpropInput: depthwiseBackpropInput,
  DepthwiseConv2dNativeBackpropFilter: depthwiseBackpropFilter,
  MaxPool: poolKernel('max'),
  AvgPool: poolKernel('avg'),
  MaxPoolGrad: maxPoolGrad,
  BatchMatMul: matMul(false),
  _FusedMatMul: matMul(true),
  FusedBatchNorm: fusedBatchNorm,
  [BATCH_NORM_GRAD]: batchNormGrad,
  [BATCH_NORM_TRAIN]: batchNormTrain,
  [BATCH_NORM_TRAIN_GRAD]: batchNormTrainGrad,
  [RELU_GRAD]: ({ inputs, backend }, addon) => binaryKernel(7)({ inputs: { a: inputs.dy, b: inputs.x }, backend }, addon),
  [ADAM_UPDATE]: adamUpdate,
  Tile: tile,
  ...LAYOUT_KERNELS,
  ...Object.fromEntries(Object.entries(BINARY).map(([name, op]) => [name, binaryKernel(op)])),
  ...Object.fromEntries(Object.entries(UNARY).map(([name, op]) => [name, name === 'Step' ? unaryKernel(op, 'alpha', 0) : name === 'LeakyRelu' ? unaryKernel(op, 'alpha', 0.2) : unaryKernel(op)])),
  ...Object.fromEntries(Object.keys(REDUCE).map((name) => [name, reduceKernel(name)])),
};
