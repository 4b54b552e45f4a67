/**
 * A scorer whose "encoder" is the identity (flatten): embeddings are the pixels themselves, so
 * tests know exactly which image is nearest to which without training anything.
 * Built on the verification helpers' flatten encoder; differs only in its metadata (28x28, inverted).
 */
import type { SiameseScorer } from '../../src/inference/embedder.js';
import type { ModelMetadata } from '../../src/models/metadata.js';
import { embeddingScorer } from '../verification/helpers.js';

export function identityScorer(size = 28, extra: Partial<ModelMetadata> = {}): SiameseScorer {
  return embeddingScorer(size, {
    encoder: 'identity',
    preprocess: { height: size, width: size, channels: 1, invert: true },
    ...extra,
  });
}
