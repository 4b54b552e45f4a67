/**
 * Encoder registry: an encoder is a function of (inputShape, embeddingDim, seed) returning a
 * tfl.LayersModel named 'encoder' that maps [n, h, w, c] images in [0, 1] to [n, dim] embeddings.
 * Built-ins: 'koch' (105x105x1), 'conv4' (28x28x1; wider: 'conv4-96', 'conv4-128', 'conv4-160'), 'resnet7'
 * (28x28x1, residual, about Conv-4-128's compute; 'resnet7-96' is 1.5x as wide, 2.24x the compute) and
 * 'tiny' (tests);
 * `registerEncoder` adds more.
 */
import type * as tfl from '@tensorflow/tfjs-layers';
import { ENCODER_MODEL_NAME, type EncoderOptions, type ResolvedEncoderOptions } from './encoder_options.js';
import { KOCH_INPUT_SHAPE, kochEncoder } from './koch.js';
import { CONV4_INPUT_SHAPE, conv4Encoder } from './conv4.js';
import { TINY_INPUT_SHAPE, tinyEncoder } from './tiny.js';
import { RESNET_INPUT_SHAPE, resnetEncoder } from './resnet.js';

export type EncoderFactory = (opts: ResolvedEncoderOptions) => tfl.LayersModel;

interface Registration {
  factory: EncoderFactory;
  defaultInputShape: [number, number, number];
}

const registry = new Map<string, Registration>();

/** Adds an encoder under `name` so that `createEncoder`, the trainer and `--encoder` can build it. */
export function registerEncoder(name: string, factory: EncoderFactory, defaults: { inputShape: [number, number, number] }): void {
  if (!/^[a-z][a-z0-9_-]*$/.test(name)) throw new Error(`encoder name '${name}' must be lower-case letters, digits, '-' or '_'`);
  registry.set(name, { factory, defaultInputShape: defaults.inputShape });
}

/** Names of the registered encoders. */
export function encoderNames(): string[] {
  return [...registry.keys()];
}

/** The [height, width, channels] an encoder is built for by default. */
export function defaultInputShape(name: string): [number, number, number] {
  return [...lookup(name).defaultInputShape];
}

/** Builds a registered encoder ('koch', 'conv4', 'norm-conv4', 'tiny', or one added by `registerEncoder`) with its default or the given input shape and embedding size. */
export function createEncoder(name: string, opts: EncoderOptions = {}): tfl.LayersModel {
  const reg = lookup(name);
  const inputShape = opts.inputShape ?? [...reg.defaultInputShape];
  if (inputShape.length !== 3 || inputShape.some((d) => !Number.isInteger(d) || d < 1)) {
    throw new Error(`encoder '${name}': inputShape must be [height, width, channels] of positive integers, got [${inputShape}]`);
  }
  if (opts.embeddingDim !== undefined && (!Number.isInteger(opts.embeddingDim) || opts.embeddingDim < 1)) {
    throw new Error(`encoder '${name}': embeddingDim must be a positive integer, got ${opts.embeddingDim}`);
  }
  const seed = opts.seed ?? 0;
  if (!Number.isInteger(seed) || seed < 0) throw new Error(`encoder '${name}': seed must be a non-negative integer, got ${seed}`);
  const model = reg.factory({ inputShape, seed, embeddingDim: opts.embeddingDim });
  if (model.name !== ENCODER_MODEL_NAME) throw new Error(`encoder factory '${name}' must name its model '${ENCODER_MODEL_NAME}', got '${model.name}'`);
  if (model.outputs.length !== 1 || model.outputs[0]!.shape.length !== 2) {
    throw new Error(`encoder '${name}' must output one [n, dim] embedding tensor`);
  }
  return model;
}

/** Embedding size of an encoder model. */
export function embeddingDimOf(encoder: tfl.LayersModel): number {
  const dim = encoder.outputs[0]?.shape[1];
  if (typeof dim !== 'number') throw new Error(`model '${encoder.name}' does not output [n, dim] embeddings`);
  return dim;
}

function lookup(name: string): Registration {
  const reg = registry.get(name);
  if (!reg) throw new Error(`unknown encoder '${name}' (available: ${encoderNames().join(', ')})`);
  return reg;
}

registerEncoder('koch', kochEncoder, { inputShape: KOCH_INPUT_SHAPE });
registerEncoder('conv4', (o) => conv4Encoder(o), { inputShape: CONV4_INPUT_SHAPE });
registerEncoder('conv4-96', (o) => conv4Encoder(o, 96), { inputShape: CONV4_INPUT_SHAPE });
registerEncoder('conv4-128', (o) => conv4Encoder(o, 128), { inputShape: CONV4_INPUT_SHAPE });
registerEncoder('conv4-160', (o) => conv4Encoder(o, 160), { inputShape: CONV4_INPUT_SHAPE });
registerEncoder('resnet7', (o) => resnetEncoder(o), { inputShape: RESNET_INPUT_SHAPE });
registerEncoder('resnet7-96', (o) => resnetEncoder(o, [96, 192, 384], 96), { inputShape: RESNET_INPUT_SHAPE });
registerEncoder('tiny', tinyEncoder, { inputShape: TINY_INPUT_SHAPE });
