/**
 * The Siamese network behind the tracker, whatever its encoder: an embedding for the exemplar
 * crop (once per sequence), one for the search crops (every frame), and the cross-correlation of
 * the two. Two kinds:
 * - `EncoderSiamNetwork`: the small encoder trained from scratch (siamfc_model.ts), the same
 *   encoder for both crops;
 * - `PretrainedSiamNetwork`: a pretrained backbone (backbone.ts) truncated at a stride-4 or -8
 *   feature map, a trained 1x1 "adjust" convolution, the exemplar feature cropped to its centre
 *   (SiamRPN++'s trick: the border cells of a zero-padded network see the padding, not the
 *   object, and break translation equivariance), and the same CrossCorrelation head. The
 *   backbone is frozen unless the config asks to fine-tune its last 1x1 convolutions at a lower
 *   learning rate (`fineTune`).
 * `model` (a standard TF.js layers model) is trained and saved; the backbone ships as vendored
 * files, plus the fine-tuned weights where there are any (model_io.ts).
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { BACKBONES, PretrainedBackbone } from '../models/pretrained_backbone.js';
import { CrossCorrelation } from './cross_correlation.js';
import { ENCODER_STRIDE, splitSiamFC } from './siamfc_model.js';

export interface SiamNetwork {
  /** Search-crop pixels per score-map cell. */
  readonly stride: number;
  /** The trained (and saved) part. */
  readonly model: tfl.LayersModel;
  /** Exemplar crops [B, E, E, 3] in [0,1] -> correlation filters. */
  embedExemplar(crops: tf.Tensor4D): tf.Tensor4D;
  /** Search crops [B, S, S, 3] in [0,1] -> feature maps. */
  embedSearch(crops: tf.Tensor4D): tf.Tensor4D;
  /** Filters [1 or B, ...] x feature maps [B, ...] -> score maps [B, s, s, 1] (logits). */
  correlate(exemplar: tf.Tensor4D, search: tf.Tensor4D): tf.Tensor4D;
  /** Trainable weights outside `model` (a fine-tuned backbone's), trained at rateFactor x the head's rate. */
  readonly fineTuned?: FineTunedWeights;
  dispose(): void;
}

export interface FineTunedWeights {
  /** By graph node name. */
  variables: Readonly<Record<string, tf.Variable>>;
  rateFactor: number;
}

/** Score maps for a batch of pairs (training and tests). */
export function scorePairs(net: SiamNetwork, exemplars: tf.Tensor4D, searches: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => net.correlate(net.embedExemplar(exemplars), net.embedSearch(searches)));
}

/**
 * Disposes a model whose layers may be applied more than once (the pretrained head's adjust layer
 * sees both crops): tfjs-layers counts each use, and the model's dispose releases only one, so
 * without the loop the shared layer's weights would leak.
 */
export function disposeModel(model: tfl.LayersModel): void {
  model.dispose();
  for (const layer of model.layers) {
    while ((layer as unknown as { _refCount: number | null })._refCount! > 0) layer.dispose();
  }
}

/** The small from-scratch SiamFC (buildSiamFC): one encoder for both crops. */
export class EncoderSiamNetwork implements SiamNetwork {
  readonly stride = ENCODER_STRIDE;
  private readonly encoder: tfl.LayersModel;
  private readonly xcorr: CrossCorrelation;

  constructor(readonly model: tfl.LayersModel) {
    ({ encoder: this.encoder, xcorr: this.xcorr } = splitSiamFC(model));
  }

  embedExemplar(crops: tf.Tensor4D): tf.Tensor4D {
    return this.encoder.apply(crops) as tf.Tensor4D;
  }

  embedSearch(crops: tf.Tensor4D): tf.Tensor4D {
    return this.encoder.apply(crops) as tf.Tensor4D;
  }

  correlate(exemplar: tf.Tensor4D, search: tf.Tensor4D): tf.Tensor4D {
    return this.xcorr.apply([exemplar, search]) as tf.Tensor4D;
  }

  dispose(): void {
    // The encoder is applied to both crops: a plain dispose would release one of its two uses.
    disposeModel(this.model);
  }
}

export interface PretrainedSiamConfig {
  kind: 'pretrained';
  /** Key of BACKBONES (backbone.ts). */
  backbone: string;
  exemplarSize: number;
  searchSize: number;
  /** Exemplar feature cells kept (centre crop, each side); the rest of the exemplar map is dropped. */
  exemplarCells: number;
  /** Output channels of the adjust layer. */
  channels: number;
  /**
   * Fine-tune the backbone's `tunable` weights (backbone.ts) at rateFactor x the head's learning
   * rate; absent: frozen.
   */
  fineTune?: { rateFactor: number };
  seed?: number;
}

export const DEFAULT_PRETRAINED: PretrainedSiamConfig = {
  kind: 'pretrained',
  backbone: 'centernet-s4',
  exemplarSize: 64,
  searchSize: 128,
  exemplarCells: 8,
  channels: 64,
};

/** Feature-map sizes and the score-map size of a pretrained configuration (checked). */
export function pretrainedGeometry(cfg: PretrainedSiamConfig): { stride: number; exemplarFeature: number; searchFeature: number; scoreSize: number } {
  const spec = BACKBONES[cfg.backbone];
  if (!spec) throw new Error(`unknown backbone '${cfg.backbone}' (known: ${Object.keys(BACKBONES).join(', ')})`);
  const { stride } = spec;
  for (const [name, size] of [['exemplarSize', cfg.exemplarSize], ['searchSize', cfg.searchSize]] as const) {
    // A multiple of 2 * stride keeps the crop centre on the centre between two feature cells for
    // both crops, so the centre score cell means "no displacement".
    if (size % (2 * stride) !== 0) throw new Error(`${name} ${size} must be a multiple of ${2 * stride} for backbone ${cfg.backbone}`);
  }
  const exemplarFeature = cfg.exemplarSize / stride;
  const searchFeature = cfg.searchSize / stride;
  const k = cfg.exemplarCells;
  if (k % 2 !== 0 || k < 2 || k > exemplarFeature) throw new Error(`exemplarCells ${k} must be even and within 2..${exemplarFeature}`);
  return { stride, exemplarFeature, searchFeature, scoreSize: searchFeature - k + 1 };
}

