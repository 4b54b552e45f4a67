/**
 * TF.js layers model -> ONNX (opset 17) in plain TypeScript: no Python, no converter binary.
 * Sequential and functional models (nested models and shared layers included, e.g. a Siamese
 * pair model or SiamFC's two-branch tracker) are walked layer by layer; each layer becomes the
 * ONNX nodes of its inference-mode computation (layers.ts). Inputs and outputs keep TF.js's
 * names, shapes and NHWC layout, so the same Float32Array feeds both runtimes.
 */
import * as tfl from '@tensorflow/tfjs-layers';
import { OnnxGraph, type Value } from './graph.js';
import { convertLayer } from './layers.js';

export interface OnnxExportOptions {
  /** Fixed batch size for named inputs (default: dynamic 'batch'). */
  fixedBatch?: Record<string, number>;
  /** Free text stored in the model's doc string (e.g. where it came from). */
  docString?: string;
  /** Key/value pairs stored as the model's metadata_props (e.g. fewshot.json). */
  metadata?: Record<string, string>;
}

type Symbolic = tfl.SymbolicTensor;

/** Serialized ONNX ModelProto of `model`'s inference-mode forward pass. */
export function exportOnnx(model: tfl.LayersModel, opts: OnnxExportOptions = {}): Uint8Array {
  const g = new OnnxGraph();
  const inputs = model.inputs.map((t, i) => {
    const name = model.inputNames[i] ?? t.name;
    const shape = [...t.shape] as Array<number | null>;
    const fixed = opts.fixedBatch?.[name];
    if (fixed !== undefined) shape[0] = fixed;
    return g.addInput(name, shape);
  });
  // Output names are TF.js's; reserved first so that no inner value takes them.
  const outputNames = model.outputs.map((t, i) => g.fresh(model.outputNames[i] ?? t.sourceLayer.name));
  const outputs = applyModel(g, model, inputs);
  outputs.forEach((v, i) => g.addOutput(v, outputNames[i]!));
  return g.encode(model.name, opts.docString ?? `exported by fewshot from the TF.js layers model '${model.name}'`, opts.metadata);
}

/** Emits `model` applied to `inputs`; returns its outputs. Nested models recurse. */
function applyModel(g: OnnxGraph, model: tfl.LayersModel, inputs: Value[]): Value[] {
  if (model instanceof tfl.Sequential) {
    let x = inputs[0]!;
    for (const layer of model.layers) x = applyLayer(g, layer, [x]);
    return [x];
  }
  // Functional: follow each layer's inbound nodes that belong to this model, in topological
  // order, mapping TF.js symbolic tensors to ONNX values.
  const known = new Map<number, Value>();
  model.inputs.forEach((t, i) => known.set(t.id, inputs[i]!));
  const done = new Set<object>();
  for (let progress = true; progress;) {
    progress = false;
    for (const layer of model.layers) {
      for (const node of layer.inboundNodes) {
        if (done.has(node)) continue;
        const ins = node.inputTensors as Symbolic[];
        if (ins.length === 0 || !ins.every((t) => known.has(t.id))) continue;
        const outs = node.outputTensors as Symbolic[];
        if (outs.every((t) => known.has(t.id))) {
          done.add(node);
          continue;
        }
        const values = applyLayer(g, layer, ins.map((t) => known.get(t.id)!), outs.length);
        outs.forEach((t, i) => known.set(t.id, values instanceof Array ? values[i]! : values));
        done.add(node);
        progress = true;
      }
    }
  }
  return model.outputs.map((t) => {
    const v = known.get(t.id);
    if (!v) throw new Error(`ONNX export: could not reach output '${t.name}' of '${model.name}' from its inputs`);
    return v;
  });
}

function applyLayer(g: OnnxGraph, layer: tfl.layers.Layer, inputs: Value[], outputs = 1): Value {
  if (layer.getClassName() === 'InputLayer') return inputs[0]!;
  if (layer instanceof tfl.LayersModel) {
    const out = applyModel(g, layer, inputs);
    if (out.length !== outputs || out.length !== 1) throw new Error(`ONNX export: nested model '${layer.name}' with ${out.length} outputs is not supported`);
    return out[0]!;
  }
  return convertLayer(g, layer, inputs);
}
