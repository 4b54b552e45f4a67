/**
 * The "Conv-4" backbone of matching / prototypical networks (Vinyals et al. 2016, Snell et al.
 * 2017), for 28x28x1 images: 4 x {conv3x3-64 same, batchnorm, relu, maxpool2}, flatten -> 64-d
 * at 28x28. With `embeddingDim` different from the flattened size, a linear dense layer maps to it.
 * Wider variants ('conv4-96', 'conv4-128', 'conv4-160': 96, 128 or 160 filters per layer) trade speed for capacity;
 * at 56x56 they give a 3x3xfilters embedding.
 */
import * as tfl from '@tensorflow/tfjs-layers';
import { ENCODER_MODEL_NAME, shrink, type ResolvedEncoderOptions } from './encoder_options.js';

export const CONV4_INPUT_SHAPE: [number, number, number] = [28, 28, 1];

export function conv4Encoder(opts: ResolvedEncoderOptions, filters = 64): tfl.LayersModel {
  const { inputShape, seed } = opts;
  let h = inputShape[0];
  let w = inputShape[1];
  const layers: tfl.layers.Layer[] = [tfl.layers.inputLayer({ inputShape, name: 'conv4_input' })];
  for (let i = 1; i <= 4; i++) {
    layers.push(
      tfl.layers.conv2d({
        filters,
        kernelSize: 3,
        padding: 'same',
        kernelInitializer: tfl.initializers.heNormal({ seed: seed * 1000 + i }),
        name: `conv4_conv${i}`,
      }),
      tfl.layers.batchNormalization({ name: `conv4_bn${i}` }),
      tfl.layers.activation({ activation: 'relu', name: `conv4_relu${i}` }),
      tfl.layers.maxPooling2d({ poolSize: 2, strides: 2, name: `conv4_pool${i}` }),
    );
    h = shrink(h, 2, 2, 'conv4', inputShape);
    w = shrink(w, 2, 2, 'conv4', inputShape);
  }
  layers.push(tfl.layers.flatten({ name: 'conv4_flatten' }));
  if (opts.embeddingDim !== undefined && opts.embeddingDim !== h * w * filters) {
    layers.push(
      tfl.layers.dense({
        units: opts.embeddingDim,
        kernelInitializer: tfl.initializers.glorotUniform({ seed: seed * 1000 + 5 }),
        name: 'conv4_embedding',
      }),
    );
  }
  return tfl.sequential({ name: ENCODER_MODEL_NAME, layers });
}
