/**
 * `fewshot demo` (`node dist/cli/main.js demo`; `npm start` runs the service): the shipped Omniglot model classifying one-shot
 * episodes of alphabets it never trained on (the held-out validation alphabets), with the
 * results as a table.
 */
import type { Command } from 'commander';
import { loadImageDataset } from '../../data/dataset.js';
import { evaluateEpisodes, type EpisodeGrouping } from '../../evaluation/episodes.js';
import { loadScorer } from '../../inference/load.js';
import { addBackendOption, findOmniglotBackground, parseInteger, pct, printJson, resolveModelDir, useBackend } from '../options.js';

interface DemoOptions {
  data?: string;
  model?: string;
  episodes: number;
  seed: number;
  json?: boolean;
  backend: string;
}

export function register(program: Command): void {
  const cmd = program
    .command('demo')
    .description('the shipped Omniglot model on 5-way and 20-way one-shot episodes of unseen alphabets')
    .option('--data <path|url>', 'Omniglot background set (directory, .zip or URL of a zip); default ../shared/data/omniglot/images_background.zip')
    .option('--model <dir>', 'model directory (default: the shipped Omniglot model)')
    .option('--episodes <n>', 'episodes per task', parseInteger(1), 200)
    .option('--seed <s>', 'episode seed', parseInteger(0), 1)
    .option('--json', 'print one JSON object on stdout');
  addBackendOption(cmd).action(async (opts: DemoOptions) => {
    const data = opts.data ?? findOmniglotBackground();
    if (!data) {
      throw new Error(
        'no Omniglot data: ../shared/data/omniglot/images_background.zip does not exist. ' +
          'Pass --data PATH|URL with the background set (a directory or a .zip in Omniglot layout), e.g. ' +
          'fewshot demo --data https://github.com/brendenlake/omniglot/raw/master/python/images_background.zip',
      );
    }
    const backend = await useBackend(opts.backend, opts.json);
    const modelDir = resolveModelDir(opts.model);
    const scorer = await loadScorer(modelDir);
    const heldOut = scorer.meta.training?.['validationGroups'];
    const groups = Array.isArray(heldOut) && heldOut.length > 0 ? (heldOut as string[]) : undefined;
    const t0 = Date.now();
    const ds = await loadImageDataset(data, { preprocess: scorer.meta.preprocess, ...(groups ? { groups } : {}) });
    const loadSeconds = (Date.now() - t0) / 1000;
    const tasks: { way: number; groups: EpisodeGrouping; label: string }[] = [
      { way: 5, groups: 'any', label: '5-way 1-shot' },
      { way: 20, groups: 'any', label: '20-way 1-shot' },
      { way: 5, groups: 'within', label: '5-way 1-shot, within alphabet' },
      { way: 20, groups: 'within', label: '20-way 1-shot, within alphabet' },
    ];
    const rows = tasks.map((t) => {
      const start = Date.now();
      const r = evaluateEpisodes(scorer, ds, { way: t.way, shot: 1, query: 1, episodes: opts.episodes, seed: opts.seed, groups: t.groups });
      return { task: t.label, way: t.way, shot: 1, withinAlphabet: t.groups === 'within', episodes: r.episodes, accuracy: r.accuracy, ci95: r.ci95, seconds: (Date.now() - start) / 1000 };
    });
    if (opts.json) {
      printJson({ model: modelDir, method: scorer.meta.method, encoder: scorer.meta.encoder, data, classes: ds.numClasses, images: ds.size, backend, results: rows });
      return;
    }
    console.log(`fewshot demo: model ${modelDir} (${scorer.meta.method} / ${scorer.meta.encoder}, ${scorer.meta.inputShape.join('x')})`);
    console.log(`data: ${data}`);
    console.log(
      `unseen classes: ${ds.numClasses} characters of ${groups ? `the ${groups.length} held-out alphabets (${groups.join(', ')})` : 'every alphabet (the model records no held-out alphabets)'}, ` +
        `${ds.size} images, loaded in ${loadSeconds.toFixed(1)} s; backend ${backend}\n`,
    );
    const header = ['task', 'episodes', 'accuracy', '95% CI', 'time'];
    const body = rows.map((r) => [r.task, String(r.episodes), pct(r.accuracy), `+-${pct(r.ci95)}`, `${r.seconds.toFixed(1)} s`]);
    const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
    const line = (cells: string[]) => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
    console.log(line(header));
    console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
    for (const b of body) console.log(line(b));
    console.log('\nEach episode: one example per class (support), one new drawing per class to classify (query).');
  });
}
