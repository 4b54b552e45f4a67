/**
 * One-call loading of a model directory in Node: picks the tensor backend (the fastest
 * available, or the one asked for), reads model.json + weights.bin + fewshot.json, and returns
 * a ready scorer, few-shot classifier or verifier.
 */
import { selectBackend, type BackendName } from '../backend/select.js';
import './native_runners.js'; // installs the native-plan / ONNX Runtime engines for loaded models
import { isBackboneModelDir, isFaceModelDir, loadModel, readMetadata } from '../models/io.js';
import { Verifier } from '../verification/verifier.js';
import { SiameseScorer } from './embedder.js';
import { FewShotClassifier, type FewShotClassifierOptions } from './few_shot_classifier.js';

/** How the one-call loaders pick the tensor backend. */
export interface LoadOptions {
  /** Tensor backend; 'auto' (default) takes native oneDNN kernels when built, else wasm, else cpu. */
  backend?: BackendName;
  /** Say on stderr which backend was chosen (default false: a library stays quiet). */
  verbose?: boolean;
}

/** Reads a model directory written by `fewshot train` (or saveModel) into a SiameseScorer. */
export async function loadScorer(dir: string): Promise<SiameseScorer> {
  if (isFaceModelDir(dir)) {
    // A face model: fewshot.json names the pretrained face networks (plus an optional adapter).
    const faces = await import('../applications/faces/model.js');
    const { encoder, meta } = await faces.loadFaceEncoder(dir);
    return SiameseScorer.fromFaceEncoder(encoder, meta);
  }
  if (isBackboneModelDir(dir)) {
    // A frozen pretrained backbone: fewshot.json names it; the graph loads from models/backbones/.
    const { backboneEncoder, backboneEmbeddingDim, validateBackboneConfig } = await import('../models/backbone_encoder.js');
    const meta = readMetadata(dir);
    const encoder = backboneEncoder(validateBackboneConfig(meta.backbone, `${dir}/fewshot.json`));
    // A hand-edited grid or spec would silently change what stored gallery embeddings mean.
    const dim = backboneEmbeddingDim(encoder, ...meta.inputShape);
    if (dim !== meta.embeddingDim) throw new Error(`${dir}/fewshot.json: its backbone and ${meta.inputShape.join('x')} inputs give ${dim}-d embeddings, but embeddingDim says ${meta.embeddingDim}`);
    return SiameseScorer.fromPretrainedEncoder(encoder, meta);
  }
  const { model, meta } = await loadModel(dir);
  return SiameseScorer.fromModel(model, meta, { frozen: true });
}

/**
 * Selects a backend, loads the model in `dir` and wraps it in a FewShotClassifier: call
 * `fit(supportSet)` once, then `predict(image)` per query.
 */
export async function loadClassifier(dir: string, opts: LoadOptions & FewShotClassifierOptions = {}): Promise<FewShotClassifier> {
  await selectBackend(opts.backend ?? 'auto', { quiet: !opts.verbose });
  return new FewShotClassifier(await loadScorer(dir), opts);
}

/**
 * Selects a backend, loads the model in `dir` and wraps it in a Verifier that answers "same or
 * different?" for two images at the model's calibrated threshold (or `threshold`, in the model's
 * own score units: a probability or a distance).
 */
export async function loadVerifier(dir: string, opts: LoadOptions & { threshold?: number } = {}): Promise<Verifier> {
  await selectBackend(opts.backend ?? 'auto', { quiet: !opts.verbose });
  return new Verifier(await loadScorer(dir), opts.threshold !== undefined ? { threshold: opts.threshold } : {});
}
