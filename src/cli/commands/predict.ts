/** `fewshot predict`: rank the support classes for each query image. */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { decodeImage } from '../../data/image.js';
import { faceJson, SiameseScorer } from '../../inference/embedder.js';
import { FewShotClassifier } from '../../inference/few_shot_classifier.js';
import { loadSupportSet } from '../../inference/support_set.js';
import { loadImageDataset } from '../../data/dataset.js';
import type { SupportClass } from '../../inference/few_shot_classifier.js';
import { addBackendOption, parseInteger, parseNumber, printJson, resolveModelDir, useBackend } from '../options.js';

interface PredictOptions {
  support: string;
  query: string[];
  model?: string;
  json?: boolean;
  top?: number;
  threshold?: number;
  mode: 'auto' | 'prototypes' | 'examples';
  backend: string;
}

export function register(program: Command): void {
  const cmd = program
    .command('predict')
    .description('classify query images against a support set of class folders (1..K images per class)')
    .requiredOption('--support <path>', 'support set: <class>/<image> folders (directory or .zip)')
    .requiredOption('--query <files...>', 'query image files')
    .option('--model <dir>', 'model directory (default: the shipped Omniglot model)')
    .option('--top <n>', 'show only the n best classes per query', parseInteger(1))
    .option('--threshold <score>', "answer 'unknown' below this score (default: the model's threshold, if any)", parseNumber())
    .option('--mode <mode>', 'support processing: auto, prototypes or examples', 'auto')
    .option('--json', 'print one JSON object on stdout');
  addBackendOption(cmd).action(async (opts: PredictOptions) => {
    await useBackend(opts.backend, opts.json);
    const scorer = await SiameseScorer.load(resolveModelDir(opts.model));
    // Face models: support photos go through face detection (a photo without a face is skipped
    // with a warning), queries too (a query without a face is a one-line error).
    const support = scorer.faces ? await loadFaceSupportSet(opts.support, scorer) : await loadSupportSet(opts.support);
    const classifier = new FewShotClassifier(scorer, {
      mode: opts.mode,
      ...(opts.threshold !== undefined ? { threshold: opts.threshold } : {}),
    }).fit(support);
    const queries = opts.query.map((file) => {
      let bytes: Uint8Array;
      try {
        bytes = readFileSync(file);
      } catch (err) {
        throw new Error(`cannot read query image ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
      }
      return decodeImage(bytes, file);
    });
    const prepared = await scorer.prepareWithFaces(queries, opts.query);
    const predictions = classifier.predict(prepared.map((p) => p.pixels));
    const results = predictions.map((p, i) => ({
      query: opts.query[i]!,
      label: p.label,
      unknown: p.unknown,
      score: p.score,
      ranked: opts.top ? p.ranked.slice(0, opts.top) : p.ranked,
      ...(prepared[i]!.face ? { face: faceJson(prepared[i]!.face!) } : {}),
    }));
    if (opts.json) {
      printJson({ model: scorer.meta.method, score: scorer.meta.score, threshold: classifier.threshold, mode: classifier.mode, predictions: results });
      return;
    }
    for (const r of results) {
      console.log(`${r.query}: ${r.label}${r.unknown ? ' (best score under the threshold)' : ''}`);
      for (const c of r.ranked) console.log(`  ${c.score.toFixed(4).padStart(10)}  ${c.class}`);
    }
  });
}

/** A support set of class folders for a face model: each photo's largest face, aligned. */
async function loadFaceSupportSet(path: string, scorer: SiameseScorer): Promise<SupportClass[]> {
  const ds = await loadImageDataset(path, { layout: 'class-folders', preprocess: scorer.meta.preprocess });
  return ds.indicesByClass().map((idx, c) => ({ label: ds.classNames[c]!, images: idx.map((i) => ds.imagePixels(i)) }));
}
