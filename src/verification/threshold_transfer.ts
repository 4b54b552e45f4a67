/**
 * A threshold for a model trained on every class it could be calibrated on (a final model trained
 * on all the data). Its scores on classes it has seen are more separated than they will be on new
 * classes, so a threshold calibrated on them accepts too many impostors. A reference model that
 * held some classes out has both numbers: its threshold on the classes it never saw, and the same
 * operating point on classes both models trained on. The final model gets the reference's threshold
 * moved by how far its own operating point on those shared classes sits from the reference's:
 *
 *   t_model = t_reference(held-out) + [p_model(shared) - p_reference(shared)]
 *
 * The assumption, stated in the threshold's source: the gap between seen and unseen classes is the
 * same for both models (they share recipes and differ in how much data they saw).
 */
import type { StoredThreshold } from './score_kind.js';
import { calibrateThreshold } from './threshold.js';

export interface SharedClassScores {
  genuine: ArrayLike<number>;
  impostor: ArrayLike<number>;
}

export interface TransferredThreshold {
  threshold: StoredThreshold;
  /** The FAR-target point of the reference on the shared classes. */
  referenceShared: number;
  /** The same point of the model. */
  modelShared: number;
}

/**
 * @param reference the reference's stored threshold (calibrated at FAR `far` on classes it never
 *   saw) and its scores on pairs of the shared classes
 * @param model the model's scores on the same pairs
 * @param what names the reference and the shared classes, for the threshold's `source`
 */
export function transferThreshold(
  reference: { threshold: StoredThreshold; shared: SharedClassScores },
  model: { shared: SharedClassScores },
  what: string,
): TransferredThreshold {
  const far = reference.threshold.far;
  if (far === undefined || !(far > 0 && far < 1)) {
    throw new Error(`the reference threshold has no FAR target (${JSON.stringify(reference.threshold)}): only a FAR-calibrated threshold can be carried over`);
  }
  if (!Number.isFinite(reference.threshold.value)) throw new Error(`the reference threshold is not a number: ${reference.threshold.value}`);
  const referenceShared = calibrateThreshold(reference.shared.genuine, reference.shared.impostor, far, what).threshold.value;
  const modelShared = calibrateThreshold(model.shared.genuine, model.shared.impostor, far, what).threshold.value;
  const value = reference.threshold.value + (modelShared - referenceShared);
  return {
    threshold: {
      value,
      source:
        `far ${far} carried over from ${what}: the reference's ${reference.threshold.value.toFixed(4)} on classes it never saw, ` +
        `moved by this model's FAR-${far} point minus the reference's on classes both trained on (${modelShared.toFixed(4)} - ${referenceShared.toFixed(4)}; ` +
        `${model.shared.genuine.length} genuine / ${model.shared.impostor.length} impostor pairs)`,
      far,
    },
    referenceShared,
    modelShared,
  };
}
