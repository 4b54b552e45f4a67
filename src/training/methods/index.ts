/** Training methods by name. */
import type * as tfl from '@tensorflow/tfjs-layers';
import { ClassifierMethod } from './classifier.js';
import { ContrastiveMethod } from './contrastive.js';
import { METHOD_NAMES, type MethodName, type MethodOptions, type TrainingMethod } from './method.js';
import { PairMethod } from './pair.js';
import { ProtonetMethod } from './protonet.js';
import { TripletMethod } from './triplet.js';

/** The training method (sampling + loss) for `name`: 'pair', 'contrastive', 'triplet', 'protonet' or 'classifier', around an encoder. */
export function createMethod(name: MethodName | string, encoder: tfl.LayersModel, opts: MethodOptions): TrainingMethod {
  switch (name) {
    case 'pair':
      return new PairMethod(encoder, opts) as TrainingMethod;
    case 'contrastive':
      return new ContrastiveMethod(encoder, opts) as TrainingMethod;
    case 'triplet':
      return new TripletMethod(encoder, opts) as TrainingMethod;
    case 'protonet':
      return new ProtonetMethod(encoder, opts) as TrainingMethod;
    case 'classifier':
      return new ClassifierMethod(encoder, opts) as TrainingMethod;
    default:
      throw new Error(`unknown training method '${name}' (use ${METHOD_NAMES.join(', ')})`);
  }
}
