/**
 * The report's plots, as Vega-Lite specs rendered to SVG strings in Node (vega's headless
 * `renderer: 'none'` + toSVG): no browser, no canvas, no network, so the SVG can be inlined
 * into a self-contained HTML page.
 */
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import type { RocPoint } from '../verification/metrics.js';

/** Renders a Vega-Lite spec to an SVG string suitable for inlining in HTML. */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    const svg = await view.toSVG();
    // Inline SVG in HTML needs no namespace declarations; dropping them leaves the page with
    // no URL at all, which makes "opens without network" easy to check.
    return svg.replace(/\s+xmlns(:xlink)?="[^"]*"/g, '');
  } finally {
    view.finalize();
  }
}

const COLORS = { genuine: '#1b9e77', impostor: '#d95f02' };

/** At most `max` points, always keeping the first and last (SVG size stays small). */
function thin<T>(points: readonly T[], max: number): T[] {
  if (points.length <= max) return points.slice();
  const step = (points.length - 1) / (max - 1);
  return Array.from({ length: max }, (_, i) => points[Math.round(i * step)]!);
}

export interface RocChartOptions {
  title?: string;
  /** Marked on the curve: the equal error rate. */
  eer?: number;
  /** Operating point of the model's threshold. */
  operatingPoint?: { far: number; tar: number; label: string };
}

/** ROC curve: TAR against FAR, with the chance diagonal and the EER / threshold points. */
export function rocSpec(roc: readonly RocPoint[], opts: RocChartOptions = {}): TopLevelSpec {
  const curve = thin(roc, 800).map((p) => ({ far: p.far, tar: p.tar }));
  const marks: { far: number; tar: number; label: string }[] = [];
  if (opts.eer !== undefined && Number.isFinite(opts.eer)) marks.push({ far: opts.eer, tar: 1 - opts.eer, label: `EER ${(opts.eer * 100).toFixed(1)}%` });
  const op = opts.operatingPoint;
  const eerMark = marks[0];
  if (op && eerMark && Math.abs(op.far - eerMark.far) < 0.03 && Math.abs(op.tar - eerMark.tar) < 0.03) {
    // A threshold calibrated at the EER sits on the EER point: one mark, one label, not two labels drawn over each other.
    eerMark.label = op.label.includes('EER') ? op.label : `${eerMark.label}; ${op.label}`;
  } else if (op) {
    marks.push(op);
  }
  const x = { field: 'far', type: 'quantitative' as const, title: 'false accept rate (impostors accepted)', scale: { domain: [0, 1] } };
  const y = { field: 'tar', type: 'quantitative' as const, title: 'true accept rate (genuine accepted)', scale: { domain: [0, 1] } };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: opts.title ?? 'ROC curve',
    width: 380,
    height: 380,
    layer: [
      { data: { values: [{ far: 0, tar: 0 }, { far: 1, tar: 1 }] }, mark: { type: 'line', strokeDash: [4, 4], color: '#999' }, encoding: { x, y } },
      { data: { values: curve }, mark: { type: 'line', color: '#3366cc', strokeWidth: 2, interpolate: 'linear' }, encoding: { x, y, order: { field: 'far' } } },
      { data: { values: marks }, mark: { type: 'point', filled: true, size: 70, color: '#000' }, encoding: { x, y } },
      { data: { values: marks }, mark: { type: 'text', align: 'left', dx: 8, dy: 10, fontSize: 11 }, encoding: { x, y, text: { field: 'label' } } },
    ],
  };
}

export interface HistogramOptions {
  title?: string;
  /** Axis title, e.g. "probability (higher = same)". */
  scoreLabel: string;
  /** Decision threshold, in the same units as the scores. */
  threshold?: number;
  thresholdLabel?: string;
  bins?: number;
  /** Legend names of the two sets (default 'genuine' and 'impostor'). */
  genuineName?: string;
  impostorName?: string;
}

/**
 * Genuine and impostor score distributions (each normalised to its own count, since impostor
 * pairs usually outnumber genuine ones many times) with the threshold as a vertical rule.
 */
