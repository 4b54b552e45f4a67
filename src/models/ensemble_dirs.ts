/**
 * Builds an ensemble (ensemble.ts) from saved model directories in Node: each member's encoder
 * (a pair model contributes the encoder under its head), checks that all members preprocess
 * images alike, and describes the members in fewshot.json so the ensemble can be rebuilt.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type * as tfl from '@tensorflow/tfjs-layers';
import { buildEnsembleModel } from './ensemble.js';
import { embeddingDimOf } from './encoders/registry.js';
import { loadModel, saveModel } from './io.js';
import { createMetadata, type ModelMetadata } from './metadata.js';
import { splitPairModel } from './siamese.js';

/** What fewshot.json records of each member: where it came from and how it was made. */
export interface EnsembleMemberInfo {
  model: string;
  method: string;
  encoder: string;
  score: ModelMetadata['score'];
  distance?: string;
  embeddingDim: number;
  bestStep?: unknown;
  /** The command that trained the member (its validation.json, else its fewshot.json). */
  command?: unknown;
}

export async function ensembleFromModelDirs(dirs: readonly string[]): Promise<{ model: tfl.LayersModel; meta: ModelMetadata }> {
  if (dirs.length === 0) throw new Error('an ensemble needs at least one member model directory');
  const encoders: tfl.LayersModel[] = [];
  const members: EnsembleMemberInfo[] = [];
  const trainings: Record<string, unknown>[] = [];
  let first: ModelMetadata | null = null;
  for (const dir of dirs) {
    const { model, meta } = await loadModel(dir);
    const encoder = meta.score === 'pair-probability' ? splitPairModel(model).encoder : model;
    if (first && JSON.stringify(meta.preprocess) !== JSON.stringify(first.preprocess)) {
      throw new Error(`ensemble member ${dir} preprocesses images as ${JSON.stringify(meta.preprocess)}, ${dirs[0]} as ${JSON.stringify(first.preprocess)}: members must agree`);
    }
    first ??= meta;
    encoders.push(encoder);
    trainings.push(meta.training ?? {});
    const validationFile = join(dir, 'validation.json');
    // The training command: the member's report has it, else the trainer recorded it in fewshot.json.
    const command = (existsSync(validationFile) ? (JSON.parse(readFileSync(validationFile, 'utf8')) as Record<string, unknown>)['command'] : undefined) ?? meta.training?.['command'];
    members.push({
      model: dir,
      method: meta.method,
      encoder: meta.encoder,
      score: meta.score,
      ...(meta.distance ? { distance: meta.distance } : {}),
      embeddingDim: embeddingDimOf(encoder),
      ...(meta.training?.['bestStep'] !== undefined ? { bestStep: meta.training['bestStep'] } : {}),
      ...(command !== undefined ? { command } : {}),
    });
  }
  const model = buildEnsembleModel(encoders);
  const meta = createMetadata({
    method: 'ensemble',
    encoder: `ensemble(${members.map((m) => m.encoder).join('+')})`,
    inputShape: first!.inputShape,
    embeddingDim: embeddingDimOf(model),
    preprocess: first!.preprocess,
    score: 'negative-distance',
    distance: 'cosine',
    training: { ...sharedFacts(trainings), members },
  });
  return { model, meta };
}

/**
 * The training facts every member has with the same value (the data, the held-out alphabets and
 * the training classes' digests that `demo` and the service check against, the augmentation...):
 * true of the ensemble as well. Facts of one run (its best step, learning rate...) drop out.
 */
function sharedFacts(trainings: readonly Record<string, unknown>[]): Record<string, unknown> {
  const [first, ...rest] = trainings;
  return Object.fromEntries(
    Object.entries(first ?? {}).filter(([k, v]) => rest.every((t) => k in t && JSON.stringify(t[k]) === JSON.stringify(v))),
  );
}

/** Builds the ensemble of `dirs` and saves it to `out` (model.json, weights.bin, fewshot.json). */
export async function saveEnsembleOfModelDirs(dirs: readonly string[], out: string): Promise<ModelMetadata> {
  const { model, meta } = await ensembleFromModelDirs(dirs);
  await saveModel(out, model, meta);
  model.dispose();
  return meta;
}
