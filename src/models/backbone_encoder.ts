/**
 * A pretrained backbone as a fixed embedding, with nothing trained: the feature map at one node
 * of a vendored graph model (pretrained_backbone.ts), average-pooled over a coarse grid of the
 * input (keeps where things are, roughly: left or right half, top or bottom), signed square root
 * (tames the few large activations), L2-normalised. Such a model directory is fewshot.json
 * alone: `encoder: "backbone"` and the `backbone` settings; the graph comes from models/backbones/.
 *
 * Why: on signatures, 30 writers are too few to learn features that transfer (docs/signatures.md);
 * COCO features, frozen, score as well as any encoder trained on them, and cannot overfit them.
 */
import * as tf from '@tensorflow/tfjs-core';
import { BACKBONES, PretrainedBackbone } from './pretrained_backbone.js';
import type { Encoder } from '../inference/encoder_runner.js';

/** The `encoder` name of such models in fewshot.json. */
export const BACKBONE_ENCODER = 'backbone';

/** fewshot.json `backbone`: what the encoder computes. */
export interface BackboneEncoderConfig {
  /** A key of BACKBONES (e.g. 'centernet-s16'): graph, node, stride, input scale. */
  spec: string;
  /** Average-pooling cells [rows, columns] over the feature map; embedding = rows * columns * channels. */
  grid: [number, number];
  /**
   * Inputs hold bright ink on 0 (the ink preprocessing's inverted canvas); the graph was trained
   * on photographs, so the encoder shows it dark ink on white paper.
   */
  darkOnWhite: boolean;
}

/** Checks a fewshot.json `backbone` object; the message names the offending field. */
export function validateBackboneConfig(value: unknown, where: string): BackboneEncoderConfig {
  const c = value as Partial<BackboneEncoderConfig> | null;
  const fail = (why: string): never => { throw new Error(`${where}: 'backbone' ${why}`); };
  if (typeof c !== 'object' || c === null) fail('must be an object { spec, grid, darkOnWhite }');
  if (typeof c!.spec !== 'string' || !(c!.spec in BACKBONES)) fail(`spec must be one of ${Object.keys(BACKBONES).join(', ')}, got ${JSON.stringify(c!.spec)}`);
  const g = c!.grid;
  if (!Array.isArray(g) || g.length !== 2 || !g.every((x) => Number.isInteger(x) && x >= 1 && x <= 16)) fail(`grid must be [rows, columns], integers 1..16, got ${JSON.stringify(g)}`);
  if (typeof c!.darkOnWhite !== 'boolean') fail('darkOnWhite must be true or false');
  return { spec: c!.spec!, grid: [g![0]!, g![1]!], darkOnWhite: c!.darkOnWhite! };
}

/** Embedding size for inputs of `height` x `width`: grid cells times the node's channels. */
export function backboneEmbeddingDim(encoder: Encoder, height: number, width: number, channels: number): number {
  return tf.tidy(() => (encoder.predict(tf.zeros([1, height, width, channels])) as tf.Tensor).shape[1]!);
}

/**
 * The encoder: [n, h, w, 1 or 3] in [0, 1] -> [n, rows * columns * channels], unit length. The
 * feature map must have at least `rows` x `columns` cells (an input of at least stride x grid
 * pixels); cells that do not divide evenly leave the last rows / columns out, as a valid pooling does.
 */
export function backboneEncoder(config: BackboneEncoderConfig): Encoder {
  const spec = BACKBONES[config.spec];
  if (!spec) throw new Error(`unknown backbone '${config.spec}' (known: ${Object.keys(BACKBONES).join(', ')})`);
  const backbone = new PretrainedBackbone(spec);
  return {
    predict: (x) => tf.tidy(() => {
      if (x.rank !== 4) throw new Error(`backbone encoder: expected [n, height, width, channels] inputs, got shape [${x.shape.join(', ')}]`);
      let rgb = x as tf.Tensor4D;
      if (config.darkOnWhite) rgb = tf.sub(1, rgb);
      if (rgb.shape[3] === 1) rgb = tf.tile(rgb, [1, 1, 1, 3]);
      const map = backbone.features(rgb);
      const [rows, cols] = config.grid;
      if (map.shape[1] < rows || map.shape[2] < cols) throw new Error(`backbone encoder: a ${x.shape[1]}x${x.shape[2]} input gives a ${map.shape[1]}x${map.shape[2]} feature map, fewer cells than the ${rows}x${cols} grid`);
      return poolFeatureMap(map, config.grid);
    }),
  };
}

/**
 * A feature map [n, h, w, c] -> embeddings [n, rows * columns * c]: average pooling over the grid,
 * signed square root, L2 normalisation. `epsilon` > 0 keeps the square root differentiable at 0
 * (fine-tuning); the shipped encoder uses 0.
 */
export function poolFeatureMap(map: tf.Tensor4D, [rows, cols]: [number, number], epsilon = 0): tf.Tensor2D {
  return tf.tidy(() => {
    const [n, fh, fw, ch] = map.shape;
    const ph = Math.floor(fh / rows);
    const pw = Math.floor(fw / cols);
    if (ph < 1 || pw < 1) throw new Error(`poolFeatureMap: a ${fh}x${fw} feature map has fewer cells than the ${rows}x${cols} grid`);
    const cells = tf.avgPool(tf.slice(map, [0, 0, 0, 0], [n, ph * rows, pw * cols, ch]), [ph, pw], [ph, pw], 'valid');
    const flat = tf.reshape(cells, [n, rows * cols * ch]);
    const magnitude = epsilon > 0 ? tf.add(tf.abs(flat), epsilon) : tf.abs(flat);
    const powered = tf.mul(tf.sign(flat), tf.sqrt(magnitude));
    return tf.div(powered, tf.maximum(tf.norm(powered, 'euclidean', 1, true), 1e-12));
  });
}
