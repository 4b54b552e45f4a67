/**
 * Cross-correlation of an exemplar feature map with a search feature map: the exemplar feature is
 * used as the convolution filter (`tf.conv2d`), so every position of the search map gets the inner
 * product of the exemplar with the window there. Each pair has its own filter, so the batch is
 * convolved pair by pair; a single exemplar against a batch of searches (the scale pyramid at
 * tracking time) is one conv2d call.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

/**
 * exemplar [B or 1, h, w, C], search [B, H, W, C] -> score [B, H-h+1, W-w+1, 1]. With one exemplar
 * it is broadcast over the search batch.
 */
export function crossCorrelate(exemplar: tf.Tensor4D, search: tf.Tensor4D): tf.Tensor4D {
  const [bz, h, w, c] = exemplar.shape;
  const [bx, , , cx] = search.shape;
  if (c !== cx) throw new Error(`crossCorrelate: exemplar has ${c} channels, search has ${cx}`);
  if (bz !== 1 && bz !== bx) throw new Error(`crossCorrelate: ${bz} exemplars for ${bx} search maps (need 1 or equal)`);
  if (h > search.shape[1] || w > search.shape[2]) {
    throw new Error(`crossCorrelate: exemplar ${h}x${w} larger than search ${search.shape[1]}x${search.shape[2]}`);
  }
  return tf.tidy(() => {
    if (bz === 1) return tf.conv2d(search, tf.reshape(exemplar, [h, w, c, 1]) as tf.Tensor4D, 1, 'valid');
    const zs = tf.unstack(exemplar);
    const xs = tf.split(search, bx, 0) as tf.Tensor4D[];
    const maps = zs.map((z, i) => tf.conv2d(xs[i]!, tf.reshape(z, [h, w, c, 1]) as tf.Tensor4D, 1, 'valid'));
    return tf.concat(maps, 0);
  });
}

export interface CrossCorrelationArgs {
  /** Initial multiplier of the raw correlation (SiamFC's "adjust" layer: 1e-3). */
  scaleInit?: number;
  name?: string;
}

/**
 * Layer form: inputs [exemplarFeatures, searchFeatures] -> score map, times a learned scale plus a
 * learned bias, so that the raw inner products (sums over h*w*C terms) land where the logistic
 * loss has useful gradients.
 */
export class CrossCorrelation extends tfl.layers.Layer {
  static className = 'CrossCorrelation';
  private readonly scaleInit: number;
  private scale!: tfl.LayerVariable;
  private bias!: tfl.LayerVariable;

  constructor(args: CrossCorrelationArgs = {}) {
    super({ name: args.name });
    this.scaleInit = args.scaleInit ?? 1e-3;
  }

  override build(inputShape: tfl.Shape | tfl.Shape[]): void {
    this.scale = this.addWeight('scale', [1], 'float32', tfl.initializers.constant({ value: this.scaleInit }));
    this.bias = this.addWeight('bias', [1], 'float32', tfl.initializers.zeros());
    this.built = true;
    void inputShape;
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape {
    const [z, x] = inputShape as tfl.Shape[];
    const out = (big: number | null | undefined, small: number | null | undefined) =>
      big == null || small == null ? null : big - small + 1;
    return [x![0] ?? null, out(x![1], z![1]), out(x![2], z![2]), 1];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const [z, x] = inputs as tf.Tensor4D[];
      if (!z || !x) throw new Error('CrossCorrelation expects [exemplarFeatures, searchFeatures]');
      const raw = crossCorrelate(z, x);
      return tf.add(tf.mul(raw, this.scale.read()), this.bias.read());
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), scaleInit: this.scaleInit };
  }
}
tf.serialization.registerClass(CrossCorrelation);
