/**
 * Checks a training plan against the data before step 1, so that a small dataset fails in a
 * second, naming the option and its limit, instead of at the first validation (or after the
 * whole run). Validation settings that cannot be met are lowered with a warning; training
 * settings that cannot be met are errors (a silently smaller episode would train another model
 * than the one asked for).
 */
import type { ImageDataset } from '../data/image_dataset.js';
import type { MethodName, MethodOptions } from './methods/method.js';

/** A training plan to check against the data: the method, its batch shape and the validation episodes. */
export interface PlanToCheck {
  method: MethodName;
  methodOptions: MethodOptions;
  validation: { way: number; alsoWays: number[]; shot: number; query: number } | null;
}

/** The validation settings to use after the check, and the warnings to show. */
export interface PlanCheck {
  /** The validation way to use (lowered when the validation split is too small). */
  validationWay: number;
  validationAlsoWays: number[];
  warnings: string[];
}

/** Number of classes with at least `n` images. */
function classesWithAtLeast(ds: ImageDataset, n: number): number {
  return ds.indicesByClass().filter((c) => c.length >= n).length;
}

function describeSplit(ds: ImageDataset, what: string): string {
  const sizes = ds.indicesByClass().map((c) => c.length);
  const fewest = sizes.length ? Math.min(...sizes) : 0;
  return `the ${what} split has ${ds.numClasses} classes (the smallest with ${fewest} images)`;
}

/** Throws an Error naming the option and its limit when `train` cannot feed the method; adjusts validation. */
export function checkTrainingPlan(train: ImageDataset, validation: ImageDataset | null, plan: PlanToCheck): PlanCheck {
  const o = plan.methodOptions;
  const split = describeSplit(train, 'training');
  const mined = plan.method === 'contrastive' || (plan.method === 'triplet' && (o.miner ?? 'semi-hard') !== 'none');
  if (plan.method === 'protonet') {
    const need = o.shot + o.query;
    const usable = classesWithAtLeast(train, need);
    if (usable < o.way) {
      const sizes = train.indicesByClass().map((c) => c.length).sort((a, b) => b - a);
      const fixes: string[] = [];
      if (usable >= 2) fixes.push(`--way ${usable} or fewer`);
      const wayth = sizes[o.way - 1];
      if (wayth !== undefined && wayth >= 2) fixes.push(`--shot + --query at most ${wayth}`);
      if (fixes.length === 0) fixes.push(`--way ${Math.max(2, Math.min(o.way, train.numClasses))} with --shot 1 --query 1, or more data`);
      const fix = `use ${fixes.join(', or ')}`;
      throw new Error(
        `--way ${o.way} needs ${o.way} training classes with at least --shot + --query = ${need} images each; ` +
          `${split}, ${usable} of them with ${need} images: ${fix}`,
      );
    }
  } else if (mined) {
    const usable = classesWithAtLeast(train, 2);
    if (usable < o.classesPerBatch) {
      throw new Error(
        `--classes-per-batch ${o.classesPerBatch} needs ${o.classesPerBatch} training classes with at least 2 images each; ` +
          `${split}, ${usable} of them with 2 images: use --classes-per-batch ${Math.max(2, usable)} or fewer`,
      );
    }
  } else {
    if (train.numClasses < 2) throw new Error(`--method ${plan.method} needs at least 2 training classes; ${split}`);
    if (classesWithAtLeast(train, 2) === 0) throw new Error(`--method ${plan.method} needs a training class with at least 2 images (a same-class pair); ${split}`);
  }

  const warnings: string[] = [];
  if (!validation || !plan.validation) return { validationWay: plan.validation?.way ?? 0, validationAlsoWays: plan.validation?.alsoWays ?? [], warnings };
  const v = plan.validation;
  const need = v.shot + v.query;
  const usable = classesWithAtLeast(validation, need);
  if (usable < 2) {
    throw new Error(
      `validation needs at least 2 held-out classes with ${need} images (1 support + --val-query ${v.query}); ` +
        `${describeSplit(validation, 'validation')}: hold out more classes (--val-fraction, --val-groups), or train without validation (--val-fraction 0)`,
    );
  }
  let way = v.way;
  if (way > usable) {
    warnings.push(`--val-way ${way} lowered to ${usable}: the validation split has only ${usable} classes with ${need} images`);
    way = usable;
  }
  const also = v.alsoWays.filter((w) => w !== way && w <= usable);
  const dropped = v.alsoWays.filter((w) => w > usable);
  if (dropped.length) warnings.push(`--val-also-ways ${dropped.join(',')} left out: the validation split has only ${usable} classes with ${need} images`);
  if (usable < 5) warnings.push(`only ${usable} validation classes: model selection by ${way}-way accuracy will be noisy`);
  return { validationWay: way, validationAlsoWays: [...new Set(also)], warnings };
}
