/**
 * Learning-rate schedules. A schedule is a pure function of the step, so a resumed run gets
 * exactly the rate it would have had without the interruption.
 */
export type ScheduleName = 'constant' | 'step' | 'cosine';

export interface ScheduleConfig {
  name: ScheduleName;
  /** Peak learning rate (reached at the end of warm-up). */
  lr: number;
  /** Total number of steps of the run (cosine decays to `minLr` at this step). */
  totalSteps: number;
  /** Linear warm-up from lr/warmupSteps to lr over this many steps (0 = none). */
  warmupSteps?: number;
  /** 'step': multiply by `gamma` every `stepSize` steps. */
  stepSize?: number;
  gamma?: number;
  /** 'cosine': floor of the decay. */
  minLr?: number;
}

export type LearningRateSchedule = (step: number) => number;

export const SCHEDULE_NAMES: readonly ScheduleName[] = ['constant', 'step', 'cosine'];

/** Returns the learning rate for a 0-based step. */
export function createSchedule(cfg: ScheduleConfig): LearningRateSchedule {
  if (!(cfg.lr > 0) || !Number.isFinite(cfg.lr)) throw new Error(`learning rate must be a positive number, got ${cfg.lr}`);
  if (!SCHEDULE_NAMES.includes(cfg.name)) throw new Error(`unknown learning-rate schedule '${cfg.name}' (use ${SCHEDULE_NAMES.join(', ')})`);
  const warmup = Math.max(0, Math.floor(cfg.warmupSteps ?? 0));
  const total = Math.max(1, cfg.totalSteps);
  const stepSize = Math.max(1, Math.floor(cfg.stepSize ?? Math.max(1, Math.round(total / 3))));
  const gamma = cfg.gamma ?? 0.1;
  const minLr = cfg.minLr ?? 0;
  return (step: number): number => {
    if (step < warmup) return (cfg.lr * (step + 1)) / warmup;
    const t = step - warmup;
    switch (cfg.name) {
      case 'constant':
        return cfg.lr;
      case 'step':
        return cfg.lr * gamma ** Math.floor(t / stepSize);
      case 'cosine': {
        const span = Math.max(1, total - warmup);
        const progress = Math.min(1, t / span);
        return minLr + 0.5 * (cfg.lr - minLr) * (1 + Math.cos(Math.PI * progress));
      }
    }
  };
}
