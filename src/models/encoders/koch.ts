/**
 * The convolutional twin of Koch, Zemel & Salakhutdinov 2015 ("Siamese Neural Networks for
 * One-shot Image Recognition"), for 105x105x1 Omniglot images:
 *   conv10x10-64 relu, maxpool2, conv7x7-128 relu, maxpool2, conv4x4-128 relu, maxpool2,
 *   conv4x4-256 relu, flatten, dense-4096 sigmoid.
 * `embeddingDim` shrinks the last layer (the 4096-wide one alone holds 38M weights).
 * Initialisers are He-normal for the ReLU convolutions and Glorot for the sigmoid layer (seeded),
 * which train reliably with Adam, instead of the paper's hand-tuned normals for SGD.
 */
import * as tfl from '@tensorflow/tfjs-layers';
import { ENCODER_MODEL_NAME, shrink, type ResolvedEncoderOptions } from './encoder_options.js';

export const KOCH_INPUT_SHAPE: [number, number, number] = [105, 105, 1];

export function kochEncoder(opts: ResolvedEncoderOptions): tfl.LayersModel {
  const { inputShape, seed } = opts;
  const embeddingDim = opts.embeddingDim ?? 4096;
  // Fail early with a clear message rather than deep inside tfjs-layers.
  let s = Math.min(inputShape[0], inputShape[1]);
  for (const [k, pool] of [[10, true], [7, true], [4, true], [4, false]] as const) {
    s = shrink(s, k, 1, 'koch', inputShape);
    if (pool) s = shrink(s, 2, 2, 'koch', inputShape);
  }
  const conv = (filters: number, kernelSize: number, i: number) =>
    tfl.layers.conv2d({
      filters,
      kernelSize,
      activation: 'relu',
      kernelInitializer: tfl.initializers.heNormal({ seed: seed * 1000 + i }),
      name: `koch_conv${i}`,
    });
  const pool = (i: number) => tfl.layers.maxPooling2d({ poolSize: 2, strides: 2, name: `koch_pool${i}` });
  return tfl.sequential({
    name: ENCODER_MODEL_NAME,
    layers: [
      tfl.layers.inputLayer({ inputShape, name: 'koch_input' }),
      conv(64, 10, 1),
      pool(1),
      conv(128, 7, 2),
      pool(2),
      conv(128, 4, 3),
      pool(3),
      conv(256, 4, 4),
      tfl.layers.flatten({ name: 'koch_flatten' }),
      tfl.layers.dense({
        units: embeddingDim,
        activation: 'sigmoid',
        kernelInitializer: tfl.initializers.glorotUniform({ seed: seed * 1000 + 5 }),
        name: 'koch_embedding',
      }),
    ],
  });
}
