/**
 * Cosine-similarity classifier head (Gidaris & Komodakis 2018; "Baseline++" in Chen et al. 2019,
 * "A Closer Look at Few-shot Classification"): logits = scale * cos(embedding, class weight).
 * Normalising both sides makes the pre-trained embedding one whose class structure is angular,
 * which is what nearest-prototype scoring by cosine (or fine-tuning with prototypes) uses next;
 * Chen et al. found it ahead of a plain linear head with shallow (conv4) backbones.
 * A registered layer (no Lambda), so training checkpoints and saved pair-free models round-trip.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { LayerArgs } from '@tensorflow/tfjs-layers/dist/engine/topology.js';
import type { LayerVariable } from '@tensorflow/tfjs-layers/dist/variables.js';

export interface CosineClassifierArgs extends LayerArgs {
  /** Number of classes. */
  units: number;
  /** Initial logit scale (the softmax temperature's inverse); learnt. Default 10. */
  scale?: number;
  seed?: number;
}

/** logits = scale * normalize(x) . normalize(W): a softmax classifier over cosine similarities with a learnt scale. */
export class CosineClassifier extends tfl.layers.Layer {
  static readonly className = 'CosineClassifier';
  readonly units: number;
  readonly initialScale: number;
  private readonly seed: number | undefined;
  private kernel!: LayerVariable;
  private scaleVar!: LayerVariable;

  constructor(args: CosineClassifierArgs) {
    super(args);
    if (!Number.isInteger(args.units) || args.units < 2) throw new Error(`CosineClassifier: units must be an integer >= 2, got ${args.units}`);
    const scale = args.scale ?? 10;
    if (!(scale > 0)) throw new Error(`CosineClassifier: scale must be > 0, got ${scale}`);
    this.units = args.units;
    this.initialScale = scale;
    this.seed = args.seed;
  }

  override build(inputShape: tfl.Shape | tfl.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tfl.Shape;
    const dim = shape[shape.length - 1];
    if (shape.length !== 2 || typeof dim !== 'number') throw new Error(`CosineClassifier expects [batch, dim] inputs, got [${shape}]`);
    const init = tfl.initializers.glorotUniform(this.seed !== undefined ? { seed: this.seed } : {});
    this.kernel = this.addWeight('kernel', [dim, this.units], 'float32', init);
    this.scaleVar = this.addWeight('scale', [1], 'float32', tfl.initializers.constant({ value: this.initialScale }));
    this.built = true;
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tfl.Shape;
    return [shape[0] ?? null, this.units];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0]! : inputs;
      const eps = 1e-12;
      const xn = tf.div(x, tf.sqrt(tf.add(tf.sum(tf.square(x), 1, true), eps)));
      const w = this.kernel.read();
      const wn = tf.div(w, tf.sqrt(tf.add(tf.sum(tf.square(w), 0, true), eps)));
      return tf.mul(tf.matMul(xn, wn), this.scaleVar.read());
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), units: this.units, scale: this.initialScale, ...(this.seed !== undefined ? { seed: this.seed } : {}) };
  }
}

tf.serialization.registerClass(CosineClassifier);
