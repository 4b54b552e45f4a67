/**
 * Summary statistics of per-episode accuracies. The 95% interval is the normal approximation
 * used throughout the few-shot literature: 1.96 * sample standard deviation / sqrt(episodes).
 */
export interface MeanWithCi {
  mean: number;
  /** Half-width of the 95% confidence interval (0 for fewer than two values). */
  ci95: number;
  std: number;
  n: number;
}

/** Mean and 95% confidence half-width (1.96 standard errors) of per-episode accuracies. */
export function meanWithCi95(values: readonly number[]): MeanWithCi {
  const n = values.length;
  if (n === 0) throw new Error('cannot summarise zero values');
  for (const v of values) if (!Number.isFinite(v)) throw new Error(`non-finite value ${v} in accuracies`);
  const mean = values.reduce((a, b) => a + b, 0) / n;
  if (n < 2) return { mean, ci95: 0, std: 0, n };
  const variance = values.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1);
  const std = Math.sqrt(variance);
  return { mean, ci95: (1.96 * std) / Math.sqrt(n), std, n };
}
