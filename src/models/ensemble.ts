/**
 * An ensemble of embedding models as ONE layers model: every member encoder runs on the same
 * input, each embedding is scaled to unit length (L2Normalization), and the results are
 * concatenated. For k members the cosine similarity of two such embeddings is the mean of the
 * members' cosine similarities (each block has length 1, the whole vector sqrt(k)), so scoring
 * by cosine on the concatenation averages the members' votes while every loader (eval, predict,
 * the service, the browser) uses the ensemble like any other model.
 *
 * Members are copied with their layers renamed ('m1_conv4_conv1'...): two members trained from
 * the same encoder recipe share layer names, and weight names must be unique in one model.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { EncoderRunner } from '../inference/encoder_runner.js';
import { L2Normalization, L2_NORM_EPSILON } from './layers/l2_normalization.js';

export const ENSEMBLE_MODEL_NAME = 'ensemble';

type LayerClass = { fromConfig(cls: unknown, config: tf.serialization.ConfigDict): tfl.layers.Layer };

/** The layers of a Sequential encoder with nested Sequential models inlined (input layers left out). */
function sequentialLayers(model: tfl.Sequential): tfl.layers.Layer[] {
  return model.layers.flatMap((layer) =>
    layer instanceof tfl.Sequential ? sequentialLayers(layer) : layer.getClassName() === 'InputLayer' ? [] : [layer],
  );
}

/** A functional model's config (tfjs-layers Container.getConfig) as far as renaming needs it. */
interface FunctionalConfig {
  name: string;
  layers: Array<{ name: string; config: { name: string }; inboundNodes: Array<Array<[string, ...unknown[]]>> }>;
  inputLayers: Array<[string, ...unknown[]]>;
  outputLayers: Array<[string, ...unknown[]]>;
}

/** A copy of `encoder` named `name` whose layers are named `${name}_${layer}`, with the same weights. */
function renamedCopy(encoder: tfl.LayersModel, name: string): tfl.LayersModel {
  const rename = (layer: string) => `${name}_${layer}`;
  if (encoder instanceof tfl.Sequential) {
    const shape = encoder.inputs[0]!.shape.slice(1) as number[];
    const originals = sequentialLayers(encoder);
    if (originals.some((layer) => layer instanceof tfl.LayersModel)) throw new Error(`${name}: a member with a nested functional model cannot be copied`);
    const copies = originals.map((layer) => {
      const cls = layer.constructor as unknown as LayerClass;
      return cls.fromConfig(cls, { ...layer.getConfig(), name: rename(layer.name) });
    });
    const copy = tfl.sequential({ name, layers: [tfl.layers.inputLayer({ inputShape: shape, name: rename('input') }), ...copies] });
    copies.forEach((c, i) => c.setWeights(originals[i]!.getWeights()));
    return copy;
  }
  // Functional (e.g. a residual encoder): the same graph rebuilt from its config with every
  // layer name, and every reference to one, prefixed.
  if (encoder.layers.some((layer) => layer instanceof tfl.LayersModel)) throw new Error(`${name}: a functional member with nested models cannot be copied`);
  const config = JSON.parse(JSON.stringify(encoder.getConfig())) as FunctionalConfig;
  config.name = name;
  for (const layer of config.layers) {
    layer.name = layer.config.name = rename(layer.name);
    for (const node of layer.inboundNodes) for (const inbound of node) inbound[0] = rename(inbound[0]);
  }
  for (const ref of [...config.inputLayers, ...config.outputLayers]) ref[0] = rename(ref[0]);
  const cls = tfl.LayersModel as unknown as { fromConfig(cls: unknown, config: tf.serialization.ConfigDict): tfl.LayersModel };
  const copy = cls.fromConfig(tfl.LayersModel, config as unknown as tf.serialization.ConfigDict);
  encoder.layers.forEach((layer, i) => copy.layers[i]!.setWeights(layer.getWeights()));
  return copy;
}

/**
 * One model computing [normalize(e_1) | ... | normalize(e_k)] for the given encoders (1 or more;
 * one member is that encoder scored by cosine). All must take the same input shape and output
 * [n, dim] embeddings.
 */
