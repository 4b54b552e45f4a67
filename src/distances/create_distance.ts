/** Distance by name, as written in a model's metadata or on the command line. */
import type { Distance, DistanceName } from './distance.js';
import { EuclideanDistance } from './euclidean_distance.js';
import { SqEuclideanDistance } from './sq_euclidean_distance.js';
import { CosineDistance } from './cosine_distance.js';

export const DISTANCE_NAMES: readonly DistanceName[] = ['euclidean', 'sqeuclidean', 'cosine'];

/** The distance named 'euclidean', 'sqeuclidean' or 'cosine'. */
export function createDistance(name: DistanceName | string): Distance {
  switch (name) {
    case 'euclidean':
      return new EuclideanDistance();
    case 'sqeuclidean':
      return new SqEuclideanDistance();
    case 'cosine':
      return new CosineDistance();
    default:
      throw new Error(`unknown distance '${name}' (expected one of: ${DISTANCE_NAMES.join(', ')})`);
  }
}
