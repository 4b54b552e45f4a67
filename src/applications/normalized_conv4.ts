/**
 * A conv4-style encoder that first standardises every image on its own (zero mean, unit
 * variance over all its pixels). Photos and scans from other cameras differ mostly in
 * brightness and contrast; normalising inside the model makes the shipped faces and signatures
 * models insensitive to that without any preprocessing step the user could forget.
 *
 * The normalisation is a frozen LayerNormalization over (h, w, c): a standard TF.js
 * layer, so the saved model loads anywhere with no custom code. Registered as 'norm-conv4'.
 */
import * as tfl from '@tensorflow/tfjs-layers';
import { registerEncoder } from '../models/encoders/registry.js';
import { ENCODER_MODEL_NAME, shrink, type ResolvedEncoderOptions } from '../models/encoders/encoder_options.js';

export const NORM_CONV4 = 'norm-conv4';
export const NORM_CONV4_INPUT_SHAPE: [number, number, number] = [64, 64, 1];
/** Filters per block: half of conv4's 64, so that 64x64 inputs train in minutes on a CPU. */
export const NORM_CONV4_FILTERS = 32;

/** conv4 whose first layer standardises each image (zero mean, unit variance), registered as 'norm-conv4' (faces, signatures). */
export function normConv4Encoder(opts: ResolvedEncoderOptions): tfl.LayersModel {
  const { inputShape, seed } = opts;
  let h = inputShape[0];
  let w = inputShape[1];
  const layers: tfl.layers.Layer[] = [
    tfl.layers.inputLayer({ inputShape, name: 'nconv4_input' }),
    // center/scale stay at 0/1 and frozen (trainable: false): TF.js 4.22 cannot differentiate
    // through a LayerNormalization built without them.
    tfl.layers.layerNormalization({ axis: [1, 2, 3], epsilon: 1e-4, trainable: false, name: 'nconv4_standardise' }),
  ];
  for (let i = 1; i <= 4; i++) {
    layers.push(
      tfl.layers.conv2d({
        filters: NORM_CONV4_FILTERS,
        kernelSize: 3,
        padding: 'same',
        kernelInitializer: tfl.initializers.heNormal({ seed: seed * 1000 + i }),
        name: `nconv4_conv${i}`,
      }),
      tfl.layers.batchNormalization({ name: `nconv4_bn${i}` }),
      tfl.layers.activation({ activation: 'relu', name: `nconv4_relu${i}` }),
      tfl.layers.maxPooling2d({ poolSize: 2, strides: 2, name: `nconv4_pool${i}` }),
    );
    h = shrink(h, 2, 2, NORM_CONV4, inputShape);
    w = shrink(w, 2, 2, NORM_CONV4, inputShape);
  }
  layers.push(tfl.layers.flatten({ name: 'nconv4_flatten' }));
  layers.push(
    tfl.layers.dense({
      units: opts.embeddingDim ?? 64,
      kernelInitializer: tfl.initializers.glorotUniform({ seed: seed * 1000 + 5 }),
      name: 'nconv4_embedding',
    }),
  );
  return tfl.sequential({ name: ENCODER_MODEL_NAME, layers });
}

registerEncoder(NORM_CONV4, normConv4Encoder, { inputShape: NORM_CONV4_INPUT_SHAPE });

export const NORM_LINEAR = 'norm-linear';

/**
 * The same per-image standardisation followed by one linear projection (a learned, Fisherface-
 * like subspace): far fewer degrees of freedom than a conv net, which matters when only a few
 * dozen identities are available for training. Registered as 'norm-linear'.
 */
export function normLinearEncoder(opts: ResolvedEncoderOptions): tfl.LayersModel {
  const { inputShape, seed } = opts;
  return tfl.sequential({
    name: ENCODER_MODEL_NAME,
    layers: [
      tfl.layers.inputLayer({ inputShape, name: 'nlin_input' }),
      tfl.layers.layerNormalization({ axis: [1, 2, 3], epsilon: 1e-4, trainable: false, name: 'nlin_standardise' }),
      tfl.layers.flatten({ name: 'nlin_flatten' }),
      tfl.layers.dense({
        units: opts.embeddingDim ?? 64,
        useBias: false,
        kernelInitializer: tfl.initializers.glorotUniform({ seed: seed * 1000 + 1 }),
        name: 'nlin_projection',
      }),
    ],
  });
}

registerEncoder(NORM_LINEAR, normLinearEncoder, { inputShape: [32, 32, 1] });