export function scoreHistogramSpec(genuine: ArrayLike<number>, impostor: ArrayLike<number>, opts: HistogramOptions): TopLevelSpec {
  const all = [...Array.from(genuine), ...Array.from(impostor)];
  if (all.length === 0) throw new Error('score histogram needs at least one score');
  let lo = Math.min(...all);
  let hi = Math.max(...all);
  if (opts.threshold !== undefined && Number.isFinite(opts.threshold)) {
    lo = Math.min(lo, opts.threshold);
    hi = Math.max(hi, opts.threshold);
  }
  if (hi === lo) hi = lo + 1;
  const nb = opts.bins ?? 40;
  const width = (hi - lo) / nb;
  const rows: { set: string; start: number; end: number; fraction: number }[] = [];
  for (const [set, values] of [[opts.genuineName ?? 'genuine', genuine], [opts.impostorName ?? 'impostor', impostor]] as const) {
    const counts = new Array<number>(nb).fill(0);
    for (let i = 0; i < values.length; i++) counts[Math.min(nb - 1, Math.floor((values[i]! - lo) / width))]!++;
    counts.forEach((c, b) => rows.push({ set: `${set} (${values.length})`, start: lo + b * width, end: lo + (b + 1) * width, fraction: values.length ? c / values.length : 0 }));
  }
  const bars = {
    data: { values: rows },
    mark: { type: 'rect' as const, opacity: 0.55 },
    encoding: {
      x: { field: 'start', type: 'quantitative' as const, title: opts.scoreLabel, scale: { domain: [lo, hi], nice: false } },
      x2: { field: 'end' },
      y: { field: 'fraction', type: 'quantitative' as const, title: 'fraction of pairs', stack: null },
      color: {
        field: 'set', type: 'nominal' as const, title: null,
        scale: { range: [COLORS.genuine, COLORS.impostor] },
        legend: { orient: 'top' as const },
      },
    },
  };
  const layer: unknown[] = [bars];
  if (opts.threshold !== undefined && Number.isFinite(opts.threshold)) {
    const t = [{ t: opts.threshold, label: opts.thresholdLabel ?? `threshold ${opts.threshold.toPrecision(4)}` }];
    layer.push({ data: { values: t }, mark: { type: 'rule', color: '#000', strokeWidth: 2, strokeDash: [6, 3] }, encoding: { x: { field: 't', type: 'quantitative' } } });
    layer.push({
      data: { values: t },
      mark: { type: 'text', align: 'left', baseline: 'top', dx: 4, dy: 4, fontSize: 11 },
      encoding: { x: { field: 't', type: 'quantitative' }, y: { value: 0 }, text: { field: 'label' } },
    });
  }
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: opts.title ?? 'Genuine and impostor scores',
    width: 480,
    height: 260,
    layer,
  } as TopLevelSpec;
}

/** Numeric fields of a training log other than the step counter, as long-format rows. */
export function trainingCurveRows(records: readonly Record<string, unknown>[]): { step: number; metric: string; value: number }[] {
  const rows: { step: number; metric: string; value: number }[] = [];
  for (const r of records) {
    const step = r.step;
    if (typeof step !== 'number' || !Number.isFinite(step)) continue;
    for (const [k, v] of Object.entries(r)) {
      // Bookkeeping, not learning: time, epoch counter, live-tensor count (a leak check); a
      // confidence half-width (valCi95) is the error bar of valAccuracy, not a curve of its own.
      if (k === 'step' || k === 'elapsed' || k === 'epoch' || k === 'tensors' || /ci95$/i.test(k)) continue;
      if (typeof v === 'number' && Number.isFinite(v)) rows.push({ step, metric: k, value: v });
    }
  }
  return rows;
}

/** One small line chart per logged metric (loss, learning rate, validation accuracy...). */
export function trainingCurvesSpec(records: readonly Record<string, unknown>[], title = 'Training curves'): TopLevelSpec | null {
  const rows = trainingCurveRows(records);
  if (rows.length === 0) return null;
  const metrics = [...new Set(rows.map((r) => r.metric))];
  const perMetric = Math.max(1, Math.floor(1500 / metrics.length));
  const byMetric = metrics.flatMap((m) => thin(rows.filter((r) => r.metric === m), perMetric));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title,
    data: { values: byMetric },
    facet: { row: { field: 'metric', type: 'nominal', title: null, header: { labelAngle: 0, labelAlign: 'left' } } },
    spec: {
      width: 520,
      height: 110,
      mark: { type: 'line', point: byMetric.length / metrics.length < 40 },
      encoding: {
        x: { field: 'step', type: 'quantitative', title: 'step' },
        y: { field: 'value', type: 'quantitative', title: null, scale: { zero: false } },
      },
    },
    resolve: { scale: { y: 'independent' } },
  } as TopLevelSpec;
}
