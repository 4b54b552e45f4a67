/**
 * Compiles a loaded TF.js model into one native InferencePlan (native/src/inference_plan.cc):
 * inference-mode batch norm folded into the convolution weights and bias, conv + bias +
 * activation as one oneDNN primitive (post-op), pooling on oneDNN's blocked layout, weights
 * reordered once, and the whole forward pass one call instead of ~20 TF.js kernels.
 *
 * Only what the plan can compute exactly is compiled (a chain of Conv2D [BatchNormalization]
 * [Activation], pooling, global average pooling, Flatten, Dense, LayerNormalization, Rescaling,
 * Dropout, as nested Sequential models, or a functional model whose forks are residual blocks:
 * a main branch and an identity or Conv2D [BatchNormalization] shortcut joined by an Add);
 * anything else returns the reason and the caller keeps running TF.js.
 */
import type * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { NativeAddon } from './addon.js';

/** kernels.h InferenceOp::Kind and Activation. */
const KIND = { conv: 0, maxPool: 1, avgPool: 2, layerNorm: 3, affine: 4, dense: 5, save: 6, residualAdd: 7 } as const;
const ACTIVATIONS: Record<string, number> = { linear: 0, relu: 1, relu6: 2, elu: 3, sigmoid: 5 };

export interface PlanOp {
  kind: number;
  kh?: number; kw?: number; sh?: number; sw?: number; dh?: number; dw?: number;
  pt?: number; pb?: number; pl?: number; pr?: number;
  outChannels?: number;
  weights?: Float32Array;
  bias?: Float32Array | null;
  activation?: number;
  scale?: number; offset?: number; epsilon?: number;
}

export interface PlanSpec {
  height: number;
  width: number;
  channels: number;
  ops: PlanOp[];
}

/** The native object: run(x NHWC, n, y [n * outputSize]). */
export interface NativeInferencePlan {
  readonly outputSize: number;
  run(x: Float32Array, n: number, y: Float32Array): void;
}

type Config = Record<string, unknown>;
const pair = (v: unknown): [number, number] => (Array.isArray(v) ? [v[0] as number, (v[1] ?? v[0]) as number] : [v as number, v as number]);

function weights(layer: tfl.layers.Layer): Map<string, Float32Array> {
  const values = layer.getWeights();
  return new Map(layer.weights.map((w, i) => [w.originalName.split('/').pop()!, Float32Array.from((values[i] as tf.Tensor).dataSync() as Float32Array)]));
}

/** TF's padding for one axis: [begin, end, output size]. */
function padding(mode: unknown, size: number, k: number, s: number, d: number): [number, number, number] {
  const extent = (k - 1) * d + 1;
  if (mode === 'valid') return [0, 0, Math.floor((size - extent) / s) + 1];
  if (mode !== 'same') throw new Error(`padding '${String(mode)}'`);
  const out = Math.ceil(size / s);
  const total = Math.max((out - 1) * s + extent - size, 0);
  return [Math.floor(total / 2), total - Math.floor(total / 2), out];
}

/** A residual block of a functional graph: its main branch, its shortcut (empty: identity) and their Add. */
interface Residual {
  main: tfl.layers.Layer[];
  shortcut: tfl.layers.Layer[];
}
type Step = tfl.layers.Layer | Residual;
const isResidual = (step: Step): step is Residual => 'main' in step;

/** The layers of `model` as one chain (nested Sequential models inlined); null if not a chain. */
function chain(model: tfl.LayersModel): tfl.layers.Layer[] | null {
  if (!(model instanceof tfl.Sequential)) return null;
  const out: tfl.layers.Layer[] = [];
  for (const layer of model.layers) {
    if (layer instanceof tfl.LayersModel) {
      const inner = chain(layer);
      if (!inner) return null;
      out.push(...inner);
    } else if (layer.getClassName() !== 'InputLayer') out.push(layer);
  }
  return out;
}

type GraphNode = { inboundLayers: tfl.layers.Layer[] };
const inbound = (layer: tfl.layers.Layer) => (layer as unknown as { inboundNodes: GraphNode[] }).inboundNodes;

/**
 * A functional model's layers from input to output as a chain whose forks are residual blocks,
 * or the reason it is not one. Each layer must be called once; a fork has two branches that
 * meet at an Add, the shorter one being the shortcut.
 */
