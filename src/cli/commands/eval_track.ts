/**
 * `fewshot eval-track`: OTB one-pass evaluation of the Siamese tracker and, in the same pass, the
 * NCC raw-pixel baseline over every sequence folder under a directory or zip: success AUC,
 * precision at 20 px, fps; --report writes the HTML report with success / precision plots and a
 * frame strip per sequence.
 */
import type { Command } from 'commander';
import { describeTrackerModel, loadTrackerModel } from '../../tracking/default_model.js';
import { evaluateTracking } from '../../tracking/evaluate.js';
import { writeTrackingReport } from '../../tracking/report.js';
import { loadSequences } from '../../tracking/sequence.js';
import { addBackendOption, printJson, useBackend } from '../options.js';

interface EvalTrackOptions {
  sequences: string;
  model?: string;
  report?: string;
  json?: boolean;
  backend: string;
}

export function register(program: Command): void {
  const cmd = program
    .command('eval-track')
    .description('success AUC, precision@20px and fps of the tracker and the NCC baseline over every sequence under a folder or zip')
    .requiredOption('--sequences <dir|zip>', 'folder or zip holding <seq>/img/0001.jpg... and <seq>/groundtruth_rect.txt')
    .option('--model <dir>', 'tracking model directory (default: the shipped models/tracking)')
    .option('--report <dir>', 'write report.html (success and precision plots, frame strips) and strip_<seq>.png there')
    .option('--json', 'print one JSON object on stdout');
  addBackendOption(cmd).action(async (opts: EvalTrackOptions) => {
    await useBackend(opts.backend, opts.json);
    const { model, meta } = await loadTrackerModel(opts.model);
    process.stderr.write(`fewshot: ${describeTrackerModel(opts.model)}\n`);
    const sequences = await loadSequences(opts.sequences);
    const { summary, results } = evaluateTracking(sequences, model, meta.params, {
      onSequence: (r) => {
        if (opts.json) return;
        const a = r.runs.find((x) => x.tracker === 'siamfc')!;
        const b = r.runs.find((x) => x.tracker === 'ncc')!;
        console.log(
          `${r.name.padEnd(14)} ${String(a.boxes.length).padStart(5)} frames  SiamFC AUC ${a.scores.auc.toFixed(3)} P@20 ${a.scores.precision20.toFixed(3)} ${a.fps.toFixed(1)} fps | NCC AUC ${b.scores.auc.toFixed(3)} P@20 ${b.scores.precision20.toFixed(3)} ${b.fps.toFixed(1)} fps`,
        );
      },
    });
    const reportPath = opts.report ? await writeTrackingReport(opts.report, summary, results) : undefined;
    if (opts.json) printJson({ ...summary, ...(reportPath ? { report: reportPath } : {}) });
    else {
      console.log(
        `mean           SiamFC AUC ${summary.meanAuc.toFixed(3)} P@20 ${summary.meanPrecision20.toFixed(3)} ${summary.fps} fps | NCC AUC ${summary.baseline.meanAuc.toFixed(3)} P@20 ${summary.baseline.meanPrecision20.toFixed(3)} ${summary.baseline.fps} fps`,
      );
      if (reportPath) console.log(`report: ${reportPath}`);
    }
    model.dispose();
  });
}
