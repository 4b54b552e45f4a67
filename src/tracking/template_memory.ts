/**
 * The template the tracker correlates with, as a combination of embedded crops. Cross-correlation
 * is linear in the template, so a combination of templates scores like the same combination of
 * score maps, in one correlation:
 *
 *   template = T - distractorWeight * D
 *
 * - T, the target: the first frame's features, or with an online update the running average
 *   T <- (1 - rate) T + rate * (features at the tracked box), fed only on confident frames;
 * - D, DaSiamRPN's distractor term (Zhu et al. 2018): sum_i a_i d_i / sum_i a_i over the features
 *   d_i of look-alikes found in earlier frames, each weight a_i shrinking by (1 - decay) per frame,
 *   so that the response to what looked like the target elsewhere is subtracted.
 * Plain Float32Arrays (a few thousand values): the arithmetic costs nothing next to the network.
 */
export interface TemplateMemoryOptions {
  /** Running-average rate of the target template (0: the first frame's, never updated). */
  rate: number;
  /** Weight of the distractor term (0: none). */
  distractorWeight: number;
  /** Per-frame decay of older distractors' weights, in [0, 1). */
  distractorDecay: number;
}

export class TemplateMemory {
  private readonly target: Float32Array;
  private distractorSum: Float32Array | null = null;
  private distractorMass = 0;

  constructor(
    initial: Float32Array,
    readonly opts: TemplateMemoryOptions,
  ) {
    const { rate, distractorWeight, distractorDecay } = opts;
    if (!(rate >= 0 && rate <= 1)) throw new Error(`TemplateMemory: rate must be in [0, 1], got ${rate}`);
    if (!(distractorWeight >= 0) || !Number.isFinite(distractorWeight)) throw new Error(`TemplateMemory: distractorWeight must be >= 0, got ${distractorWeight}`);
    if (!(distractorDecay >= 0 && distractorDecay < 1)) throw new Error(`TemplateMemory: distractorDecay must be in [0, 1), got ${distractorDecay}`);
    this.target = initial.slice();
  }

  /** Blends the features at the tracked box into the target template. */
  updateTarget(features: Float32Array): void {
    this.check(features);
    const r = this.opts.rate;
    for (let i = 0; i < features.length; i++) this.target[i] = (1 - r) * this.target[i]! + r * features[i]!;
  }

  /** One frame passes: older distractors count less. */
  age(): void {
    if (!this.distractorSum) return;
    const keep = 1 - this.opts.distractorDecay;
    for (let i = 0; i < this.distractorSum.length; i++) this.distractorSum[i]! *= keep;
    this.distractorMass *= keep;
  }

  addDistractor(features: Float32Array): void {
    this.check(features);
    this.distractorSum ??= new Float32Array(features.length);
    for (let i = 0; i < features.length; i++) this.distractorSum[i]! += features[i]!;
    this.distractorMass += 1;
  }

  get distractors(): number {
    return this.distractorMass;
  }

  template(): Float32Array {
    const out = this.target.slice();
    const sum = this.distractorSum;
    if (sum && this.distractorMass > 0 && this.opts.distractorWeight > 0) {
      const k = this.opts.distractorWeight / this.distractorMass;
      for (let i = 0; i < out.length; i++) out[i]! -= k * sum[i]!;
    }
    return out;
  }

  private check(features: Float32Array): void {
    if (features.length !== this.target.length) throw new Error(`TemplateMemory: ${features.length} features, the template has ${this.target.length}`);
  }
}
