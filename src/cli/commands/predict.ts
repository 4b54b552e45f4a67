/** `fewshot predict`: rank the support classes for each query image. */
import type { Command } from 'commander';
import { readImageFile } from '../files.js';
import { scoreKindOf, scoreToSimilarity, similarityToScore } from '../../verification/score_kind.js';
import { loadScorer } from '../../inference/load.js';
import { faceJson, type SiameseScorer } from '../../inference/embedder.js';
import { FewShotClassifier, type SupportClass } from '../../inference/few_shot_classifier.js';
import { loadImageDataset } from '../../data/dataset.js';
import { loadSupportSet } from '../../inference/support_set.js';
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
    .option('--threshold <score>', "answer 'unknown' past this score, in the model's units as verify prints them: a probability (unknown below) or a distance (unknown above); default: the model's calibrated threshold, if any", parseNumber())
    .option('--mode <mode>', 'support processing: auto, prototypes or examples', 'auto')
    .option('--json', 'print one JSON object on stdout');
  addBackendOption(cmd, { inference: true }).action(async (opts: PredictOptions) => {
    await useBackend(opts.backend, opts.json);
    const scorer = await loadScorer(resolveModelDir(opts.model));
    // Face models: support photos go through face detection (a photo without a face is skipped
    // with a warning), queries too (a query without a face is a one-line error).
    const support = scorer.faces ? await loadFaceSupportSet(opts.support, scorer) : await loadSupportSet(opts.support);
    // Scores are shown in the model's own units, as verify shows them: a probability (higher =
    // same) or a distance (lower = same); the classifier works in similarity (higher = same).
    const kind = scoreKindOf(scorer.meta);
    const natural = (similarity: number): number => similarityToScore(similarity, kind);
    const classifier = new FewShotClassifier(scorer, {
      mode: opts.mode,
      ...(opts.threshold !== undefined ? { threshold: scoreToSimilarity(opts.threshold, kind) } : {}),
    }).fit(support);
    const queries = opts.query.map((file) => readImageFile(file, 'query image'));
    const prepared = await scorer.prepareWithFaces(queries, opts.query);
    const predictions = classifier.predict(prepared.map((p) => p.pixels));
    const results = predictions.map((p, i) => ({
      query: opts.query[i]!,
      label: p.label,
      unknown: p.unknown,
      score: natural(p.score),
      ranked: (opts.top ? p.ranked.slice(0, opts.top) : p.ranked).map((r) => ({ class: r.class, score: natural(r.score) })),
      ...(prepared[i]!.face ? { face: faceJson(prepared[i]!.face!) } : {}),
    }));
    const threshold = classifier.threshold === null ? null : natural(classifier.threshold);
    const direction = kind === 'probability' ? 'higher-is-same' : 'lower-is-same';
    if (opts.json) {
      printJson({ model: scorer.meta.method, scoreKind: kind, direction, threshold, mode: classifier.mode, predictions: results });
      return;
    }
    const unit = kind === 'probability' ? 'probability (higher = closer)' : `${scorer.meta.distance ?? 'euclidean'} distance (lower = closer)`;
    console.log(`scores: ${unit}${threshold === null ? '' : `; unknown past ${threshold.toFixed(4)}`}`);
    for (const r of results) {
      console.log(`${r.query}: ${r.label}${r.unknown ? ` (best score ${r.score.toFixed(4)} is past the threshold)` : ''}`);
      for (const c of r.ranked) console.log(`  ${c.score.toFixed(4).padStart(10)}  ${c.class}`);
    }
  });
}

/** A support set of class folders for a face model: each photo's largest face, aligned. */
async function loadFaceSupportSet(path: string, scorer: SiameseScorer): Promise<SupportClass[]> {
  const ds = await loadImageDataset(path, { layout: 'class-folders', preprocess: scorer.meta.preprocess });
  return ds.indicesByClass().map((idx, c) => ({ label: ds.classNames[c]!, images: idx.map((i) => ds.imagePixels(i)) }));
}
