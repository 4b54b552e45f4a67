/**
 * What the tracker learns while it runs, both off by default (SiamFC matches the first frame only):
 * - a confidence-gated template update: on frames whose score map has one sharp peak (APCE gate,
 *   confidence.ts) the features at the tracked box are blended into the target template;
 * - DaSiamRPN-style distractor-aware scoring: on the same confident frames, the secondary peaks of
 *   the map that lie outside the target are look-alikes; their features are remembered and their
 *   response subtracted from the next frames' (template_memory.ts).
 * Both need a scorer that exposes its template (`embedTemplate` / `setTemplate`).
 */
import { ConfidenceGate } from './confidence.js';
import { secondaryPeaks, type MapPeak } from './response.js';
import { TemplateMemory } from './template_memory.js';
import type { ResponseScorer, TrackerParams } from './tracker.js';

/** The online parts of TrackerParams with their defaults (everything off). */
export function onlineOptions(p: TrackerParams): Required<Pick<TrackerParams, OnlineKey>> {
  return {
    templateRate: p.templateRate ?? 0,
    updateGate: p.updateGate ?? 0,
    distractorWeight: p.distractorWeight ?? 0,
    distractorThreshold: p.distractorThreshold ?? 0.7,
    distractorDecay: p.distractorDecay ?? 0.1,
    maxDistractors: p.maxDistractors ?? 2,
  };
}

type OnlineKey = 'templateRate' | 'updateGate' | 'distractorWeight' | 'distractorThreshold' | 'distractorDecay' | 'maxDistractors';

export function isOnline(p: TrackerParams): boolean {
  const o = onlineOptions(p);
  return o.templateRate > 0 || o.distractorWeight > 0;
}

type TemplateScorer = ResponseScorer & Required<Pick<ResponseScorer, 'embedTemplate' | 'setTemplate'>>;

export class OnlineTemplate {
  private readonly opts: ReturnType<typeof onlineOptions>;
  private readonly scorer: TemplateScorer;
  private readonly gate: ConfidenceGate;
  private memory: TemplateMemory | null = null;
  private exemplarSize = 0;
  /** Frames accepted by the gate, distractors remembered (for diagnostics and tests). */
  readonly stats = { frames: 0, confident: 0, distractors: 0 };

  constructor(scorer: ResponseScorer, params: TrackerParams) {
    this.opts = onlineOptions(params);
    const { distractorThreshold, maxDistractors } = this.opts;
    if (!(distractorThreshold > 0 && distractorThreshold <= 1)) throw new Error(`distractorThreshold must be in (0, 1], got ${distractorThreshold}`);
    if (!(Number.isInteger(maxDistractors) && maxDistractors >= 0)) throw new Error(`maxDistractors must be an integer >= 0, got ${maxDistractors}`);
    if (!scorer.embedTemplate || !scorer.setTemplate) throw new Error(`scorer '${scorer.name}' cannot update its template (no embedTemplate/setTemplate); set templateRate and distractorWeight to 0`);
    this.scorer = scorer as TemplateScorer;
    this.gate = new ConfidenceGate(this.opts.updateGate);
  }

  init(crop: Float32Array, size: number): void {
    this.exemplarSize = size;
    const features = this.scorer.embedTemplate(crop, size);
    this.memory = new TemplateMemory(features, { rate: this.opts.templateRate, distractorWeight: this.opts.distractorWeight, distractorDecay: this.opts.distractorDecay });
    this.scorer.setTemplate(features);
    this.gate.reset();
    this.stats.frames = this.stats.confident = this.stats.distractors = 0;
  }

  /**
   * After a frame: `map` is the chosen scale's raw score map (size x size), `isTarget(x, y)` says
   * whether a map cell lies on the tracked box, `targetCrop()` crops the exemplar at the new box and
   * `cropAt(peak)` at a map peak. Learns only on confident frames; re-sets the scorer's template.
   */
  observe(
    map: Float32Array,
    size: number,
    isTarget: (x: number, y: number) => boolean,
    targetCrop: () => Float32Array,
    cropAt: (peak: MapPeak) => Float32Array,
  ): void {
    const memory = this.memory;
    if (!memory) throw new Error('OnlineTemplate: init before observe');
    this.stats.frames++;
    // Ageing alone leaves the template as it is (the distractor term is a weighted mean).
    memory.age();
    if (!this.gate.accept(map)) return;
    this.stats.confident++;
    const { templateRate, distractorWeight, distractorThreshold, maxDistractors } = this.opts;
    let changed = false;
    if (templateRate > 0) {
      memory.updateTarget(this.scorer.embedTemplate(targetCrop(), this.exemplarSize));
      changed = true;
    }
    if (distractorWeight > 0 && maxDistractors > 0) {
      for (const peak of secondaryPeaks(map, size, { minRelative: distractorThreshold, max: maxDistractors, exclude: isTarget })) {
        memory.addDistractor(this.scorer.embedTemplate(cropAt(peak), this.exemplarSize));
        this.stats.distractors++;
        changed = true;
      }
    }
    if (changed) this.scorer.setTemplate(memory.template());
  }
}
