/**
 * `fewshot serve` as a function: load the model, open its gallery under FEWSHOT_HOME, make sure the
 * browser app is built, listen. Returns a handle whose close() flushes the gallery.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { checkBindPolicy, isLoopbackHost } from './auth.js';
import { Gallery, galleryDir } from './gallery.js';
import type { ServiceLimits } from './limits.js';
import { loadServedModel, retrievalMetric, type ServedModel } from './model.js';
import { appDistDir, packageRoot } from './paths.js';
import { buildServer } from './server.js';

export interface ServiceOptions {
  modelDir: string;
  home: string;
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  token?: string;
  limits?: Partial<ServiceLimits>;
  threshold?: number;
  annThreshold?: number;
  /** Build the browser app if missing or older than its sources (default true). */
  buildApp?: boolean;
  log?: (line: string) => void;
  logger?: boolean;
}

export interface RunningService {
  url: string;
  app: FastifyInstance;
  model: ServedModel;
  gallery: Gallery;
  close(): Promise<void>;
}

function newestMtime(dir: string): number {
  let t = 0;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const s = statSync(p);
    t = Math.max(t, s.isDirectory() ? newestMtime(p) : s.mtimeMs);
  }
  return t;
}

/**
 * Builds dist/app from app/ with esbuild when the bundle is missing or stale. Returns the folder
 * to serve, or undefined (with a note) when it cannot be built, e.g. without dev dependencies.
 */
export async function ensureAppBuilt(log: (line: string) => void): Promise<string | undefined> {
  const out = appDistDir();
  const src = join(packageRoot(), 'app');
  const bundle = join(out, 'app.js');
  // The bundle also includes src/ modules (preprocessing, layers), so both trees count.
  const sources = [src, join(packageRoot(), 'src')].filter((d) => existsSync(d));
  const fresh = existsSync(bundle) && sources.every((d) => statSync(bundle).mtimeMs >= newestMtime(d));
  if (fresh) return out;
  if (!existsSync(join(src, 'build.mjs'))) return existsSync(bundle) ? out : undefined;
  try {
    const { buildApp } = (await import(pathToFileURL(join(src, 'build.mjs')).href)) as { buildApp(opts?: { quiet?: boolean }): Promise<string> };
    await buildApp({ quiet: true });
    log(`app: bundled into ${out}`);
    return out;
  } catch (e) {
    log(`app: cannot build the browser app (${(e as Error).message}); serving the API only`);
    return existsSync(bundle) ? out : undefined;
  }
}

/** Starts the recognition service: loads the model, opens its gallery under `home`, listens on `host:port` (0 picks a free port) and serves the API and the browser app. `close()` stops it. */
export async function startService(opts: ServiceOptions): Promise<RunningService> {
  const log = opts.log ?? ((line: string) => console.error(line));
  const host = opts.host ?? '127.0.0.1';
  checkBindPolicy(host, opts.token);
  const model = await loadServedModel(opts.modelDir);
  const meta = model.scorer.meta;
  const gallery = Gallery.open({
    dir: galleryDir(opts.home, model.id),
    modelId: model.id,
    dim: meta.embeddingDim,
    metric: retrievalMetric(meta),
    annThreshold: opts.annThreshold,
    log,
  });
  try {
    const appDir = opts.buildApp === false ? (existsSync(join(appDistDir(), 'index.html')) ? appDistDir() : undefined) : await ensureAppBuilt(log);
    const app = await buildServer({ model, gallery, token: opts.token, limits: opts.limits, threshold: opts.threshold, appDir, logger: opts.logger });
    const address = await app.listen({ host, port: opts.port ?? 3000 });
    if (!opts.token && isLoopbackHost(host)) log('service: no FEWSHOT_TOKEN set, so writes are open to local clients (loopback only)');
    return {
      url: address,
      app,
      model,
      gallery,
      async close() {
        await app.close();
        gallery.close();
      },
    };
  } catch (e) {
    gallery.close();
    throw e;
  }
}
