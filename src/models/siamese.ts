/**
 * The Siamese pair model of Koch et al. 2015: two images through one shared encoder, the
 * component-wise |e1 - e2| (AbsDifference layer), optional hidden dense layers, then a single
 * unit whose sigmoid is the probability that both images show the same class.
 *
 * The last dense layer ('logit') is linear and followed by a separate sigmoid layer
 * ('probability'), so training can read the logit and use the numerically stable
 * PairBinaryCrossEntropyLoss while the saved model still outputs probabilities.
 */
import * as tfl from '@tensorflow/tfjs-layers';
import { AbsDifference } from './layers/abs_difference.js';
import { ENCODER_MODEL_NAME } from './encoders/encoder_options.js';
import { embeddingDimOf } from './encoders/registry.js';

export interface PairModelOptions {
  /** Units of hidden ReLU dense layers between |e1 - e2| and the output unit (Koch: none). */
  hidden?: number[];
  /** Seed of the head's initialisers (default 0). */
  seed?: number;
}

export const PAIR_MODEL_NAME = 'pair_model';
export const ABS_DIFFERENCE_LAYER = 'abs_difference';
export const LOGIT_LAYER = 'logit';
export const PROBABILITY_LAYER = 'probability';

/** A Siamese pair model: the shared encoder on both images, |e_a - e_b|, a dense sigmoid head (Koch et al. 2015). */
export function buildPairModel(encoder: tfl.LayersModel, opts: PairModelOptions = {}): tfl.LayersModel {
  if (encoder.inputs.length !== 1) throw new Error('buildPairModel: the encoder must have exactly one input');
  embeddingDimOf(encoder); // throws unless the encoder outputs [n, dim]
  const seed = opts.seed ?? 0;
  const shape = encoder.inputs[0]!.shape.slice(1) as number[];
  const left = tfl.input({ shape, name: 'left' });
  const right = tfl.input({ shape, name: 'right' });
  const e1 = encoder.apply(left) as tfl.SymbolicTensor;
  const e2 = encoder.apply(right) as tfl.SymbolicTensor;
  let h = new AbsDifference({ name: ABS_DIFFERENCE_LAYER }).apply([e1, e2]) as tfl.SymbolicTensor;
  (opts.hidden ?? []).forEach((units, i) => {
    if (!Number.isInteger(units) || units < 1) throw new Error(`buildPairModel: hidden layer sizes must be positive integers, got ${units}`);
    h = tfl.layers
      .dense({
        units,
        activation: 'relu',
        kernelInitializer: tfl.initializers.heNormal({ seed: seed * 1000 + 100 + i }),
        name: `head_dense_${i}`,
      })
      .apply(h) as tfl.SymbolicTensor;
  });
  const logit = tfl.layers
    .dense({ units: 1, kernelInitializer: tfl.initializers.glorotUniform({ seed: seed * 1000 + 199 }), name: LOGIT_LAYER })
    .apply(h) as tfl.SymbolicTensor;
  const probability = tfl.layers.activation({ activation: 'sigmoid', name: PROBABILITY_LAYER }).apply(logit) as tfl.SymbolicTensor;
  return tfl.model({ inputs: [left, right], outputs: probability, name: PAIR_MODEL_NAME });
}

/** The pair model up to the logit (shares the weights): what training feeds to the BCE loss. */
export function pairLogitModel(pairModel: tfl.LayersModel): tfl.LayersModel {
  // Node 0 is the pair model's own use of the layer (splitPairModel adds more nodes later).
  const logit = pairModel.getLayer(LOGIT_LAYER).getOutputAt(0) as tfl.SymbolicTensor;
  return tfl.model({ inputs: pairModel.inputs, outputs: logit, name: 'pair_logit_model' });
}

export interface SplitPairModel {
  /** The shared encoder: images -> embeddings. */
  encoder: tfl.LayersModel;
  /** |e1 - e2| ([n, dim]) -> probability of the same class ([n, 1]). */
  head: tfl.LayersModel;
  /** |e1 - e2| -> logit ([n, 1]), for training on cached embeddings. */
  logitHead: tfl.LayersModel;
}

/**
 * Splits a pair model (built here or loaded) into its encoder and its head; both share the pair
 * model's weights. Scoring then embeds each image once and runs only the head per pair.
 */
export function splitPairModel(model: tfl.LayersModel): SplitPairModel {
  const encoder = model.layers.find((l) => l instanceof tfl.LayersModel && l.name === ENCODER_MODEL_NAME) as tfl.LayersModel | undefined;
  if (!encoder) throw new Error(`splitPairModel: '${model.name}' has no nested '${ENCODER_MODEL_NAME}' model; is it a pair model?`);
  const start = model.layers.findIndex((l) => l.getClassName() === AbsDifference.className);
  if (start < 0) throw new Error(`splitPairModel: '${model.name}' has no AbsDifference layer; is it a pair model?`);
  const headLayers = model.layers.slice(start + 1);
  if (headLayers.length === 0) throw new Error(`splitPairModel: '${model.name}' has no layer after AbsDifference`);
  const dim = embeddingDimOf(encoder);
  const chain = (layers: tfl.layers.Layer[], name: string) => {
    const input = tfl.input({ shape: [dim], name: `${name}_input` });
    let x = input;
    for (const layer of layers) x = layer.apply(x) as tfl.SymbolicTensor;
    return tfl.model({ inputs: input, outputs: x, name });
  };
  const logitIndex = headLayers.findIndex((l) => l.name === LOGIT_LAYER);
  const head = chain(headLayers, 'pair_head');
  // Models saved before the logit / probability split have no separate logit: reuse the head.
  const logitHead = logitIndex >= 0 ? chain(headLayers.slice(0, logitIndex + 1), 'pair_logit_head') : head;
  return { encoder, head, logitHead };
}
