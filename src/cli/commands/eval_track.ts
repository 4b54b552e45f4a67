/**
 * `fewshot eval-track`: OTB one-pass evaluation of the Siamese trackers (by default both shipped
 * models: SiamFC on the pretrained backbone and the small one) and, in the same pass, the NCC
 * raw-pixel baseline over every sequence folder under a directory or zip: success AUC, precision
 * at 20 px, failures (frames with IoU 0), fps (tracking only; decoding is reported apart);
 * --report writes the HTML report with success / precision plots and a frame strip per sequence.
 */
import type { Command } from 'commander';
import { describeTrackerModels, loadTrackerModels } from '../../tracking/default_model.js';
import { evaluateTracking, trackerOrder, type TrackerSummary } from '../../tracking/evaluate.js';
import { writeTrackingReport } from '../../tracking/report.js';
import { loadSequences } from '../../tracking/sequence.js';
import { addBackendOption, printJson, useBackend } from '../options.js';

interface EvalTrackOptions {
  sequences: string;
  model?: string[];
  report?: string;
  json?: boolean;
  backend: string;
}

export function register(program: Command): void {
  const cmd = program
    .command('eval-track')
    .description('success AUC, precision@20px, failures and fps of the trackers and the NCC baseline over every sequence under a folder or zip')
    .requiredOption('--sequences <dir|zip>', 'folder or zip holding <seq>/img/0001.jpg... and <seq>/groundtruth_rect.txt')
    .option('--model <dirs...>', 'tracking model directories (default: the shipped models/tracking and models/tracking-small)')
    .option('--report <dir>', 'write report.html (success and precision plots, frame strips) and strip_<seq>.png there')
    .option('--json', 'print one JSON object on stdout');
  addBackendOption(cmd).action(async (opts: EvalTrackOptions) => {
    await useBackend(opts.backend, opts.json);
    const models = await loadTrackerModels(opts.model);
    process.stderr.write(`fewshot: ${describeTrackerModels(models)}\n`);
    const sequences = await loadSequences(opts.sequences);
    const trackers = models.map((m) => ({ name: m.name, scorer: m.scorer, params: m.meta.params }));
    const order = trackerOrder(trackers.map((t) => t.name)).names;
    const line = (name: string, s: { auc: number; precision20: number; failures: number; fps: number }) =>
      `${name} AUC ${s.auc.toFixed(3)} P@20 ${s.precision20.toFixed(3)} fail ${s.failures} ${s.fps.toFixed(1)} fps`;
    const { summary, results } = evaluateTracking(sequences, trackers, {
      onSequence: (r) => {
        if (opts.json) return;
        const parts = order.map((n) => {
          const run = r.runs.find((x) => x.tracker === n)!;
          return line(n, { ...run.scores, fps: run.fps });
        });
        console.log(`${r.name.padEnd(12)} ${String(r.runs[0]!.boxes.length).padStart(5)} frames | ${parts.join(' | ')}`);
      },
    });
    const reportPath = opts.report ? await writeTrackingReport(opts.report, summary, results) : undefined;
    if (opts.json) printJson({ ...summary, ...(reportPath ? { report: reportPath } : {}) });
    else {
      const all: Record<string, TrackerSummary> = { ...summary.trackers, ncc: summary.baseline };
      const mean = (n: string) => line(n, { auc: all[n]!.meanAuc, precision20: all[n]!.meanPrecision20, failures: all[n]!.failures, fps: all[n]!.fps });
      console.log(`mean (over sequences) | ${order.map(mean).join(' | ')}`);
      console.log(`decoding frames: ${summary.decodeSeconds} s (not in any fps)`);
      if (reportPath) console.log(`report: ${reportPath}`);
    }
    for (const m of models) m.dispose();
  });
}
