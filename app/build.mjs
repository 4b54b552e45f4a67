#!/usr/bin/env node
// Bundles the browser app (app/main.ts + TF.js) with esbuild into dist/app/, next to the compiled
// server. Run by `npm run build` / `prepare`, and by `fewshot serve` when the bundle is missing
// or older than app/.
import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const outDir = join(here, '..', 'dist', 'app');

export async function buildApp({ quiet = false } = {}) {
  const esbuild = await import('esbuild');
  mkdirSync(outDir, { recursive: true });
  const result = await esbuild.build({
    entryPoints: [join(here, 'main.ts')],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['es2022'],
    minify: true,
    sourcemap: true,
    outfile: join(outDir, 'app.js'),
    define: { 'process.env.NODE_ENV': '"production"' },
    logLevel: quiet ? 'error' : 'info',
  });
  for (const f of ['index.html', 'style.css']) copyFileSync(join(here, f), join(outDir, f));
  if (result.errors.length) throw new Error(`esbuild: ${result.errors.length} errors`);
  return outDir;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await buildApp();
}