function residualChain(model: tfl.LayersModel): Step[] | string {
  const consumers = new Map<tfl.layers.Layer, tfl.layers.Layer[]>();
  for (const layer of model.layers) {
    if (layer instanceof tfl.LayersModel) return `nested model '${layer.name}' in a functional model`;
    if (inbound(layer).length !== 1) return `layer '${layer.name}' is called ${inbound(layer).length} times`;
    for (const from of inbound(layer)[0]!.inboundLayers) consumers.set(from, [...(consumers.get(from) ?? []), layer]);
  }
  const after = (layer: tfl.layers.Layer) => consumers.get(layer) ?? [];
  const joins = (layer: tfl.layers.Layer) => inbound(layer)[0]!.inboundLayers.length > 1;
  // The layers from `first` up to the next join (excluded), and that join.
  const branch = (first: tfl.layers.Layer): { layers: tfl.layers.Layer[]; join: tfl.layers.Layer } | null => {
    const layers: tfl.layers.Layer[] = [];
    for (let at = first; ; ) {
      if (joins(at)) return { layers, join: at };
      layers.push(at);
      const next = after(at);
      if (next.length !== 1) return null;
      at = next[0]!;
    }
  };
  const steps: Step[] = [];
  let at = model.inputs[0]!.sourceLayer;
  for (;;) {
    const next = after(at);
    if (next.length === 0) break;
    if (next.length === 1) {
      if (joins(next[0]!)) return `'${next[0]!.name}' joins branches that do not fork from one layer`;
      steps.push(next[0]!);
      at = next[0]!;
      continue;
    }
    const branches = next.map(branch);
    const [a, b] = branches;
    if (branches.length !== 2 || !a || !b || a.join !== b.join || a.join.getClassName() !== 'Add' || a.layers.length === b.layers.length) {
      return `the fork after '${at.name}' is not a residual block (two branches of different lengths joined by an Add)`;
    }
    const [shortcut, main] = a.layers.length < b.layers.length ? [a, b] : [b, a];
    steps.push({ main: main.layers, shortcut: shortcut.layers });
    at = a.join;
  }
  if (at !== model.outputs[0]!.sourceLayer) return `the chain from the input ends at '${at.name}', not at the output`;
  return steps;
}

/** Shape of the activations while ops are emitted. */
interface Cursor {
  H: number;
  W: number;
  C: number;
  flat: boolean;
}

