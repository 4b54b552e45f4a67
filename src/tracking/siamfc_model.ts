/**
 * The SiamFC network at CPU size. The encoder is AlexNet-like and fully convolutional without
 * padding (padding would leak absolute position into the features and break the translation
 * equivariance the score map relies on). With an exemplar crop of 63 px and a search crop of
 * 127 px (half of SiamFC's 127/255, the same context fraction) and total stride 4, the exemplar
 * feature is 8x8 and the score map 17x17, as in SiamFC; the forward pass for 3 scales is ~10 ms on
 * the wasm backend instead of the ~0.5 s the full-size AlexNet would need here.
 */
import * as tfl from '@tensorflow/tfjs-layers';
import { CrossCorrelation } from './cross_correlation.js';

export interface SiamFCConfig {
  exemplarSize: number;
  searchSize: number;
  /** Output channels of the four conv layers. */
  channels: [number, number, number, number];
  seed?: number;
}

export const DEFAULT_SIAMFC: SiamFCConfig = { exemplarSize: 63, searchSize: 127, channels: [24, 48, 48, 32] };

/** Total stride of the encoder (conv1 stride 2, pool stride 2). */
export const ENCODER_STRIDE = 4;

/** Feature size for an input of `size` pixels: conv5/2 -> pool3/2 -> conv3 -> conv3 -> conv3. */
export function featureSize(size: number): number {
  const c1 = Math.floor((size - 5) / 2) + 1;
  const p1 = Math.floor((c1 - 3) / 2) + 1;
  return p1 - 6;
}

export function scoreSize(cfg: Pick<SiamFCConfig, 'exemplarSize' | 'searchSize'>, searchSize = cfg.searchSize): number {
  return featureSize(searchSize) - featureSize(cfg.exemplarSize) + 1;
}

export function createTrackingEncoder(cfg: SiamFCConfig): tfl.Sequential {
  const [c1, c2, c3, c4] = cfg.channels;
  const seed = cfg.seed ?? 1;
  const init = (k: number) => tfl.initializers.heNormal({ seed: seed * 10 + k });
  const enc = tfl.sequential({ name: 'encoder' });
  // [null, null, 3]: the same encoder takes exemplar and search crops of any size.
  enc.add(tfl.layers.rescaling({ inputShape: [null, null, 3] as unknown as number[], scale: 1, offset: -0.5, name: 'center' }));
  enc.add(tfl.layers.conv2d({ filters: c1, kernelSize: 5, strides: 2, activation: 'relu', kernelInitializer: init(1), name: 'conv1' }));
  enc.add(tfl.layers.maxPooling2d({ poolSize: 3, strides: 2, name: 'pool1' }));
  enc.add(tfl.layers.conv2d({ filters: c2, kernelSize: 3, activation: 'relu', kernelInitializer: init(2), name: 'conv2' }));
  enc.add(tfl.layers.conv2d({ filters: c3, kernelSize: 3, activation: 'relu', kernelInitializer: init(3), name: 'conv3' }));
  // Last layer linear, as SiamFC's conv5: the correlation needs signed features.
  enc.add(tfl.layers.conv2d({ filters: c4, kernelSize: 3, kernelInitializer: init(4), name: 'conv4' }));
  return enc;
}

/** Inputs [exemplar [B,63,63,3], search [B,S,S,3]] in [0,1] -> score map [B, s, s, 1] (logits). */
export function buildSiamFC(cfg: SiamFCConfig = DEFAULT_SIAMFC): tfl.LayersModel {
  const encoder = createTrackingEncoder(cfg);
  const z = tfl.input({ shape: [cfg.exemplarSize, cfg.exemplarSize, 3], name: 'exemplar' });
  const x = tfl.input({ shape: [null, null, 3] as unknown as number[], name: 'search' });
  const fz = encoder.apply(z) as tfl.SymbolicTensor;
  const fx = encoder.apply(x) as tfl.SymbolicTensor;
  const score = new CrossCorrelation({ name: 'xcorr' }).apply([fz, fx]) as tfl.SymbolicTensor;
  return tfl.model({ inputs: [z, x], outputs: score, name: 'siamfc' });
}

/** The parts the tracker calls separately: the encoder (exemplar once, search every frame) and the head. */
export function splitSiamFC(model: tfl.LayersModel): { encoder: tfl.LayersModel; xcorr: CrossCorrelation } {
  const encoder = model.layers.find((l) => l.name === 'encoder');
  const xcorr = model.layers.find((l) => l instanceof CrossCorrelation);
  if (!encoder || !(encoder instanceof tfl.LayersModel) || !xcorr) {
    throw new Error('not a SiamFC model: expected an "encoder" sub-model and a CrossCorrelation layer');
  }
  return { encoder, xcorr: xcorr as CrossCorrelation };
}
