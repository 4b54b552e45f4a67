/** `fewshot eval-runs`: Lake et al.'s 20-run one-shot protocol. */
import { Option, type Command } from 'commander';
import { openSource } from '../../data/source.js';
import { RUN_ASSIGNMENTS, type RunAssignment } from '../../evaluation/assignment.js';
import { evaluateLakeRuns } from '../../evaluation/lake_runs.js';
import { loadScorer } from '../../inference/load.js';
import { addBackendOption, addTtaOption, pct, printJson, resolveModelDir, useBackend } from '../options.js';

interface EvalRunsOptions {
  runs: string;
  model?: string;
  assignment: RunAssignment;
  json?: boolean;
  tta: number;
  backend: string;
}

export function register(program: Command): void {
  const cmd = program
    .command('eval-runs')
    .description("one-shot classification on Lake et al. (2015)'s runs: run01..run20 with class_labels.txt")
    .requiredOption('--runs <path>', 'directory or .zip holding run01 ... run20')
    .option('--model <dir>', 'model directory (default: the shipped Omniglot model)')
    .addOption(
      new Option('--assignment <how>', "argmax: each test image takes its most similar training image (Lake's protocol); hungarian: one-to-one matching (transductive)")
        .choices([...RUN_ASSIGNMENTS])
        .default('argmax'),
    )
    .option('--json', 'print one JSON object on stdout');
  addBackendOption(addTtaOption(cmd), { inference: true }).action(async (opts: EvalRunsOptions) => {
    await useBackend(opts.backend, opts.json);
    const modelDir = resolveModelDir(opts.model);
    const scorer = (await loadScorer(modelDir)).withTestTimeAugmentation(opts.tta);
    const source = await openSource(opts.runs);
    // Everything is scored before anything is printed: bad input fails with one line and no partial result.
    const r = evaluateLakeRuns(scorer, source, undefined, { assignment: opts.assignment });
    if (opts.json) {
      printJson({ assignment: r.assignment, score: scorer.meta.score, ttaViews: scorer.ttaViews, accuracy: r.accuracy, errorRate: r.errorRate, runs: r.runs, runNames: r.details.map((d) => d.name), model: modelDir });
      return;
    }
    for (const d of r.details) console.log(`${d.name}: ${d.correct}/${d.trials} correct (${pct(d.accuracy, 1)})`);
    console.log(
      `accuracy ${pct(r.accuracy)}, error rate ${pct(r.errorRate)} over ${r.details.length} runs ` +
        `(assignment ${r.assignment}${r.assignment === 'hungarian' ? ', transductive' : ''}; score ${scorer.meta.score})`,
    );
  });
}