/** The trainable head: adjust (1x1 conv, shared) -> exemplar centre crop -> CrossCorrelation. */
export function buildPretrainedHead(cfg: PretrainedSiamConfig, inChannels: number): tfl.LayersModel {
  const { exemplarFeature } = pretrainedGeometry(cfg);
  const margin = (exemplarFeature - cfg.exemplarCells) / 2;
  const seed = cfg.seed ?? 1;
  const zf = tfl.input({ shape: [exemplarFeature, exemplarFeature, inChannels], name: 'exemplar_features' });
  const xf = tfl.input({ shape: [null, null, inChannels] as unknown as number[], name: 'search_features' });
  const adjust = tfl.layers.conv2d({ filters: cfg.channels, kernelSize: 1, name: 'adjust', kernelInitializer: tfl.initializers.heNormal({ seed }) });
  const crop = tfl.layers.cropping2D({ cropping: [[margin, margin], [margin, margin]], name: 'exemplar_centre' });
  const z = crop.apply(adjust.apply(zf)) as tfl.SymbolicTensor;
  const x = adjust.apply(xf) as tfl.SymbolicTensor;
  const score = new CrossCorrelation({ name: 'xcorr' }).apply([z, x]) as tfl.SymbolicTensor;
  return tfl.model({ inputs: [zf, xf], outputs: score, name: 'siamfc_head' });
}

export class PretrainedSiamNetwork implements SiamNetwork {
  readonly stride: number;
  readonly backbone: PretrainedBackbone;
  readonly fineTuned?: FineTunedWeights;
  private readonly adjust: tfl.layers.Layer;
  private readonly crop: tfl.layers.Layer;
  private readonly xcorr: CrossCorrelation;

  constructor(
    readonly model: tfl.LayersModel,
    readonly config: PretrainedSiamConfig,
    backbone?: PretrainedBackbone,
    /** Saved fine-tuned backbone weights (by graph node name) to start from; default: the pretrained ones. */
    tunedValues?: tf.NamedTensorMap,
  ) {
    ({ stride: this.stride } = pretrainedGeometry(config));
    this.backbone = backbone ?? new PretrainedBackbone(BACKBONES[config.backbone]!);
    if (config.fineTune) {
      if (!this.backbone.spec.tunable) throw new Error(`backbone ${config.backbone} has no tunable weights to fine-tune`);
      this.backbone.fineTune(this.backbone.spec.tunable, tunedValues);
      this.fineTuned = { variables: this.backbone.tunedWeights, rateFactor: config.fineTune.rateFactor };
    } else if (tunedValues && Object.keys(tunedValues).length > 0) {
      throw new Error('fine-tuned backbone weights given for a config without fineTune');
    }
    const find = (name: string) => {
      const l = model.layers.find((x) => x.name === name);
      if (!l) throw new Error(`not a pretrained SiamFC head: no '${name}' layer`);
      return l;
    };
    this.adjust = find('adjust');
    this.crop = find('exemplar_centre');
    const xcorr = model.layers.find((l) => l instanceof CrossCorrelation);
    if (!xcorr) throw new Error('not a pretrained SiamFC head: no CrossCorrelation layer');
    this.xcorr = xcorr as CrossCorrelation;
  }

  static create(config: PretrainedSiamConfig): PretrainedSiamNetwork {
    const backbone = new PretrainedBackbone(BACKBONES[config.backbone]!);
    return new PretrainedSiamNetwork(buildPretrainedHead(config, backbone.channels()), config, backbone);
  }

  embedExemplar(crops: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => this.crop.apply(this.adjust.apply(this.backbone.features(crops))) as tf.Tensor4D);
  }

  embedSearch(crops: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => this.adjust.apply(this.backbone.features(crops)) as tf.Tensor4D);
  }

  correlate(exemplar: tf.Tensor4D, search: tf.Tensor4D): tf.Tensor4D {
    return this.xcorr.apply([exemplar, search]) as tf.Tensor4D;
  }

  /**
   * Data-dependent initialisation (as LSUV): scales the adjust layer so that its outputs on these
   * exemplar crops have unit variance, and the correlation so that the initial logits are O(1).
   * The backbone's raw activations are far from unit scale, and the correlation sums
   * cells^2 * channels products.
   */
  calibrate(exemplarCrops: tf.Tensor4D): void {
    const std = tf.tidy(() => tf.sqrt(tf.moments(this.embedExemplar(exemplarCrops)).variance).dataSync()[0]!);
    if (!(std > 0) || !Number.isFinite(std)) throw new Error(`calibrate: adjust-layer output has std ${std}`);
    const k = this.config.exemplarCells;
    tf.tidy(() => {
      const [kernel, bias] = this.adjust.getWeights();
      this.adjust.setWeights([tf.div(kernel!, std), tf.div(bias!, std)]);
      const [scale, b] = this.xcorr.getWeights();
      this.xcorr.setWeights([tf.fill(scale!.shape, 1 / (k * k * this.config.channels)), tf.zerosLike(b!)]);
    });
  }

  dispose(): void {
    disposeModel(this.model);
    this.backbone.dispose();
  }
}
