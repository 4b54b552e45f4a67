/** `fewshot eval`: N-way K-shot episodes on unseen classes, accuracy with a 95% interval. */
import type { Command } from 'commander';
import { loadImageDataset } from '../../data/dataset.js';
import { evaluateEpisodes } from '../../evaluation/episodes.js';
import { loadScorer } from '../../inference/load.js';
import { addBackendOption, addTtaOption, parseInteger, pct, printJson, resolveModelDir, useBackend, warnIfSeenClasses } from '../options.js';

interface EvalOptions {
  data: string;
  way: number;
  shot: number;
  query: number;
  episodes: number;
  seed: number;
  model?: string;
  json?: boolean;
  withinGroups?: boolean;
  layout: 'auto' | 'omniglot' | 'class-folders';
  tta: number;
  backend: string;
}

export function register(program: Command): void {
  const cmd = program
    .command('eval')
    .description('accuracy of a model on N-way K-shot episodes drawn from the classes in --data')
    .requiredOption('--data <path|url>', 'images: a directory or .zip, class folders or Omniglot layout')
    .option('--way <n>', 'classes per episode', parseInteger(2), 5)
    .option('--shot <k>', 'support images per class', parseInteger(1), 1)
    .option('--query <q>', 'query images per class', parseInteger(1), 1)
    .option('--episodes <e>', 'number of episodes', parseInteger(1), 400)
    .option('--seed <s>', 'episode seed', parseInteger(0), 0)
    .option('--model <dir>', 'model directory (default: the shipped Omniglot model)')
    .option('--within-groups', 'draw the classes of an episode from one group (alphabet), as in Lake et al.')
    .option('--layout <layout>', 'auto, omniglot or class-folders', 'auto')
    .option('--json', 'print one JSON object on stdout');
  addBackendOption(addTtaOption(cmd), { inference: true }).action(async (opts: EvalOptions) => {
    const backend = await useBackend(opts.backend, opts.json);
    const modelDir = resolveModelDir(opts.model);
    const scorer = (await loadScorer(modelDir)).withTestTimeAugmentation(opts.tta);
    const ds = await loadImageDataset(opts.data, { layout: opts.layout, preprocess: scorer.meta.preprocess });
    const seen = warnIfSeenClasses(scorer.meta, ds);
    const t0 = Date.now();
    const r = evaluateEpisodes(scorer, ds, {
      way: opts.way,
      shot: opts.shot,
      query: opts.query,
      episodes: opts.episodes,
      seed: opts.seed,
      groups: opts.withinGroups ? 'within' : 'any',
    });
    const seconds = (Date.now() - t0) / 1000;
    if (opts.json) {
      printJson({
        accuracy: r.accuracy,
        ci95: r.ci95,
        episodes: r.episodes,
        way: r.way,
        shot: r.shot,
        query: r.query,
        withinGroups: r.withinGroup,
        classes: ds.numClasses,
        seenInTraining: seen,
        images: ds.size,
        skipped: ds.skipped.length,
        model: modelDir,
        ttaViews: scorer.ttaViews,
        backend,
        seconds,
      });
    } else {
      console.log(`${opts.way}-way ${opts.shot}-shot, ${opts.query} queries/class, ${opts.episodes} episodes ` +
        `(${ds.numClasses} classes, ${ds.size} images${r.withinGroup ? ', within groups' : ''}): ` +
        `accuracy ${pct(r.accuracy)} +- ${pct(r.ci95)} (95% CI)  [${seconds.toFixed(1)} s]`);
    }
  });
}
