/**
 * OTB-style evaluation of one or more learned trackers and the NCC baseline over a set of
 * sequences, in one pass over the frames (each frame decoded once), with a frame strip per
 * sequence for the report. Per tracker: success AUC, precision at 20 px, failures (frames with
 * IoU 0) and fps.
 */
import type { Box } from './boxes.js';
import type { Image } from './data_access.js';
import { annotatedFrame, hstack, stripIndices, TRACKER_COLORS, type Rgb } from './draw.js';
import type { CurvePoint } from './metrics.js';
import { runTrackers, type SequenceRun, type TrackerSpec } from './run.js';
import { NccScorer } from './scorers.js';
import type { TrackingSequence } from './sequence.js';
import type { ResponseScorer, TrackerParams } from './tracker.js';

export interface SequenceSummary {
  auc: number;
  precision20: number;
  failures: number;
  fps: number;
  frames: number;
}

export interface TrackerSummary {
  meanAuc: number;
  meanPrecision20: number;
  /** Frames with IoU 0, all sequences together. */
  failures: number;
  /** Frames over tracking seconds, all sequences together. */
  fps: number;
  sequences: Record<string, SequenceSummary>;
}

/** The first learned tracker's numbers at the top level (as before), every tracker under `trackers`. */
export interface TrackingEvaluation extends TrackerSummary {
  trackers: Record<string, TrackerSummary>;
  baseline: TrackerSummary & { method: 'ncc' };
  /** Seconds spent decoding frames (not counted in any fps). */
  decodeSeconds: number;
}

export interface LearnedTracker {
  /** Label in results and the report, e.g. "siamfc-pretrained". */
  name: string;
  /** A fresh scorer per sequence (LoadedTracker.scorer). */
  scorer: () => ResponseScorer;
  params: TrackerParams;
}

export interface SequenceResult {
  name: string;
  runs: SequenceRun[];
  /** Annotated frames side by side: ground truth green, trackers in `colors` order. */
  strip: Image;
}

const r4 = (v: number) => Math.round(v * 10000) / 10000;

function summarize(results: SequenceResult[], tracker: string): TrackerSummary {
  const runs = results.map((r) => r.runs.find((x) => x.tracker === tracker)!);
  const frames = runs.reduce((a, r) => a + r.boxes.length, 0);
  const seconds = runs.reduce((a, r) => a + r.trackSeconds, 0);
  return {
    meanAuc: r4(runs.reduce((a, r) => a + r.scores.auc, 0) / runs.length),
    meanPrecision20: r4(runs.reduce((a, r) => a + r.scores.precision20, 0) / runs.length),
    failures: runs.reduce((a, r) => a + r.scores.failures, 0),
    fps: seconds > 0 ? Math.round((frames / seconds) * 10) / 10 : 0,
    sequences: Object.fromEntries(
      runs.map((r) => [
        r.name,
        { auc: r4(r.scores.auc), precision20: r4(r.scores.precision20), failures: r.scores.failures, fps: Math.round(r.fps * 10) / 10, frames: r.boxes.length },
      ]),
    ),
  };
}

/** Tracker names in drawing order (first learned, NCC, other learned) and their colours. */
export function trackerOrder(learned: string[]): { names: string[]; colors: Rgb[] } {
  const names = [learned[0]!, 'ncc', ...learned.slice(1)];
  return { names, colors: names.map((_, i) => TRACKER_COLORS[i % TRACKER_COLORS.length]!) };
}

/** Tracks every sequence with each learned tracker and NCC; `onSequence` reports progress. */
export function evaluateTracking(
  sequences: TrackingSequence[],
  trackers: LearnedTracker[],
  opts: { onSequence?: (r: SequenceResult) => void; stripFrames?: number } = {},
): { summary: TrackingEvaluation; results: SequenceResult[] } {
  if (sequences.length === 0) throw new Error('evaluateTracking: no sequences');
  if (trackers.length === 0) throw new Error('evaluateTracking: no learned tracker');
  const names = new Set(trackers.map((t) => t.name));
  if (names.size !== trackers.length || names.has('ncc')) throw new Error('evaluateTracking: tracker names must be unique and not "ncc"');
  const results: SequenceResult[] = [];
  let decodeSeconds = 0;
  const order = trackerOrder(trackers.map((t) => t.name)).names;
  for (const seq of sequences) {
    const byName = new Map<string, TrackerSpec>([
      ...trackers.map((t) => [t.name, { name: t.name, scorer: t.scorer(), params: t.params }] as const),
      ['ncc', { name: 'ncc', scorer: new NccScorer(), params: trackers[0]!.params }],
    ]);
    const specs = order.map((n) => byName.get(n)!);
    const wanted = new Set(stripIndices(seq.length, opts.stripFrames ?? 6));
    const shots: Image[] = [];
    const runs = runTrackers(seq, specs, {
      onFrame: (i: number, boxes: Box[], frame: Image) => {
        if (wanted.has(i)) shots.push(annotatedFrame(frame, seq.groundTruth[i] ?? null, boxes));
      },
      onDecode: (s) => (decodeSeconds += s),
    });
    const result = { name: seq.name, runs, strip: hstack(shots) };
    results.push(result);
    opts.onSequence?.(result);
  }
  const all = Object.fromEntries(trackers.map((t) => [t.name, summarize(results, t.name)]));
  const first = all[trackers[0]!.name]!;
  return {
    summary: { ...first, trackers: all, baseline: { method: 'ncc', ...summarize(results, 'ncc') }, decodeSeconds: Math.round(decodeSeconds * 100) / 100 },
    results,
  };
}

/** Curves averaged over sequences, for the plots. */
export function meanCurve(results: SequenceResult[], tracker: string, which: 'success' | 'precision'): CurvePoint[] {
  const curves = results.map((r) => r.runs.find((x) => x.tracker === tracker)!.scores[which]);
  return curves[0]!.map((p, i) => ({ threshold: p.threshold, value: curves.reduce((a, c) => a + c[i]!.value, 0) / curves.length }));
}
