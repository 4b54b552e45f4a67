/**
 * A saved model as the encoder of a new training run (`--encoder-from DIR`), architecture and
 * weights together: an embedding model of any architecture, an ensemble made by `build:ensemble`
 * (its members and their L2Normalization layers are one encoder), or the encoder under a saved
 * pair model's head. What puts a Koch pair head on the best metric-learning encoders, which the
 * encoder registry cannot rebuild by name.
 */
import * as tfl from '@tensorflow/tfjs-layers';
import { ENCODER_MODEL_NAME } from './encoders/encoder_options.js';
import { embeddingDimOf } from './encoders/registry.js';
import { loadModel } from './io.js';
import type { ModelMetadata } from './metadata.js';
import { splitPairModel } from './siamese.js';

/**
 * The saved model's encoder, named as pair models expect their nested encoder ('encoder'); a
 * model with another name (an ensemble) is wrapped in a model that shares its layers and weights.
 */
export async function loadSavedEncoder(dir: string): Promise<{ encoder: tfl.LayersModel; meta: ModelMetadata }> {
  const { model, meta } = await loadModel(dir);
  const encoder = meta.score === 'pair-probability' ? splitPairModel(model).encoder : model;
  if (encoder.inputs.length !== 1 || encoder.outputs.length !== 1) throw new Error(`--encoder-from ${dir}: the model must have one input and one output`);
  embeddingDimOf(encoder); // throws unless it outputs [n, dim] embeddings
  if (encoder.name === ENCODER_MODEL_NAME) return { encoder, meta };
  return { encoder: tfl.model({ inputs: encoder.inputs, outputs: encoder.outputs, name: ENCODER_MODEL_NAME }), meta };
}