export function buildEnsembleModel(encoders: readonly tfl.LayersModel[]): tfl.LayersModel {
  if (encoders.length === 0) throw new Error('buildEnsembleModel: give at least one member encoder');
  const shape = encoders[0]!.inputs[0]!.shape.slice(1) as number[];
  encoders.forEach((e, i) => {
    if (e.inputs.length !== 1 || e.outputs.length !== 1) throw new Error(`ensemble member ${i + 1} ('${e.name}') must have one input and one output`);
    const s = e.inputs[0]!.shape.slice(1);
    if (s.join('x') !== shape.join('x')) throw new Error(`ensemble member ${i + 1} takes ${s.join('x')} inputs, member 1 takes ${shape.join('x')}`);
    const out = e.outputs[0]!.shape;
    if (out.length !== 2 || typeof out[1] !== 'number') throw new Error(`ensemble member ${i + 1} must output [n, dim] embeddings, not [${out.join(', ')}]`);
  });
  const input = tfl.input({ shape, name: `${ENSEMBLE_MODEL_NAME}_input` });
  const normalized = encoders.map((e, i) => {
    const name = `m${i + 1}`;
    const embedding = renamedCopy(e, name).apply(input) as tfl.SymbolicTensor;
    return new L2Normalization({ name: `${name}_l2` }).apply(embedding) as tfl.SymbolicTensor;
  });
  const output = normalized.length === 1 ? normalized[0]! : (tfl.layers.concatenate({ name: `${ENSEMBLE_MODEL_NAME}_concat` }).apply(normalized) as tfl.SymbolicTensor);
  return tfl.model({ inputs: input, outputs: output, name: ENSEMBLE_MODEL_NAME });
}

type NodeLike = { inputTensors: tfl.SymbolicTensor[] };
/** The tensors that went into the layer call producing `t`. */
const inputsOf = (t: tfl.SymbolicTensor): tfl.SymbolicTensor[] =>
  (t.sourceLayer as unknown as { inboundNodes: NodeLike[] }).inboundNodes[t.nodeIndex]?.inputTensors ?? [];

/**
 * The member encoders of a model built by buildEnsembleModel (loaded or not), in order, or null
 * for any other model: what lets a faster engine compile each member on its own.
 */
export function ensembleMembers(model: tfl.LayersModel): tfl.LayersModel[] | null {
  if (model.inputs.length !== 1 || model.outputs.length !== 1) return null;
  const output = model.outputs[0]!;
  const normalized = output.sourceLayer.getClassName() === 'Concatenate' ? inputsOf(output) : [output];
  const members: tfl.LayersModel[] = [];
  for (const t of normalized) {
    if (t.sourceLayer.getClassName() !== L2Normalization.className) return null;
    const [embedding] = inputsOf(t);
    const member = embedding?.sourceLayer;
    if (!(member instanceof tfl.LayersModel) || inputsOf(embedding!)[0] !== model.inputs[0]) return null;
    members.push(member);
  }
  return members;
}

/** Runs each member's runner and assembles the ensemble's output exactly as the model does. */
export function ensembleRunner(members: readonly EncoderRunner[]): EncoderRunner {
  return {
    engine: members[0]!.engine,
    run(x, n, shape) {
      const outputs = members.map((r) => r.run(x, n, shape));
      const dims = outputs.map((o) => o.length / n);
      const total = dims.reduce((a, b) => a + b, 0);
      const y = new Float32Array(n * total);
      for (let row = 0; row < n; row++) {
        let at = row * total;
        outputs.forEach((o, m) => {
          const d = dims[m]!;
          const v = o.subarray(row * d, (row + 1) * d);
          let sq = 0;
          for (let j = 0; j < d; j++) sq += v[j]! * v[j]!;
          const scale = 1 / Math.sqrt(sq + L2_NORM_EPSILON);
          for (let j = 0; j < d; j++) y[at + j] = v[j]! * scale;
          at += d;
        });
      }
      return y;
    },
  };
}
