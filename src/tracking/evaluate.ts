/**
 * OTB-style evaluation of the learned tracker and the NCC baseline over a set of sequences, in one
 * pass over the frames, with a frame strip per sequence for the report.
 */
import type * as tfl from '@tensorflow/tfjs-layers';
import type { Box } from './boxes.js';
import type { Image } from './data_access.js';
import { annotatedFrame, hstack, stripIndices } from './draw.js';
import type { CurvePoint } from './metrics.js';
import { runTrackers, type SequenceRun, type TrackerSpec } from './run.js';
import { NccScorer, SiamFCScorer } from './scorers.js';
import type { TrackingSequence } from './sequence.js';
import type { TrackerParams } from './tracker.js';

export interface TrackerSummary {
  meanAuc: number;
  meanPrecision20: number;
  /** Frames over tracking seconds, all sequences together. */
  fps: number;
  sequences: Record<string, { auc: number; precision20: number; fps: number; frames: number }>;
}

export interface TrackingEvaluation extends TrackerSummary {
  baseline: TrackerSummary & { method: 'ncc' };
}

export interface SequenceResult {
  name: string;
  runs: SequenceRun[];
  /** Annotated frames side by side: ground truth green, learned red, NCC blue. */
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
    fps: seconds > 0 ? Math.round((frames / seconds) * 10) / 10 : 0,
    sequences: Object.fromEntries(
      runs.map((r) => [
        r.name,
        { auc: r4(r.scores.auc), precision20: r4(r.scores.precision20), fps: Math.round(r.fps * 10) / 10, frames: r.boxes.length },
      ]),
    ),
  };
}

/** Tracks every sequence with the learned model and NCC; `onSequence` reports progress. */
export function evaluateTracking(
  sequences: TrackingSequence[],
  model: tfl.LayersModel,
  params: TrackerParams,
  opts: { onSequence?: (r: SequenceResult) => void; stripFrames?: number } = {},
): { summary: TrackingEvaluation; results: SequenceResult[] } {
  if (sequences.length === 0) throw new Error('evaluateTracking: no sequences');
  const results: SequenceResult[] = [];
  for (const seq of sequences) {
    const specs: TrackerSpec[] = [
      { name: 'siamfc', scorer: new SiamFCScorer(model), params },
      { name: 'ncc', scorer: new NccScorer(), params },
    ];
    const wanted = new Set(stripIndices(seq.length, opts.stripFrames ?? 6));
    const shots: Image[] = [];
    const runs = runTrackers(seq, specs, {
      onFrame: (i: number, boxes: Box[], frame: Image) => {
        if (wanted.has(i)) shots.push(annotatedFrame(frame, seq.groundTruth[i] ?? null, boxes));
      },
    });
    const result = { name: seq.name, runs, strip: hstack(shots) };
    results.push(result);
    opts.onSequence?.(result);
  }
  const learned = summarize(results, 'siamfc');
  return { summary: { ...learned, baseline: { method: 'ncc', ...summarize(results, 'ncc') } }, results };
}

/** Curves averaged over sequences, for the plots. */
export function meanCurve(results: SequenceResult[], tracker: string, which: 'success' | 'precision'): CurvePoint[] {
  const curves = results.map((r) => r.runs.find((x) => x.tracker === tracker)!.scores[which]);
  return curves[0]!.map((p, i) => ({ threshold: p.threshold, value: curves.reduce((a, c) => a + c[i]!.value, 0) / curves.length }));
}
