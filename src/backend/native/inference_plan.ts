/**
 * Compiles a loaded TF.js model into one native InferencePlan (native/src/inference_plan.cc):
 * inference-mode batch norm folded into the convolution weights and bias, conv + bias +
 * activation as one oneDNN primitive (post-op), pooling on oneDNN's blocked layout, weights
 * reordered once, and the whole forward pass one call instead of ~20 TF.js kernels.
 *
 * Only what the plan can compute exactly is compiled (a chain of Conv2D [BatchNormalization]
 * [Activation], pooling, Flatten, Dense, LayerNormalization, Rescaling, Dropout, as nested
 * Sequential models); anything else returns the reason and the caller keeps running TF.js.
 */
import type * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { NativeAddon } from './addon.js';

/** kernels.h InferenceOp::Kind and Activation. */
const KIND = { conv: 0, maxPool: 1, avgPool: 2, layerNorm: 3, affine: 4, dense: 5 } as const;
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

/** The plan spec for `model`, or the reason it cannot be compiled. */
export function planSpecOf(model: tfl.LayersModel): { spec: PlanSpec } | { reason: string } {
  const layers = chain(model);
  if (!layers) return { reason: `'${model.name}' is not a Sequential chain` };
  if (model.inputs.length !== 1) return { reason: 'models with several inputs are not compiled' };
  const [, h0, w0, c0] = model.inputs[0]!.shape;
  if (model.inputs[0]!.shape.length !== 4 || !h0 || !w0 || !c0) return { reason: 'input is not a fixed-size image' };
  let H = h0, W = w0, C = c0, flat = false;
  const ops: PlanOp[] = [];
  try {
    for (let i = 0; i < layers.length; i++) {
      const layer = layers[i]!;
      const c = layer.getConfig() as Config;
      const cls = layer.getClassName();
      const next = (name: string) => (layers[i + 1]?.getClassName() === name ? layers[i + 1]! : null);
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
        H = oh, W = ow, C = oc;
      } else if (cls === 'MaxPooling2D' || cls === 'AveragePooling2D') {
        if (flat) throw new Error(`${layer.name}: pooling after flatten`);
        const [kh, kw] = pair(c.poolSize), [sh, sw] = pair(c.strides ?? c.poolSize);
        const [pt, pb, oh] = padding(c.padding, H, kh, sh, 1), [pl, pr, ow] = padding(c.padding, W, kw, sw, 1);
        ops.push({ kind: cls === 'MaxPooling2D' ? KIND.maxPool : KIND.avgPool, kh, kw, sh, sw, pt, pb, pl, pr });
        H = oh, W = ow;
      } else if (cls === 'Flatten') {
        C = H * W * C, H = 1, W = 1, flat = true;
      } else if (cls === 'Dense') {
        if (!flat) throw new Error(`${layer.name}: dense on an image tensor`);
        const w = weights(layer);
        const activation = String(c.activation ?? 'linear');
        if (!(activation in ACTIVATIONS)) throw new Error(`${layer.name}: activation ${activation}`);
        ops.push({ kind: KIND.dense, outChannels: c.units as number, weights: w.get('kernel')!, bias: w.get('bias') ?? null, activation: ACTIVATIONS[activation] });
        C = c.units as number;
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
