/** Option parsing shared by the subcommands: numbers with clear errors, backend, model, data paths. */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { selectBackend, type BackendName } from '../backend/select.js';
import { DEFAULT_MODEL_DIR, PACKAGE_ROOT } from '../inference/default_model.js';

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

export function addBackendOption(cmd: Command): Command {
  return cmd.addOption(new Option('--backend <name>', 'tensor backend').choices([...BACKENDS]).default('auto'));
}

export async function useBackend(name: string | undefined, quiet = false): Promise<string> {
  return selectBackend((name ?? 'auto') as BackendName, { quiet });
}

/** `--model DIR`, or the shipped Omniglot model, with a clear message when neither exists. */
export function resolveModelDir(dir: string | undefined): string {
  const chosen = dir ? resolve(dir) : DEFAULT_MODEL_DIR;
  // A pretrained face model may be fewshot.json alone (its networks come from node_modules).
  const faceModel = existsSync(join(chosen, 'fewshot.json')) && /"encoder"\s*:\s*"face"/.test(readFileSync(join(chosen, 'fewshot.json'), 'utf8'));
  if ((!existsSync(join(chosen, 'model.json')) && !faceModel) || !existsSync(join(chosen, 'fewshot.json'))) {
    throw new Error(
      dir
        ? `no fewshot model in ${chosen} (expected model.json and fewshot.json)`
        : `the shipped model is missing from ${chosen}: train it with 'npm run train:omniglot' or pass --model DIR`,
    );
  }
  return chosen;
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
