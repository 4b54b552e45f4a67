/**
 * Native-backend kernels that move data rather than compute: PadV2, Concat, Transpose and
 * ResizeBilinear. tfjs-backend-cpu's versions index element by element through generic
 * index <-> coordinate conversions (Transpose and PadV2 allocate a coordinate array per
 * element); face-api's detectors pad, concatenate, transpose and resize large tensors on every
 * photo (the tiny face detector's PadV2 alone cost ~250 ms per 416x416 photo). These copy
 * contiguous runs instead; the resize is native (native/src/image_ops.cc). Any dtype that is a
 * plain typed array is handled (int32 images, bool masks); strings and complex go to the cpu kernel.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { NativeKernel } from './kernels.js';
import { output } from './util.js';

type Values = Float32Array | Int32Array | Uint8Array;
type Backend = Parameters<NativeKernel>[0]['backend'];

function values(backend: Backend, t: tf.TensorInfo): Values | null {
  if (t.dtype === 'string' || t.dtype === 'complex64') return null;
  const v = backend.data.get(t.dataId).values;
  return v instanceof Float32Array || v instanceof Int32Array || v instanceof Uint8Array ? v : null;
}

/** Output storage of `dtype` (float32 from the backend's buffer pool). */
function allocate(backend: Backend, shape: number[], dtype: tf.DataType): { info: tf.TensorInfo; values: Values } {
  if (dtype === 'float32') return output(backend, shape);
  const size = tf.util.sizeFromShape(shape);
  const v = dtype === 'bool' ? new Uint8Array(size) : new Int32Array(size);
  return { info: backend.makeTensorInfo(shape, dtype, v), values: v };
}

/** Copies `n` elements; typed-array set() pays a call per run, so short runs use a loop. */
function copyRun(src: Values, from: number, dst: Values, to: number, n: number): void {
  if (n >= 32) dst.set(src.subarray(from, from + n), to);
  else for (let i = 0; i < n; i++) dst[to + i] = src[from + i]!;
}

/** tf.pad with a constant: fill, then copy the input's innermost unpadded runs into place. */
const padV2: NativeKernel = ({ inputs, backend, attrs }) => {
  const { x } = inputs;
  const { paddings, constantValue } = attrs as unknown as tf.PadV2Attrs;
  const src = values(backend, x);
  const rank = x.shape.length;
  if (!src || rank === 0 || src.length === 0) return null;
  const outShape = x.shape.map((d, i) => paddings[i]![0] + d + paddings[i]![1]);
  const out = allocate(backend, outShape, x.dtype);
  out.values.fill(constantValue);
  const outStrides = [...tf.util.computeStrides(outShape), 1];
  // Axes from `inner` on are unpadded (except `inner` itself): each run is contiguous in both.
  let inner = rank - 1;
  while (inner > 0 && paddings[inner]![0] === 0 && paddings[inner]![1] === 0) inner--;
  const run = tf.util.sizeFromShape(x.shape.slice(inner));
  let base = 0;
  for (let d = 0; d < rank; d++) base += paddings[d]![0] * outStrides[d]!;
  const count = src.length / run;
  const idx = new Array<number>(inner).fill(0);
  for (let r = 0; r < count; r++) {
    let offset = base;
    for (let d = 0; d < inner; d++) offset += idx[d]! * outStrides[d]!;
    copyRun(src, r * run, out.values, offset, run);
    for (let d = inner - 1; d >= 0; d--) {
      if (++idx[d]! < x.shape[d]!) break;
      idx[d] = 0;
    }
  }
  return out.info;
};

/** Concat along `axis`: per outer index, each input's block is one contiguous run. */
const concat: NativeKernel = ({ inputs, backend, attrs }) => {
  const list = (Array.isArray(inputs) ? inputs : Object.values(inputs)) as tf.TensorInfo[];
  const nonEmpty = list.filter((t) => tf.util.sizeFromShape(t.shape) > 0);
  if (nonEmpty.length < 2) return null;
  const first = nonEmpty[0]!;
  const axis = tf.util.parseAxisParam((attrs as unknown as tf.ConcatAttrs).axis, first.shape)[0]!;
  if (nonEmpty.some((t) => t.dtype !== first.dtype || t.shape.length !== first.shape.length)) return null;
  const srcs = nonEmpty.map((t) => values(backend, t));
  if (srcs.some((v) => v === null)) return null;
  const outShape = tf.backend_util.computeOutShape(nonEmpty.map((t) => t.shape), axis);
  const out = allocate(backend, outShape, first.dtype);
  const outer = tf.util.sizeFromShape(outShape.slice(0, axis));
  const blocks = nonEmpty.map((t) => tf.util.sizeFromShape(t.shape.slice(axis)));
  const rowSize = blocks.reduce((a, b) => a + b, 0);
  let column = 0;
  nonEmpty.forEach((_, i) => {
    const src = srcs[i]!, block = blocks[i]!;
    for (let o = 0; o < outer; o++) copyRun(src, o * block, out.values, o * rowSize + column, block);
    column += block;
  });
  return out.info;
};

/** Transpose: walks the output in order, stepping through the input by the permuted strides. */
const transpose: NativeKernel = ({ inputs, backend, attrs }) => {
  const { x } = inputs;
  const { perm } = attrs as unknown as tf.TransposeAttrs;
  const src = values(backend, x);
  const rank = x.shape.length;
  if (!src || rank < 2 || src.length === 0) return null;
  const inStrides = [...tf.util.computeStrides(x.shape), 1];
  const outShape = perm.map((p) => x.shape[p]!);
  const step = perm.map((p) => inStrides[p]!);
  const out = allocate(backend, outShape, x.dtype);
  const dst = out.values;
  const last = outShape[rank - 1]!, lastStep = step[rank - 1]!;
  const idx = new Array<number>(rank - 1).fill(0);
  const rows = src.length / last;
  for (let r = 0, o = 0; r < rows; r++) {
    let offset = 0;
    for (let d = 0; d < rank - 1; d++) offset += idx[d]! * step[d]!;
    for (let j = 0; j < last; j++, offset += lastStep) dst[o++] = src[offset]!;
    for (let d = rank - 2; d >= 0; d--) {
      if (++idx[d]! < outShape[d]!) break;
      idx[d] = 0;
    }
  }
  return out.info;
};

const resizeBilinear: NativeKernel = ({ inputs, backend, attrs }, addon) => {
  const { images } = inputs;
  const { alignCorners, halfPixelCenters, size } = attrs as unknown as tf.ResizeBilinearAttrs;
  const src = values(backend, images);
  if (!(src instanceof Float32Array || src instanceof Int32Array) || images.shape.length !== 4) return null;
  const [n, ih, iw, c] = images.shape as [number, number, number, number];
  const [oh, ow] = size;
  if (n * ih * iw * c === 0 || oh * ow === 0) return null;
  const out = output(backend, [n, oh, ow, c]);
  addon.resizeBilinear(src, [n, ih, iw, c, oh, ow], !!alignCorners, !!halfPixelCenters, out.values);
  return out.info;
};

export const LAYOUT_KERNELS: Record<string, NativeKernel> = { PadV2: padV2, Concat: concat, Transpose: transpose, ResizeBilinear: resizeBilinear };
