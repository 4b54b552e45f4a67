/**
 * Running trackers over a sequence and scoring them. Several trackers can run in lockstep on the
 * same decoded frames (decoding a 1280x720 JPEG costs more than tracking it), which is how the
 * learned tracker and the NCC baseline are compared in one pass. Each tracker gets the first
 * ground-truth box only; frames per second count the tracker's own work (crops, network,
 * search), not JPEG decoding, which depends on the storage format rather than on the tracker.
 */
import type { Box } from './boxes.js';
import type { Image } from './data_access.js';
import { scoreSequence, type SequenceScores } from './metrics.js';
import type { TrackingSequence } from './sequence.js';
import { SiamTracker, type ResponseScorer, type TrackerParams } from './tracker.js';

export interface SequenceRun {
  name: string;
  tracker: string;
  boxes: Box[];
  scores: SequenceScores;
  trackSeconds: number;
  fps: number;
}

export interface TrackerSpec {
  /** Label in results ("siamfc", "ncc", ...). */
  name: string;
  scorer: ResponseScorer;
  params: TrackerParams;
}

export function runTrackers(
  seq: TrackingSequence,
  specs: TrackerSpec[],
  opts: { onFrame?: (i: number, boxes: Box[], frame: Image) => void; onDecode?: (seconds: number) => void } = {},
): SequenceRun[] {
  const first = seq.groundTruth[0];
  if (!first) throw new Error(`${seq.location}: no box on the first frame`);
  const trackers = specs.map((s) => new SiamTracker(s.scorer, s.params));
  const seconds = specs.map(() => 0);
  const boxes: Box[][] = specs.map(() => []);
  try {
    for (let i = 0; i < seq.length; i++) {
      const d0 = performance.now();
      const frame = seq.readFrame(i);
      opts.onDecode?.((performance.now() - d0) / 1000);
      trackers.forEach((t, k) => {
        const t0 = performance.now();
        if (i === 0) {
          t.init(frame, first);
          boxes[k]!.push({ ...first });
        } else {
          boxes[k]!.push(t.update(frame));
        }
        seconds[k]! += (performance.now() - t0) / 1000;
      });
      opts.onFrame?.(i, boxes.map((b) => b[i]!), frame);
    }
  } finally {
    trackers.forEach((t) => t.dispose());
  }
  return specs.map((s, k) => ({
    name: seq.name,
    tracker: s.name,
    boxes: boxes[k]!,
    scores: scoreSequence(boxes[k]!, seq.groundTruth),
    trackSeconds: seconds[k]!,
    fps: seconds[k]! > 0 ? seq.length / seconds[k]! : 0,
  }));
}

export function runSequence(seq: TrackingSequence, scorer: ResponseScorer, params: TrackerParams): SequenceRun {
  return runTrackers(seq, [{ name: scorer.name, scorer, params }])[0]!;
}
