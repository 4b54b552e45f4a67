#!/usr/bin/env node
// Bundles the browser app (app/main.ts + TF.js) with esbuild into dist/app/, next to the compiled
// server. Run by `npm run build` / `prepare`, and by `fewshot serve` when the bundle is missing
// or older than app/.
import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const outDir = join(here, '..', 'dist', 'app');

const src = join(here, '..', 'src');
/**
 * face-api in the page, on the page's tfjs-core: the import map Node gets from a resolve hook
 * (src/applications/faces/face_api.ts) as an esbuild plugin. face-api's tfjs import -> our
 * tfjs_for_face_api.ts, its backend imports -> nothing (the page registers its own), and
 * pipeline.ts's Node loader (face_api.js: fs, node_modules) -> app/face_api_browser.ts.
 */
const faceApiInThePage = {
  name: 'face-api-in-the-page',
  setup(build) {
    build.onResolve({ filter: /^@tensorflow\/tfjs\/dist\/index\.js$/ }, () => ({ path: join(src, 'applications', 'faces', 'tfjs_for_face_api.ts') }));
    build.onResolve({ filter: /^@tensorflow\/tfjs-backend-(webgl|wasm)\/dist\/index\.js$/ }, () => ({ path: 'empty', namespace: 'face-api-empty' }));
    build.onLoad({ filter: /.*/, namespace: 'face-api-empty' }, () => ({ contents: 'export {}', loader: 'js' }));
    build.onResolve({ filter: /\/face_api\.js$/ }, (args) =>
      args.importer.includes(join('applications', 'faces')) ? { path: join(here, 'face_api_browser.ts') } : undefined);
  },
};

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
    plugins: [faceApiInThePage],
    logLevel: quiet ? 'error' : 'info',
  });
  for (const f of ['index.html', 'style.css']) copyFileSync(join(here, f), join(outDir, f));
  if (result.errors.length) throw new Error(`esbuild: ${result.errors.length} errors`);
  return outDir;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await buildApp();
}
