/**
 * `fewshot track`: runs the Siamese tracker (or the NCC baseline) on one sequence folder in the OTB
 * layout, given only the first ground-truth box; prints success AUC, precision at 20 px and fps,
 * and with --out writes the predicted boxes (OTB format) and a frame strip with both boxes drawn.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Option, type Command } from 'commander';
import { toOtb, type Box } from '../../tracking/boxes.js';
import { encodePng, type Image } from '../../tracking/data_access.js';
import { describeTrackerModel, loadTrackerModel } from '../../tracking/default_model.js';
import { annotatedFrame, hstack, stripIndices } from '../../tracking/draw.js';
import { runTrackers } from '../../tracking/run.js';
import { NccScorer } from '../../tracking/scorers.js';
import { loadSequence } from '../../tracking/sequence.js';
import { SIAMFC_PARAMS } from '../../tracking/tracker.js';
import { addBackendOption, printJson, useBackend } from '../options.js';

interface TrackOptions {
  sequence: string;
  model?: string;
  tracker: 'siamfc' | 'ncc';
  out?: string;
  json?: boolean;
  backend: string;
}

export function register(program: Command): void {
  const cmd = program
    .command('track')
    .description('track the object of the first ground-truth box through a sequence (img/0001.jpg..., groundtruth_rect.txt)')
    .requiredOption('--sequence <dir>', 'sequence folder (or a zip holding one)')
    .option('--model <dir>', 'tracking model directory (default: the shipped models/tracking; models/tracking-small is the faster small one)')
    .addOption(new Option('--tracker <name>', 'learned Siamese tracker or the raw-pixel NCC baseline').choices(['siamfc', 'ncc']).default('siamfc'))
    .option('--out <dir>', 'write <name>_boxes.txt (x,y,w,h per frame, 1-based) and strip_<name>.png')
    .option('--json', 'print one JSON object on stdout');
  addBackendOption(cmd).action(async (opts: TrackOptions) => {
    await useBackend(opts.backend, opts.json);
    const seq = await loadSequence(opts.sequence);
    let params = SIAMFC_PARAMS;
    let scorer;
    if (opts.tracker === 'siamfc') {
      const tracker = await loadTrackerModel(opts.model);
      process.stderr.write(`fewshot: ${describeTrackerModel(opts.model)}\n`);
      params = tracker.meta.params;
      scorer = tracker.scorer();
    } else {
      scorer = new NccScorer();
    }
    const wanted = new Set(stripIndices(seq.length, 8));
    const shots: Image[] = [];
    const [run] = runTrackers(seq, [{ name: opts.tracker, scorer, params }], {
      onFrame: (i: number, boxes: Box[], frame: Image) => {
        if (opts.out && wanted.has(i)) shots.push(annotatedFrame(frame, seq.groundTruth[i] ?? null, boxes));
      },
    });
    const result = {
      sequence: seq.name,
      tracker: opts.tracker,
      frames: seq.length,
      auc: Math.round(run!.scores.auc * 10000) / 10000,
      precision20: Math.round(run!.scores.precision20 * 10000) / 10000,
      fps: Math.round(run!.fps * 10) / 10,
      ...(opts.out ? { out: opts.out } : {}),
    };
    if (opts.out) {
      mkdirSync(opts.out, { recursive: true });
      writeFileSync(join(opts.out, `${seq.name}_boxes.txt`), run!.boxes.map(toOtb).join('\n') + '\n');
      writeFileSync(join(opts.out, `strip_${seq.name}.png`), encodePng(hstack(shots)));
    }
    if (opts.json) printJson({ ...result, boxes: run!.boxes.map(toOtb) });
    else {
      console.log(`${seq.name}: ${seq.length} frames, ${opts.tracker}: success AUC ${result.auc.toFixed(3)}, precision@20px ${result.precision20.toFixed(3)}, ${result.fps} fps`);
      if (opts.out) console.log(`wrote ${join(opts.out, `${seq.name}_boxes.txt`)} and ${join(opts.out, `strip_${seq.name}.png`)} (green: ground truth, red: tracker)`);
    }
  });
}
