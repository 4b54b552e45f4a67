/** Option parsing shared by the subcommands: numbers with clear errors, backend, model, data paths. */
import { existsSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { selectBackend, type BackendName } from '../backend/select.js';
import { DEFAULT_MODEL_DIR, PACKAGE_ROOT } from '../inference/default_model.js';
import { isPretrainedOnlyModelDir, readMetadata } from '../models/io.js';
import type { ModelMetadata } from '../models/metadata.js';
import { seenTrainingClasses } from '../models/training_classes.js';
import { setInferenceEngine } from '../inference/native_runners.js';
import { useOnnxRuntime } from '../backend/onnx/select.js';
import { MAX_TTA_VIEWS } from '../inference/test_time_augmentation.js';

export function parseInteger(min: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`expected an integer >= ${min}, got '${value}'`);
    return n;
  };
}

export function parseNumber(min = -Infinity) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || n < min) throw new InvalidArgumentError(`expected a number >= ${min}, got '${value}'`);
    return n;
  };
}

export function parseList(value: string): string[] {
  return value.split(',').map((s) => s.trim()).filter(Boolean);
}

export function parseIntList(value: string): number[] {
  return parseList(value).map((s) => parseInteger(1)(s));
}

export const BACKENDS = ['auto', 'native', 'wasm', 'cpu', 'node'] as const;

/** `inference`: the command only runs loaded models, so ONNX Runtime ('onnx') is offered too. */
export function addBackendOption(cmd: Command, opts: { inference?: boolean } = {}): Command {
  const choices = opts.inference ? [...BACKENDS, 'onnx'] : [...BACKENDS];
  const help = opts.inference ? "tensor backend; 'onnx': models run on ONNX Runtime (onnxruntime-node), the rest on 'auto'" : 'tensor backend';
  return cmd.addOption(new Option('--backend <name>', help).choices(choices).default('auto'));
}

export async function useBackend(name: string | undefined, quiet = false): Promise<string> {
  if (name === 'onnx') return useOnnxRuntime(quiet);
  setInferenceEngine('auto');
  return selectBackend((name ?? 'auto') as BackendName, { quiet });
}

/** `--tta <views>`: test-time augmentation of the scorer (SiameseScorer.withTestTimeAugmentation). */
export function addTtaOption(cmd: Command): Command {
  return cmd.option('--tta <views>', `test-time augmentation: mean embedding over 1 (off) to ${MAX_TTA_VIEWS} fixed small affine jitters`, parseInteger(1), 1);
}

/**
 * `--model DIR`, or the shipped Omniglot model, with a clear message when neither exists. Says
 * on stderr which model the command uses (a handwriting model answering about faces should
 * never be a surprise).
 */
export function resolveModelDir(dir: string | undefined): string {
  const chosen = dir ? resolve(dir) : DEFAULT_MODEL_DIR;
  // A pretrained face or backbone model may be fewshot.json alone (its networks are not in the folder).
  if ((!existsSync(join(chosen, 'model.json')) && !isPretrainedOnlyModelDir(chosen)) || !existsSync(join(chosen, 'fewshot.json'))) {
    throw new Error(
      dir
        ? `no fewshot model in ${chosen} (expected model.json and fewshot.json)`
        : `the shipped model is missing from ${chosen}: train it with 'npm run train:omniglot' or pass --model DIR`,
    );
  }
  process.stderr.write(`fewshot: ${describeModel(chosen, !dir)}\n`);
  return chosen;
}

/** One line naming a model directory and what it is. */
export function describeModel(dir: string, isDefault = false): string {
  let what = '';
  try {
    const meta = readMetadata(dir);
    what = ` (${meta.method}, encoder ${meta.encoder}, ${meta.inputShape.join('x')} inputs` +
      `${meta.threshold ? '' : ', no calibrated threshold'})`;
  } catch (err) {
    what = ` (unreadable fewshot.json: ${(err as Error).message})`;
  }
  const shown = relative(process.cwd(), dir) || '.';
  return isDefault
    ? `no --model given: using the shipped Omniglot model ${shown}${what}, trained on handwritten characters; pass --model DIR for your own`
    : `model ${shown}${what}`;
}

/** A warning on stderr when `data` holds classes the model was trained on. */
export function warnIfSeenClasses(meta: ModelMetadata, data: { classNames: readonly string[]; classGroups: readonly string[] }): number {
  const s = seenTrainingClasses(meta, data);
  if (!s || s.seen.length === 0) return 0;
  process.stderr.write(
    `fewshot: warning: ${s.seen.length} of the ${data.classNames.length} classes in --data were seen in training (by ${s.basis}, e.g. ${s.seen.slice(0, 3).join(', ')}): ` +
      `accuracy on them does not measure few-shot learning of new classes\n`,
  );
  return s.seen.length;
}

/** The Omniglot background zip of ../shared/data, looked up from the cwd and from the package. */
export function findOmniglotBackground(): string | null {
  const rel = join('..', 'shared', 'data', 'omniglot', 'images_background.zip');
  for (const base of [process.cwd(), PACKAGE_ROOT]) {
    const p = resolve(base, rel);
    if (existsSync(p)) return p;
  }
  return null;
}

/** Prints a JSON document on stdout (one line, so that tools can parse it). */
export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value) + '\n');
}

export function pct(x: number, digits = 2): string {
  return `${(100 * x).toFixed(digits)}%`;
}
