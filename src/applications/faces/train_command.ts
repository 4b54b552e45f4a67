/** `fewshot train --encoder face`: the CLI's options -> a face adapter (adapter.ts) on the user's people. */
import type { TrainCliOptions } from '../../cli/commands/train.js';
import { loadImageDataset } from '../../data/dataset.js';
import { trainFaceAdapter } from './adapter.js';
import { faceModelMetadata } from './model.js';

export async function runFaceAdapterTraining(opts: TrainCliOptions, backend: string): Promise<Record<string, unknown>> {
  const t0 = Date.now();
  const ds = await loadImageDataset(opts.data!, { layout: 'class-folders', preprocess: faceModelMetadata().preprocess, ...(opts.maxPerClass ? { maxPerClass: opts.maxPerClass } : {}) });
  process.stderr.write(`fewshot: ${ds.size} faces of ${ds.numClasses} people in ${((Date.now() - t0) / 1000).toFixed(1)} s` +
    `${ds.skipped.length ? ` (${ds.skipped.length} photos without a face skipped)` : ''} [backend ${backend}]\n`);
  // Step selection needs at least two held-out people (impostor pairs) and enough left to train on.
  const validate = Math.floor(ds.numClasses * opts.valFraction) >= 2 && ds.numClasses >= 6;
  if (!validate && opts.valFraction > 0) process.stderr.write(`fewshot: ${ds.numClasses} people: too few to hold some out for validation; training on all, keeping the last step\n`);
  const r = await trainFaceAdapter(ds, {
    method: opts.method,
    methodOptions: {
      batchSize: opts.batchSize, way: opts.way, shot: opts.shot, query: opts.query, classesPerBatch: opts.classesPerBatch, m: opts.m,
      miner: opts.miner, ...(opts.margin !== undefined ? { margin: opts.margin } : {}), ...(opts.distance ? { distance: opts.distance } : {}),
    },
    steps: opts.steps,
    lr: opts.lr,
    seed: opts.seed,
    valFraction: validate ? opts.valFraction : 0,
    valEvery: opts.valEvery || opts.steps,
    outDir: opts.out,
    notes: { data: opts.data, backend, skipped: ds.skipped.length },
    log: (line) => process.stderr.write(`fewshot: ${line}\n`),
  });
  process.stderr.write(`fewshot: face adapter (${opts.method}) saved to ${r.modelDir}; best step ${r.bestStep}` +
    (r.rawValidation ? `, held-out people AUC ${r.rawValidation.auc.toFixed(4)} raw -> ${r.bestValidation!.auc.toFixed(4)} adapted (d' ${r.rawValidation.dPrime.toFixed(2)} -> ${r.bestValidation!.dPrime.toFixed(2)})` : '') + '\n');
  return { ...r, method: opts.method, encoder: 'face', backend, skipped: ds.skipped.length };
}
