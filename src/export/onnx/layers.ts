/**
 * One converter per TF.js layer class: the layer's inference-mode computation as ONNX nodes.
 * Weights are read from the live layer; shapes follow TF.js's NHWC convention, and convolutions
 * and pooling run NCHW (OIHW filters) as ONNX defines them.
 */
import type * as tfl from '@tensorflow/tfjs-layers';
import type { OnnxGraph, Value } from './graph.js';
import { L2_NORM_EPSILON } from '../../models/layers/l2_normalization.js';

type Config = Record<string, unknown>;
type Converter = (g: OnnxGraph, layer: tfl.layers.Layer, inputs: Value[], config: Config) => Value;

const pair = (v: unknown): [number, number] => (Array.isArray(v) ? [v[0] as number, (v[1] ?? v[0]) as number] : [v as number, v as number]);

/** Values of the layer's weights by their short name (kernel, bias, gamma, moving_mean, ...). */
function weightsOf(layer: tfl.layers.Layer): Map<string, { data: Float32Array; shape: number[] }> {
  const out = new Map<string, { data: Float32Array; shape: number[] }>();
  layer.weights.forEach((w, i) => {
    const t = layer.getWeights()[i]!;
    out.set(w.originalName.split('/').pop()!, { data: Float32Array.from(t.dataSync() as Float32Array), shape: t.shape });
  });
  return out;
}

function need<T>(map: Map<string, T>, key: string, layer: tfl.layers.Layer): T {
  const v = map.get(key);
  if (!v) throw new Error(`ONNX export: layer '${layer.name}' has no '${key}' weight`);
  return v;
}

/** Applies a Keras activation by name (linear: none). */
export function activation(g: OnnxGraph, x: Value, name: unknown, base: string): Value {
  const act = String(name ?? 'linear');
  const op = (type: string, attrs = {}) => ({ ...x, name: g.node(type, [x.name], `${base}_${act}`, attrs) });
  switch (act) {
    case 'linear': return x;
    case 'relu': return op('Relu');
    case 'sigmoid': return op('Sigmoid');
    case 'tanh': return op('Tanh');
    case 'elu': return op('Elu', { alpha: { float: 1 } });
    case 'selu': return op('Selu', { alpha: { float: 1.6732632423543772 }, gamma: { float: 1.0507009873554805 } });
    case 'softplus': return op('Softplus');
    case 'softsign': return op('Softsign');
    case 'relu6': return { ...x, name: g.node('Clip', [x.name, g.constant(`${base}_min`, new Float32Array([0]), []), g.constant(`${base}_max`, new Float32Array([6]), [])], `${base}_relu6`) };
    case 'softmax':
      if (x.layout === 'nchw') x = g.as(x, 'nhwc');
      return { ...x, name: g.node('Softmax', [x.name], `${base}_softmax`, { axis: -1 }) };
    default: throw new Error(`ONNX export: activation '${act}' is not supported`);
  }
}

/** HWIO (TF.js) -> OIHW (ONNX). */
function oihw(kernel: { data: Float32Array; shape: number[] }): { data: Float32Array; shape: number[] } {
  const [h, w, i, o] = kernel.shape as [number, number, number, number];
  const out = new Float32Array(kernel.data.length);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let c = 0; c < i; c++) for (let k = 0; k < o; k++) {
    out[((k * i + c) * h + y) * w + x] = kernel.data[((y * w + x) * i + c) * o + k]!;
  }
  return { data: out, shape: [o, i, h, w] };
}

/** Output size of a window op along one axis (null stays unknown). */
function windowOut(size: number | null, k: number, s: number, d: number, padding: string): number | null {
  if (size == null) return null;
  return padding === 'same' ? Math.ceil(size / s) : Math.floor((size - (k - 1) * d - 1) / s) + 1;
}

function windowAttrs(kernel: [number, number], strides: [number, number], padding: unknown, dilations?: [number, number]): Record<string, number[] | string> {
  if (padding !== 'same' && padding !== 'valid') throw new Error(`ONNX export: padding '${String(padding)}' is not supported`);
  return {
    kernel_shape: kernel,
    strides,
    ...(dilations ? { dilations } : {}),
    // TF's 'same' puts the odd extra row/column at the end: ONNX's SAME_UPPER.
    ...(padding === 'same' ? { auto_pad: 'SAME_UPPER' } : { pads: [0, 0, 0, 0] }),
  };
}

