/**
 * A scorer whose "encoder" is the identity (flatten): embeddings are the pixels themselves, so
 * tests know exactly which image is nearest to which without training anything.
 */
import * as tfl from '@tensorflow/tfjs-layers';
import { SiameseScorer } from '../../src/inference/embedder.js';
import type { ModelMetadata } from '../../src/models/metadata.js';

export function identityScorer(size = 28, extra: Partial<ModelMetadata> = {}): SiameseScorer {
  const model = tfl.sequential({ name: 'encoder', layers: [tfl.layers.flatten({ inputShape: [size, size, 1] })] });
  const meta: ModelMetadata = {
    format: 'fewshot-model/1',
    method: 'protonet',
    encoder: 'identity',
    inputShape: [size, size, 1],
    embeddingDim: size * size,
    preprocess: { height: size, width: size, channels: 1, invert: true },
    score: 'negative-distance',
    distance: 'euclidean',
    createdAt: new Date(0).toISOString(),
    ...extra,
  };
  return SiameseScorer.fromModel(model, meta);
}
