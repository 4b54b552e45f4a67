/**
 * Small real models and datasets for verification tests: an encoder that flattens its input
 * (embedding = the pixels / 255), so that distances are known in advance, and datasets of
 * generated class patterns (class c = a bright square at its own place, plus seeded noise).
 */
import * as tfl from '@tensorflow/tfjs-layers';
import { ImageDataset } from '../../src/data/dataset.js';
import { SiameseScorer } from '../../src/inference/embedder.js';
import { buildPairModel } from '../../src/models/siamese.js';
import type { ModelMetadata } from '../../src/models/metadata.js';
import { Rng } from '../../src/util/random.js';

export const SIDE = 12;

export function flattenEncoder(side = SIDE): tfl.LayersModel {
  return tfl.sequential({
    name: 'encoder',
    layers: [tfl.layers.inputLayer({ inputShape: [side, side, 1] }), tfl.layers.flatten({ name: 'flat' })],
  });
}

export function embeddingMeta(side = SIDE, extra: Partial<ModelMetadata> = {}): ModelMetadata {
  return {
    format: 'fewshot-model/1',
    method: 'protonet',
    encoder: 'flatten',
    inputShape: [side, side, 1],
    embeddingDim: side * side,
    preprocess: { height: side, width: side, channels: 1, invert: false },
    score: 'negative-distance',
    distance: 'euclidean',
    createdAt: new Date(0).toISOString(),
    ...extra,
  };
}

export function embeddingScorer(side = SIDE, extra: Partial<ModelMetadata> = {}): SiameseScorer {
  return SiameseScorer.fromModel(flattenEncoder(side), embeddingMeta(side, extra));
}

export function pairScorer(side = SIDE, extra: Partial<ModelMetadata> = {}): SiameseScorer {
  const model = buildPairModel(flattenEncoder(side), { seed: 3 });
  return SiameseScorer.fromModel(model, { ...embeddingMeta(side), method: 'pair', score: 'pair-probability', distance: undefined, ...extra } as ModelMetadata);
}

/** Pixels of one image of class `c`: a 3x3 bright square at a class-specific place, plus noise. */
export function patternImage(c: number, rng: Rng, side = SIDE, noise = 30): Uint8Array {
  const px = new Uint8Array(side * side);
  // Classes tile the image with disjoint 3x3 cells (16 distinct classes at side 12).
  const cols = Math.floor(side / 3);
  if (c >= cols * cols) throw new Error(`pattern class ${c} does not fit a ${side}x${side} image`);
  const x0 = (c % cols) * 3;
  const y0 = Math.floor(c / cols) * 3;
  for (let i = 0; i < px.length; i++) px[i] = Math.round(rng.uniform(0, noise));
  for (let y = y0; y < y0 + 3; y++) for (let x = x0; x < x0 + 3; x++) px[y * side + x] = 255 - Math.round(rng.uniform(0, noise));
  return px;
}

export function patternDataset(classes: number, perClass: number, seed: number, side = SIDE): ImageDataset {
  const rng = new Rng(seed);
  const n = classes * perClass;
  const pixels = new Uint8Array(n * side * side);
  const labels = new Int32Array(n);
  const paths: string[] = [];
  for (let c = 0; c < classes; c++) {
    for (let k = 0; k < perClass; k++) {
      const i = c * perClass + k;
      pixels.set(patternImage(c, rng, side), i * side * side);
      labels[i] = c;
      paths.push(`c${c}/${k}.png`);
    }
  }
  const classNames = Array.from({ length: classes }, (_, c) => `c${c}`);
  return new ImageDataset({ height: side, width: side, channels: 1, pixels, labels, classNames, classGroups: classNames.slice(), paths });
}