const conv2d: Converter = (g, layer, [input], c) => {
  if (c.dataFormat !== undefined && c.dataFormat !== 'channelsLast') throw new Error(`ONNX export: '${layer.name}' is not channels-last`);
  const w = weightsOf(layer);
  const kernel = oihw(need(w, 'kernel', layer));
  const [kh, kw] = pair(c.kernelSize), [sh, sw] = pair(c.strides), [dh, dw] = pair(c.dilationRate ?? 1);
  const x = g.as(input!, 'nchw');
  const args = [x.name, g.constant(`${layer.name}_kernel`, kernel.data, kernel.shape)];
  const bias = w.get('bias');
  if (bias) args.push(g.constant(`${layer.name}_bias`, bias.data, bias.shape));
  const [n, h, wd] = x.shape;
  const shape = [n!, windowOut(h!, kh, sh, dh, c.padding as string), windowOut(wd!, kw, sw, dw, c.padding as string), kernel.shape[0]!];
  const y: Value = { name: g.node('Conv', args, layer.name, windowAttrs([kh, kw], [sh, sw], c.padding, [dh, dw])), layout: 'nchw', shape };
  return activation(g, y, c.activation, layer.name);
};

const pooling = (op: 'MaxPool' | 'AveragePool'): Converter => (g, layer, [input], c) => {
  const [kh, kw] = pair(c.poolSize), [sh, sw] = pair(c.strides ?? c.poolSize);
  const x = g.as(input!, 'nchw');
  const attrs = { ...windowAttrs([kh, kw], [sh, sw], c.padding), ...(op === 'AveragePool' ? { count_include_pad: 0 } : {}) };
  const shape = [x.shape[0]!, windowOut(x.shape[1]!, kh, sh, 1, c.padding as string), windowOut(x.shape[2]!, kw, sw, 1, c.padding as string), x.shape[3]!];
  return { name: g.node(op, [x.name], layer.name, attrs), layout: 'nchw', shape };
};

const batchNormalization: Converter = (g, layer, [input], c) => {
  const axis = Array.isArray(c.axis) ? (c.axis as number[]) : [c.axis as number];
  const rank = input!.shape.length;
  if (axis.length !== 1 || (axis[0] !== -1 && axis[0] !== rank - 1)) throw new Error(`ONNX export: '${layer.name}' normalises axis ${String(c.axis)}; only the channel (last) axis is supported`);
  const w = weightsOf(layer);
  const mean = need(w, 'moving_mean', layer), variance = need(w, 'moving_variance', layer);
  const channels = mean.data.length;
  const gamma = w.get('gamma') ?? { data: new Float32Array(channels).fill(1), shape: [channels] };
  const beta = w.get('beta') ?? { data: new Float32Array(channels), shape: [channels] };
  // ONNX BatchNormalization normalises axis 1: NCHW images, or [N, C] rows.
  if (rank !== 4 && rank !== 2) throw new Error(`ONNX export: '${layer.name}' on a rank-${rank} input is not supported`);
  const x = rank === 4 ? g.as(input!, 'nchw') : input!;
  const args = [x.name, ...[gamma, beta, mean, variance].map((p, i) => g.constant(`${layer.name}_${['gamma', 'beta', 'mean', 'var'][i]}`, p.data, [channels]))];
  return { ...x, name: g.node('BatchNormalization', args, layer.name, { epsilon: { float: c.epsilon as number } }) };
};

