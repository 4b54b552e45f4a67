/**
 * `npx tsx scripts/transfer-threshold.ts --model DIR --reference REF_DIR [--data ZIP] [--pairs 20000] [--seed 7] [--dry-run]`
 *
 * Gives a model trained on every class of its data (e.g. `checkpoints/omniglot/ensemble-all30`,
 * all 30 background alphabets) an open-set threshold it could not be calibrated for directly,
 * carried over from a reference that held classes out (`models/omniglot`, 6 alphabets held out) by
 * the shift of both models' FAR points on the classes they both trained on, scored on the same
 * pairs (src/verification/threshold_transfer.ts). Writes it to the model's fewshot.json unless
 * `--dry-run`.
 */
import { Command } from 'commander';
import { loadOpenedImageDataset, selectFiles } from '../src/data/dataset.js';
import { openSource } from '../src/data/source.js';
import { EmbeddingCache } from '../src/evaluation/embedding_cache.js';
import { loadScorer } from '../src/inference/load.js';
import type { SiameseScorer } from '../src/inference/embedder.js';
import { seenTrainingClasses } from '../src/models/training_classes.js';
import { addBackendOption, findOmniglotBackground, parseInteger, printJson, useBackend } from '../src/cli/options.js';
import { writeThreshold } from '../src/verification/calibration.js';
import { pairSimilarities, sampledPairs, splitScores, type VerificationPairs } from '../src/verification/pairs.js';
import { transferThreshold, type SharedClassScores } from '../src/verification/threshold_transfer.js';
import type { ImageDataset } from '../src/data/image_dataset.js';

const cmd = addBackendOption(
  new Command('transfer-threshold')
    .requiredOption('--model <dir>', 'the model to give a threshold (trained on every class of --data)')
    .requiredOption('--reference <dir>', 'a model with a FAR-calibrated threshold from classes it never saw, trained with the same recipe')
    .option('--data <path>', 'the training data of both (default: ../shared/data/omniglot/images_background.zip)')
    .option('--pairs <n>', 'genuine and impostor pairs of the shared classes (each)', parseInteger(100), 20000)
    .option('--seed <s>', 'pair sampling seed', parseInteger(0), 7)
    .option('--dry-run', 'print the threshold, write nothing'),
);
cmd.parse(process.argv.slice(2), { from: 'user' });
const opts = cmd.opts<{ model: string; reference: string; data?: string; pairs: number; seed: number; dryRun?: boolean; backend: string }>();
const data = opts.data ?? findOmniglotBackground();
if (!data) throw new Error('the training data is needed: ../shared/data/omniglot/images_background.zip or --data PATH|URL');
await useBackend(opts.backend, true);

const model = await loadScorer(opts.model);
const reference = await loadScorer(opts.reference);
if (!reference.meta.threshold) throw new Error(`${opts.reference} has no stored threshold to carry over`);
if (JSON.stringify(model.meta.preprocess) !== JSON.stringify(reference.meta.preprocess)) {
  throw new Error(`${opts.model} and ${opts.reference} preprocess images differently: their scores are not comparable`);
}

// The classes both trained on, by their training-class digests.
const source = await openSource(data);
const listing = selectFiles(source, { preprocess: model.meta.preprocess });
const seenBy = (scorer: SiameseScorer, dir: string): Set<string> => {
  const s = seenTrainingClasses(scorer.meta, listing);
  if (!s) throw new Error(`${dir} does not record its training classes`);
  return new Set(s.seen);
};
const byModel = seenBy(model, opts.model);
const byReference = seenBy(reference, opts.reference);
const shared = listing.classNames.filter((c) => byModel.has(c) && byReference.has(c));
if (shared.length < 2) throw new Error(`${data}: the two models share ${shared.length} training classes; at least 2 are needed`);
const sharedSet = new Set(shared);
const ds = await loadOpenedImageDataset(source, { preprocess: model.meta.preprocess, classFilter: (name) => sharedSet.has(name) });
const pairs = sampledPairs(ds.labels, opts.pairs, opts.seed);

function scoresOf(scorer: SiameseScorer, set: ImageDataset, p: VerificationPairs): SharedClassScores {
  const cache = new EmbeddingCache(scorer, set);
  const embeddings = cache.get(Array.from({ length: set.size }, (_, i) => i));
  return splitScores(pairSimilarities(embeddings, p, (a, b) => scorer.similarity(a, b)), p.same);
}
const t = transferThreshold(
  { threshold: reference.meta.threshold, shared: scoresOf(reference, ds, pairs) },
  { shared: scoresOf(model, ds, pairs) },
  `${opts.reference} on ${ds.numClasses} classes of ${data}`,
);
if (!opts.dryRun) writeThreshold(opts.model, t.threshold);
printJson({
  model: opts.model,
  reference: opts.reference,
  sharedClasses: ds.numClasses,
  sharedImages: ds.size,
  referenceThreshold: reference.meta.threshold.value,
  referenceShared: t.referenceShared,
  modelShared: t.modelShared,
  threshold: t.threshold,
  written: !opts.dryRun,
});
