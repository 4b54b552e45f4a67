/**
 * A deliberately small encoder (two strided convolutions and a dense layer, a few thousand
 * weights) for tests and smoke runs on any input size: it trains in milliseconds per step on the
 * CPU. Not meant for accuracy.
 */
import * as tfl from '@tensorflow/tfjs-layers';
import { ENCODER_MODEL_NAME, shrink, type ResolvedEncoderOptions } from './encoder_options.js';

export const TINY_INPUT_SHAPE: [number, number, number] = [28, 28, 1];

export function tinyEncoder(opts: ResolvedEncoderOptions): tfl.LayersModel {
  const { inputShape, seed } = opts;
  shrink(shrink(Math.min(inputShape[0], inputShape[1]), 3, 2, 'tiny', inputShape), 3, 2, 'tiny', inputShape);
  const conv = (filters: number, i: number) =>
    tfl.layers.conv2d({
      filters,
      kernelSize: 3,
      strides: 2,
      activation: 'relu',
      kernelInitializer: tfl.initializers.heNormal({ seed: seed * 1000 + i }),
      name: `tiny_conv${i}`,
    });
  return tfl.sequential({
    name: ENCODER_MODEL_NAME,
    layers: [
      tfl.layers.inputLayer({ inputShape, name: 'tiny_input' }),
      conv(4, 1),
      conv(8, 2),
      tfl.layers.flatten({ name: 'tiny_flatten' }),
      tfl.layers.dense({
        units: opts.embeddingDim ?? 16,
        kernelInitializer: tfl.initializers.glorotUniform({ seed: seed * 1000 + 3 }),
        name: 'tiny_embedding',
      }),
    ],
  });
}