const layerNormalization: Converter = (g, layer, [input], c) => {
  const rank = input!.shape.length;
  const axes = (Array.isArray(c.axis) ? (c.axis as number[]) : [c.axis as number]).map((a) => (a < 0 ? a + rank : a)).sort();
  // ONNX normalises over every axis from `axis` to the last one.
  if (axes.some((a, i) => a !== rank - axes.length + i)) throw new Error(`ONNX export: '${layer.name}' normalises axes ${String(c.axis)}, not a trailing block`);
  const x = rank === 4 ? g.as(input!, 'nhwc') : input!;
  const w = weightsOf(layer);
  const paramShape = axes.map((a) => x.shape[a]!);
  const count = paramShape.reduce((a, b) => a * b, 1);
  const gamma = w.get('gamma')?.data ?? new Float32Array(count).fill(1);
  const beta = w.get('beta')?.data ?? new Float32Array(count);
  const args = [x.name, g.constant(`${layer.name}_gamma`, gamma, paramShape), g.constant(`${layer.name}_beta`, beta, paramShape)];
  return { ...x, name: g.node('LayerNormalization', args, layer.name, { axis: axes[0]!, epsilon: { float: c.epsilon as number } }) };
};

const dense: Converter = (g, layer, [input], c) => {
  if (input!.shape.length !== 2) throw new Error(`ONNX export: '${layer.name}' on a rank-${input!.shape.length} input is not supported`);
  const w = weightsOf(layer);
  const kernel = need(w, 'kernel', layer);
  const args = [input!.name, g.constant(`${layer.name}_kernel`, kernel.data, kernel.shape)];
  const bias = w.get('bias');
  if (bias) args.push(g.constant(`${layer.name}_bias`, bias.data, bias.shape));
  const y: Value = { name: g.node('Gemm', args, layer.name), layout: 'plain', shape: [input!.shape[0]!, kernel.shape[1]!] };
  return activation(g, y, c.activation, layer.name);
};

const flatten: Converter = (g, layer, [input]) => {
  // TF.js flattens NHWC order.
  const x = input!.shape.length === 4 ? g.as(input!, 'nhwc') : input!;
  const size = x.shape.slice(1).reduce<number | null>((a, b) => (a == null || b == null ? null : a * b), 1);
  return { name: g.node('Flatten', [x.name], layer.name, { axis: 1 }), layout: 'plain', shape: [x.shape[0]!, size] };
};

const rescaling: Converter = (g, layer, [input], c) => {
  const scaled = g.node('Mul', [input!.name, g.constant(`${layer.name}_scale`, new Float32Array([c.scale as number]), [])], `${layer.name}_scaled`);
  return { ...input!, name: g.node('Add', [scaled, g.constant(`${layer.name}_offset`, new Float32Array([c.offset as number]), [])], layer.name) };
};

const absDifference: Converter = (g, layer, [a, b]) => {
  const bb = a!.layout === b!.layout || a!.layout === 'plain' ? b! : g.as(b!, a!.layout as 'nhwc' | 'nchw');
  const diff = g.node('Sub', [a!.name, bb.name], `${layer.name}_diff`);
  return { ...a!, name: g.node('Abs', [diff], layer.name) };
};

/**
 * SiamFC's CrossCorrelation for one exemplar against a batch of search maps (how the tracker
 * calls it): the exemplar features are the filter of a convolution over the search features.
 */
const crossCorrelation: Converter = (g, layer, [z, x]) => {
  if (z!.shape[0] !== 1) throw new Error(`ONNX export: '${layer.name}' needs an exemplar batch of 1 (export with a fixed exemplar batch)`);
  const filter = g.as(z!, 'nchw'), search = g.as(x!, 'nchw');
  const w = weightsOf(layer);
  const raw = g.node('Conv', [search.name, filter.name], `${layer.name}_raw`, { strides: [1, 1], pads: [0, 0, 0, 0] });
  const scaled = g.node('Mul', [raw, g.constant(`${layer.name}_scale`, need(w, 'scale', layer).data, [])], `${layer.name}_scaled`);
  const out = g.node('Add', [scaled, g.constant(`${layer.name}_bias`, need(w, 'bias', layer).data, [])], layer.name);
  const dim = (big: number | null | undefined, small: number | null | undefined) => (big == null || small == null ? null : big - small + 1);
  return { name: out, layout: 'nchw', shape: [x!.shape[0]!, dim(x!.shape[1], z!.shape[1]), dim(x!.shape[2], z!.shape[2]), 1] };
};

const identity: Converter = (_g, _layer, [input]) => input!;

