/** Where the service finds its own files: the package root, the shipped model, the built app. */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The folder holding fewshot's package.json (works from src/ under tsx and from dist/). */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && JSON.parse(readFileSync(pkg, 'utf8')).name === 'fewshot') return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot find the fewshot package root above ' + fileURLToPath(import.meta.url));
    dir = up;
  }
}

export function packageVersion(): string {
  return JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')).version as string;
}

/** The model `fewshot serve` uses without --model. */
export function defaultModelDir(): string {
  return join(packageRoot(), 'models', 'omniglot');
}

/** FEWSHOT_HOME, default ./.fewshot (relative to the working directory). */
export function serviceHome(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env.FEWSHOT_HOME || '.fewshot');
}

/** Where `app/build.mjs` writes the bundled browser app. */
export function appDistDir(): string {
  return join(packageRoot(), 'dist', 'app');
}