/** Appends the ops of a chain of layers (batch norms and activations folded into convs) to `ops`; updates `at`. */
function emitChain(layers: readonly Step[], at: Cursor, ops: PlanOp[]): void {
  for (let i = 0; i < layers.length; i++) {
    const step = layers[i]!;
    const next = (name: string) => {
      const n = layers[i + 1];
      return n && !isResidual(n) && n.getClassName() === name ? n : null;
    };
    if (isResidual(step)) {
      if (at.flat) throw new Error('residual block after flatten');
      // The shortcut's shape: the block's input, then the projection's output.
      const across = { ...at };
      ops.push({ kind: KIND.save });
      const before = ops.length;
      emitChain(step.main, at, ops);
      if (ops.length === before) throw new Error('a residual block whose main branch computes nothing');
      let add: PlanOp = { kind: KIND.residualAdd };
      if (step.shortcut.length > 0) {
        const projection: PlanOp[] = [];
        emitChain(step.shortcut, across, projection);
        const conv = projection[0];
        if (projection.length !== 1 || conv?.kind !== KIND.conv || conv.activation !== ACTIVATIONS['linear'] || conv.dh !== 1 || conv.dw !== 1) {
          throw new Error('a residual shortcut that is not one linear Conv2D [BatchNormalization]');
        }
        add = { ...conv, kind: KIND.residualAdd };
      }
      if (across.H !== at.H || across.W !== at.W || across.C !== at.C) throw new Error(`residual branches of shapes ${across.H}x${across.W}x${across.C} and ${at.H}x${at.W}x${at.C}`);
      const act = next('Activation');
      const activation = act ? String((act.getConfig() as Config).activation) : 'linear';
      if (!(activation in ACTIVATIONS)) throw new Error(`${act!.name}: activation ${activation}`);
      if (act) i++;
      ops.push({ ...add, activation: ACTIVATIONS[activation] });
      continue;
    }
    const layer = step;
    const c = layer.getConfig() as Config;
    const cls = layer.getClassName();
    const { H, W, C, flat } = at;
    if (cls === 'Conv2D') {
      if (flat || (c.dataFormat && c.dataFormat !== 'channelsLast')) throw new Error(`${layer.name}: not a channels-last image conv`);
      const w = weights(layer);
      const kernel = w.get('kernel')!;
      const [kh, kw] = pair(c.kernelSize), [sh, sw] = pair(c.strides), [dh, dw] = pair(c.dilationRate ?? 1);
      const [pt, pb, oh] = padding(c.padding, H, kh, sh, dh), [pl, pr, ow] = padding(c.padding, W, kw, sw, dw);
      const oc = c.filters as number;
      let bias = w.get('bias') ?? new Float32Array(oc);
      let activation = String(c.activation ?? 'linear');
      // Inference-mode batch norm right after a linear conv: scale the filters, shift the bias.
      const bn = activation === 'linear' ? next('BatchNormalization') : null;
      if (bn) {
        const axis = (bn.getConfig() as Config).axis;
        if (axis !== -1 && axis !== 3 && !(Array.isArray(axis) && axis.length === 1 && (axis[0] === -1 || axis[0] === 3))) throw new Error(`${bn.name}: axis ${String(axis)}`);
        const p = weights(bn);
        const eps = (bn.getConfig() as Config).epsilon as number;
        const mean = p.get('moving_mean')!, variance = p.get('moving_variance')!;
        const gamma = p.get('gamma'), beta = p.get('beta');
        const folded = new Float32Array(kernel.length), shifted = new Float32Array(oc);
        for (let o = 0; o < oc; o++) {
          const scale = (gamma ? gamma[o]! : 1) / Math.sqrt(variance[o]! + eps);
          shifted[o] = (bias[o]! - mean[o]!) * scale + (beta ? beta[o]! : 0);
          for (let j = o; j < kernel.length; j += oc) folded[j] = kernel[j]! * scale;
        }
        kernel.set(folded);
        bias = shifted;
        i++;
      }
      const act = activation === 'linear' ? next('Activation') : null;
      if (act) {
        activation = String((act.getConfig() as Config).activation);
        i++;
      }
      if (!(activation in ACTIVATIONS)) throw new Error(`${layer.name}: activation ${activation}`);
      ops.push({ kind: KIND.conv, kh, kw, sh, sw, dh, dw, pt, pb, pl, pr, outChannels: oc, weights: kernel, bias, activation: ACTIVATIONS[activation] });
      Object.assign(at, { H: oh, W: ow, C: oc });
    } else if (cls === 'MaxPooling2D' || cls === 'AveragePooling2D') {
      if (flat) throw new Error(`${layer.name}: pooling after flatten`);
      const [kh, kw] = pair(c.poolSize), [sh, sw] = pair(c.strides ?? c.poolSize);
      const [pt, pb, oh] = padding(c.padding, H, kh, sh, 1), [pl, pr, ow] = padding(c.padding, W, kw, sw, 1);
      ops.push({ kind: cls === 'MaxPooling2D' ? KIND.maxPool : KIND.avgPool, kh, kw, sh, sw, pt, pb, pl, pr });
      Object.assign(at, { H: oh, W: ow });
    } else if (cls === 'GlobalAveragePooling2D') {
      if (flat || c.keepDims === true || (c.dataFormat && c.dataFormat !== 'channelsLast')) throw new Error(`${layer.name}: not a channels-last [n, c] global pooling`);
      ops.push({ kind: KIND.avgPool, kh: H, kw: W, sh: 1, sw: 1, pt: 0, pb: 0, pl: 0, pr: 0 });
      Object.assign(at, { H: 1, W: 1, flat: true });
    } else if (cls === 'Flatten') {
      Object.assign(at, { C: H * W * C, H: 1, W: 1, flat: true });
    } else if (cls === 'Dense') {
      if (!flat) throw new Error(`${layer.name}: dense on an image tensor`);
      const w = weights(layer);
      const activation = String(c.activation ?? 'linear');
      if (!(activation in ACTIVATIONS)) throw new Error(`${layer.name}: activation ${activation}`);
      ops.push({ kind: KIND.dense, outChannels: c.units as number, weights: w.get('kernel')!, bias: w.get('bias') ?? null, activation: ACTIVATIONS[activation] });
      at.C = c.units as number;
    } else if (cls === 'LayerNormalization') {
      // Only the whole-sample form (the encoders' "standardise" input layer).
      const rank = flat ? 2 : 4;
      const axes = (Array.isArray(c.axis) ? (c.axis as number[]) : [c.axis as number]).map((a) => (a < 0 ? a + rank : a)).sort();
      if (axes.join() !== (flat ? '1' : '1,2,3')) throw new Error(`${layer.name}: axes ${String(c.axis)}`);
      const p = weights(layer);
      const size = H * W * C;
      ops.push({ kind: KIND.layerNorm, weights: p.get('gamma') ?? new Float32Array(size).fill(1), bias: p.get('beta') ?? new Float32Array(size), epsilon: c.epsilon as number });
    } else if (cls === 'Rescaling') {
      ops.push({ kind: KIND.affine, scale: c.scale as number, offset: c.offset as number });
    } else if (cls !== 'Dropout') {
      throw new Error(`${layer.name}: ${cls} layers are not compiled`);
    }
  }
}

/** The plan spec for `model`, or the reason it cannot be compiled. */
export function planSpecOf(model: tfl.LayersModel): { spec: PlanSpec } | { reason: string } {
  if (model.inputs.length !== 1) return { reason: 'models with several inputs are not compiled' };
  const layers = model instanceof tfl.Sequential ? chain(model) : residualChain(model);
  if (!layers) return { reason: `'${model.name}' is not a Sequential chain` };
  if (typeof layers === 'string') return { reason: `'${model.name}': ${layers}` };
  const [, h0, w0, c0] = model.inputs[0]!.shape;
  if (model.inputs[0]!.shape.length !== 4 || !h0 || !w0 || !c0) return { reason: 'input is not a fixed-size image' };
  const ops: PlanOp[] = [];
  try {
    emitChain(layers, { H: h0, W: w0, C: c0, flat: false }, ops);
  } catch (e) {
    return { reason: (e as Error).message };
  }
  return { spec: { height: h0, width: w0, channels: c0, ops } };
}

/** A compiled plan for `model` (weights copied now: later weight changes are not seen). */
export function compileInferencePlan(model: tfl.LayersModel, addon: NativeAddon): { plan: NativeInferencePlan } | { reason: string } {
  const r = planSpecOf(model);
  if ('reason' in r) return r;
  return { plan: new addon.InferencePlan(r.spec) };
}
