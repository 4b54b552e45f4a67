/**
 * `fewshot demo` (`node dist/cli/main.js demo`; `npm start` runs the service): the shipped Omniglot
 * model classifying one-shot episodes of the characters it never trained on (on the background
 * set, its held-out validation alphabets), with the results as a table. A model that saw (almost)
 * every class of the data is refused: accuracy on seen classes says nothing of one-shot learning.
 */
import type { Command } from 'commander';
import { loadOpenedImageDataset, selectFiles, type ImageDataset } from '../../data/dataset.js';
import { openSource } from '../../data/source.js';
import { evaluateEpisodes, type EpisodeGrouping } from '../../evaluation/episodes.js';
import { loadScorer } from '../../inference/load.js';
import type { ModelMetadata } from '../../models/metadata.js';
import { seenTrainingClasses } from '../../models/training_classes.js';
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
    .description('a shipped Omniglot model on 5-way and 20-way one-shot episodes of characters it never trained on')
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
    const t0 = Date.now();
    const { ds, unseenOf } = await unseenClasses(data, modelDir, scorer.meta);
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
      `unseen classes: ${unseenOf}, ` +
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

/** The demo needs this many classes the model never saw: its largest task is 20-way. */
const MIN_UNSEEN_CLASSES = 20;

/**
 * The classes of `data` the model never trained on (by its training-class digests, or for older
 * models its held-out alphabets), decoded; the others are left out, since recognising them says
 * nothing of one-shot learning. A model that saw (almost) every class is refused before decoding.
 */
async function unseenClasses(data: string, modelDir: string, meta: ModelMetadata): Promise<{ ds: ImageDataset; unseenOf: string }> {
  const source = await openSource(data);
  const listing = selectFiles(source, { preprocess: meta.preprocess });
  const seen = seenTrainingClasses(meta, listing);
  const seenNames = new Set(seen?.seen ?? []);
  const total = listing.classNames.length;
  if (total - seenNames.size < MIN_UNSEEN_CLASSES) {
    throw new Error(
      `${data}: the model ${modelDir} was trained on ${seenNames.size} of its ${total} classes (by ${seen?.basis ?? 'its metadata'}), ` +
        `leaving ${total - seenNames.size} it never saw; the demo is one-shot learning of new classes and needs at least ${MIN_UNSEEN_CLASSES}. ` +
        `Pass --data with characters it never saw (e.g. Omniglot's images_evaluation.zip), or a --model trained with some alphabets held out ` +
        `(the shipped one holds out 6 background alphabets)`,
    );
  }
  const ds = await loadOpenedImageDataset(source, { preprocess: meta.preprocess, classFilter: (name) => !seenNames.has(name) });
  const alphabets = ds.groups();
  const unseenOf = seen
    ? `the ${ds.numClasses} of ${total} characters it never trained on (by ${seen.basis}; ${alphabets.length} alphabets: ${alphabets.join(', ')})`
    : `all ${ds.numClasses} characters (the model does not record its training classes)`;
  return { ds, unseenOf };
}
