/**
 * `fewshot eval-open-set`: few-shot episodes whose queries partly come from classes absent from
 * the support set; a right answer for those is 'unknown' (best class under the threshold).
 */
import type { Command } from 'commander';
import { loadImageDataset } from '../../data/dataset.js';
import { loadScorer } from '../../inference/load.js';
import { evaluateOpenSet } from '../../verification/open_set.js';
import { calibrateThreshold } from '../../verification/calibration.js';
import { addBackendOption, parseInteger, parseNumber, pct, printJson, resolveModelDir, useBackend } from '../options.js';

interface OpenSetCliOptions {
  data: string;
  model?: string;
  way: number;
  unknownWay: number;
  shot: number;
  query: number;
  episodes: number;
  seed: number;
  threshold?: number;
  json?: boolean;
  layout: 'auto' | 'omniglot' | 'class-folders';
  backend: string;
}

export function register(program: Command): void {
  const cmd = program
    .command('eval-open-set')
    .description("open-set few-shot accuracy: queries from classes outside the support set must be answered 'unknown'")
    .requiredOption('--data <path|url>', 'labelled images: class folders or Omniglot layout (directory or .zip)')
    .option('--model <dir>', 'model directory (default: the shipped Omniglot model)')
    .option('--way <n>', 'classes in the support set', parseInteger(1), 5)
    .option('--unknown-way <n>', 'classes whose queries have no support class', parseInteger(1), 5)
    .option('--shot <k>', 'support images per class', parseInteger(1), 1)
    .option('--query <q>', 'queries per class (known and unknown)', parseInteger(1), 1)
    .option('--episodes <e>', 'number of episodes', parseInteger(1), 200)
    .option('--seed <s>', 'episode seed', parseInteger(0), 0)
    .option('--threshold <score>', "answer 'unknown' below this similarity (default: the model's threshold)", parseNumber())
    .option('--layout <layout>', 'auto, omniglot or class-folders', 'auto')
    .option('--json', 'print one JSON object on stdout');
  addBackendOption(cmd).action(async (opts: OpenSetCliOptions) => {
    await useBackend(opts.backend, opts.json);
    const modelDir = resolveModelDir(opts.model);
    const scorer = await loadScorer(modelDir);
    if (opts.threshold === undefined && !scorer.meta.threshold) {
      throw new Error(`${modelDir} has no calibrated threshold: run 'fewshot eval-verify --calibrate' first or pass --threshold`);
    }
    const ds = await loadImageDataset(opts.data, { layout: opts.layout, preprocess: scorer.meta.preprocess });
    const embeddings = scorer.embedFlat(ds.pixels, ds.size);
    const shape = { way: opts.way, unknownWay: opts.unknownWay, shot: opts.shot, query: opts.query, episodes: opts.episodes, seed: opts.seed };
    const r = evaluateOpenSet(scorer, embeddings, ds.indicesByClass(), { ...shape, ...(opts.threshold !== undefined ? { threshold: opts.threshold } : {}) });
    // For reference: the threshold these very episodes would pick (EER of known vs unknown best scores).
    const best = calibrateThreshold(r.knownBestScores, r.unknownBestScores, 'eer', 'these episodes');
    const { knownBestScores: _k, unknownBestScores: _u, ...numbers } = r;
    const out = { ...numbers, thresholdSource: opts.threshold !== undefined ? 'given' : scorer.meta.threshold!.source, eerThresholdHere: best.threshold.value, eerHere: (best.far + best.frr) / 2, model: modelDir, classes: ds.numClasses, skipped: ds.skipped.length };
    if (opts.json) {
      printJson(out);
      return;
    }
    console.log(`${opts.way} known + ${opts.unknownWay} unknown classes, ${opts.shot}-shot, ${opts.query} queries/class, ${opts.episodes} episodes:`);
    console.log(`open-set accuracy ${pct(r.openSetAccuracy)} (known answered right ${pct(r.knownAccuracy)}, unknown rejected ${pct(r.unknownRejection)}); closed-set accuracy ${pct(r.closedSetAccuracy)}`);
    console.log(`threshold ${r.threshold} (similarity; ${out.thresholdSource}); the EER threshold of these episodes would be ${best.threshold.value.toFixed(4)}`);
  });
}
