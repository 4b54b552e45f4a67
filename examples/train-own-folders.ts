/**
 * Train a few-shot model on your own class folders (my-data/<class>/<image>), holding out a third
 * of the classes to pick the best step and to calibrate the same/different threshold.
 *
 *   npx tsx examples/train-own-folders.ts my-data runs/my-model [steps]
 *
 * The CLI does the same with more options: `fewshot train --data my-data --out runs/my-model`.
 */
import { detectInk, loadImageDataset, openSource, selectBackend, splitByClass, trainModel } from 'fewshot/node';

const [data, out, steps = '300'] = process.argv.slice(2);
if (!data || !out) throw new Error('usage: train-own-folders.ts <data-dir> <out-dir> [steps]');

await selectBackend('auto'); // native oneDNN kernels when built, else wasm, else cpu
const invert = detectInk(await openSource(data)).invert; // dark marks on light paper -> invert
const preprocess = { height: 64, width: 64, channels: 1 as const, invert };
const all = await loadImageDataset(data, { layout: 'class-folders', preprocess });
const { train, validation } = splitByClass(all, { validationFraction: 0.34, seed: 0 });

const result = await trainModel(train, validation, {
  method: 'protonet', encoder: 'norm-conv4', inputShape: [64, 64, 1], embeddingDim: 64,
  methodOptions: { way: Math.min(5, train.numClasses), shot: 1, query: 2, batchSize: 32, classesPerBatch: 8, m: 4, miner: 'none' },
  optimizer: 'adam', lr: 1e-3, momentum: 0.9, schedule: 'cosine', warmupSteps: 0, steps: Number(steps), seed: 0,
  augment: true, patience: 0, checkpointEvery: 50, logEvery: 10, outDir: out, resume: false, preprocess,
  validation: { every: 50, episodes: 100, way: 5, alsoWays: [], shot: 1, query: 2, groups: 'any', seed: 1 },
});
console.log(`best ${result.validationWay}-way 1-shot validation accuracy ${(100 * result.bestAccuracy).toFixed(1)}% at step ${result.bestStep}; model in ${result.modelDir}`);
