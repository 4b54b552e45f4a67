/**
 * A small residual encoder for 28x28x1 images, at about Conv-4-128's compute (34M against 38M
 * multiply-adds per image): deeper (7 convolutions on the main path against 4) rather than wider.
 *
 *   stem:    conv3x3-64, batchnorm, relu, maxpool2                      28 -> 14
 *   block 1: [conv3x3-64, bn, relu, conv3x3-64, bn] + x, relu, maxpool2  14 -> 7
 *   block 2: the same with 128 filters; 1x1 conv + bn on the shortcut   7 -> 3
 *   block 3: the same with 256 filters, then global average pooling     3 -> 256-d
 *
 * The residual blocks follow He et al. 2016 (post-activation, projection shortcut only where the
 * width changes), the pooling between blocks the few-shot ResNets (ResNet-12 of Lee et al. 2019)
 * rather than strided convolutions, so the spatial sizes match Conv-4's. Global average pooling
 * rather than flattening keeps the embedding at 256 whatever the input size.
 */
import * as tfl from '@tensorflow/tfjs-layers';
import { ENCODER_MODEL_NAME, shrink, type ResolvedEncoderOptions } from './encoder_options.js';

export const RESNET_INPUT_SHAPE: [number, number, number] = [28, 28, 1];

/** Filters of the stem and of each residual block. */
const STEM_FILTERS = 64;
const BLOCK_FILTERS = [64, 128, 256];

export function resnetEncoder(opts: ResolvedEncoderOptions, widths: readonly number[] = BLOCK_FILTERS, stemFilters = STEM_FILTERS): tfl.LayersModel {
  const { inputShape, seed } = opts;
  let layerIndex = 0;
  const he = () => tfl.initializers.heNormal({ seed: seed * 1000 + ++layerIndex });
  const conv = (x: tfl.SymbolicTensor, filters: number, kernelSize: number, name: string) =>
    tfl.layers.conv2d({ filters, kernelSize, padding: 'same', useBias: false, kernelInitializer: he(), name }).apply(x) as tfl.SymbolicTensor;
  const bn = (x: tfl.SymbolicTensor, name: string) => tfl.layers.batchNormalization({ name }).apply(x) as tfl.SymbolicTensor;
  const relu = (x: tfl.SymbolicTensor, name: string) => tfl.layers.activation({ activation: 'relu', name }).apply(x) as tfl.SymbolicTensor;
  const pool = (x: tfl.SymbolicTensor, name: string) => tfl.layers.maxPooling2d({ poolSize: 2, strides: 2, name }).apply(x) as tfl.SymbolicTensor;

  // One 2x2 max-pool after the stem and after every block but the last: a clear error if the map vanishes.
  for (let i = 0, h = inputShape[0], w = inputShape[1]; i < widths.length; i++) {
    h = shrink(h, 2, 2, 'resnet', inputShape);
    w = shrink(w, 2, 2, 'resnet', inputShape);
  }
  const input = tfl.input({ shape: inputShape, name: 'resnet_input' });
  let x = pool(relu(bn(conv(input, stemFilters, 3, 'resnet_stem_conv'), 'resnet_stem_bn'), 'resnet_stem_relu'), 'resnet_stem_pool');
  let channels = stemFilters;
  widths.forEach((filters, b) => {
    const p = `resnet_block${b + 1}`;
    let y = relu(bn(conv(x, filters, 3, `${p}_conv1`), `${p}_bn1`), `${p}_relu1`);
    y = bn(conv(y, filters, 3, `${p}_conv2`), `${p}_bn2`);
    const shortcut = channels === filters ? x : bn(conv(x, filters, 1, `${p}_shortcut_conv`), `${p}_shortcut_bn`);
    x = relu(tfl.layers.add({ name: `${p}_add` }).apply([y, shortcut]) as tfl.SymbolicTensor, `${p}_relu2`);
    channels = filters;
    if (b < widths.length - 1) x = pool(x, `${p}_pool`);
  });
  x = tfl.layers.globalAveragePooling2d({ name: 'resnet_pool' }).apply(x) as tfl.SymbolicTensor;
  if (opts.embeddingDim !== undefined && opts.embeddingDim !== channels) {
    x = tfl.layers
      .dense({ units: opts.embeddingDim, kernelInitializer: tfl.initializers.glorotUniform({ seed: seed * 1000 + ++layerIndex }), name: 'resnet_embedding' })
      .apply(x) as tfl.SymbolicTensor;
  }
  return tfl.model({ name: ENCODER_MODEL_NAME, inputs: input, outputs: x });
}