/** x / sqrt(sum(x^2) + eps) over the last axis, with L2Normalization's epsilon (ONNX's LpNormalization has none). */
const l2Normalization: Converter = (g, layer, [input]) => {
  const x = input!.shape.length === 4 ? g.as(input!, 'nhwc') : input!;
  const squares = g.node('ReduceSumSquare', [x.name], `${layer.name}_sumsq`, { axes: [-1], keepdims: 1 });
  const padded = g.node('Add', [squares, g.constant(`${layer.name}_eps`, new Float32Array([L2_NORM_EPSILON]), [])], `${layer.name}_padded`);
  return { ...x, name: g.node('Div', [x.name, g.node('Sqrt', [padded], `${layer.name}_norm`)], layer.name) };
};

/** Element-wise sum of same-shaped inputs (a residual block's join), in the first image input's layout. */
const add: Converter = (g, layer, inputs) => {
  const layout = inputs.find((v) => v.layout !== 'plain')?.layout as 'nhwc' | 'nchw' | undefined;
  const xs = inputs.map((v) => (layout && v.shape.length === 4 ? g.as(v, layout) : v));
  if (xs.some((v) => v.shape.length !== xs[0]!.shape.length)) throw new Error(`ONNX export: '${layer.name}' adds inputs of different ranks`);
  let sum = xs[0]!.name;
  for (let i = 1; i < xs.length; i++) sum = g.node('Add', [sum, xs[i]!.name], i === xs.length - 1 ? layer.name : `${layer.name}_${i}`);
  return { ...xs[0]!, name: sum };
};

/** Mean over height and width: NCHW GlobalAveragePool, then [n, c] rows. */
const globalAveragePooling2d: Converter = (g, layer, [input], c) => {
  if (c.dataFormat !== undefined && c.dataFormat !== 'channelsLast') throw new Error(`ONNX export: '${layer.name}' is not channels-last`);
  if (c.keepDims === true) throw new Error(`ONNX export: '${layer.name}' keeps its spatial dimensions; only [n, c] output is supported`);
  const x = g.as(input!, 'nchw');
  const pooled = g.node('GlobalAveragePool', [x.name], `${layer.name}_nc11`);
  return { name: g.node('Flatten', [pooled], layer.name, { axis: 1 }), layout: 'plain', shape: [x.shape[0]!, x.shape[3]!] };
};

/** Concatenation of embeddings ([n, d_i] rows), as an ensemble's output layer does. */
const concatenate: Converter = (g, layer, inputs, c) => {
  if (inputs.some((v) => v.shape.length !== 2) || (c.axis !== -1 && c.axis !== 1)) {
    throw new Error(`ONNX export: '${layer.name}' concatenates only [n, d] rows along the last axis`);
  }
  const dims = inputs.map((v) => v.shape[1]);
  const total = dims.every((d): d is number => typeof d === 'number') ? dims.reduce((a, b) => a + b, 0) : null;
  return { name: g.node('Concat', inputs.map((v) => v.name), layer.name, { axis: 1 }), layout: 'plain', shape: [inputs[0]!.shape[0]!, total] };
};

export const CONVERTERS: Record<string, Converter> = {
  Conv2D: conv2d,
  MaxPooling2D: pooling('MaxPool'),
  AveragePooling2D: pooling('AveragePool'),
  BatchNormalization: batchNormalization,
  LayerNormalization: layerNormalization,
  Dense: dense,
  Flatten: flatten,
  Activation: (g, layer, [input], c) => activation(g, input!, c.activation, layer.name),
  ReLU: (g, layer, [input]) => activation(g, input!, 'relu', layer.name),
  Rescaling: rescaling,
  Dropout: identity,
  AbsDifference: absDifference,
  CrossCorrelation: crossCorrelation,
  L2Normalization: l2Normalization,
  Concatenate: concatenate,
  Add: add,
  GlobalAveragePooling2D: globalAveragePooling2d,
};

/** Runs the converter of `layer` (its config read once, weights from the live layer). */
export function convertLayer(g: OnnxGraph, layer: tfl.layers.Layer, inputs: Value[]): Value {
  const convert = CONVERTERS[layer.getClassName()];
  if (!convert) throw new Error(`ONNX export: layer '${layer.name}' of class ${layer.getClassName()} is not supported (supported: ${Object.keys(CONVERTERS).join(', ')})`);
  return convert(g, layer, inputs, layer.getConfig() as Config);
}
