/**
 * `fewshot serve` as a function: load the model, open its gallery under FEWSHOT_HOME, make sure the
 * browser app is built, listen. Returns a handle whose close() flushes the gallery.
 */
import { existsSync, mkdirSync, readdirSync, renameSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { checkBindPolicy, isLoopbackHost } from './auth.js';
import { Gallery, galleryDir } from './gallery.js';
import { lockFolder, type FolderLock } from './home_lock.js';
import { SqliteStore } from './sqlite_store.js';
import type { GalleryStore, StoreIdentity } from './store.js';
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
  /** FEWSHOT_READ_TOKEN: protects export, snapshot, embed and the class listings. */
  readToken?: string;
  /** Host names accepted besides the listen address and loopback names ('*': any). */
  allowedHosts?: string[];
  /** Where classes and examples live: omitted for the SQLite file under `home`, or a postgres:// URL. */
  store?: string;
  limits?: Partial<ServiceLimits>;
  threshold?: number;
  annThreshold?: number;
  /** Delay before a changed HNSW graph is written to disk (ms; default 30,000). */
  indexFlushDelayMs?: number;
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

/**
 * Galleries used to be keyed by a hash of every model file, so recalibrating orphaned them. A
 * gallery found under the model's old id is moved to its new one (and adopted by the store).
 */
function migrateLegacyGallery(home: string, model: ServedModel, log: (line: string) => void): void {
  if (!model.legacyId || model.legacyId === model.id) return;
  const legacy = galleryDir(home, model.legacyId);
  const current = galleryDir(home, model.id);
  if (existsSync(legacy) && !existsSync(current)) {
    renameSync(legacy, current);
    log(`gallery: moved ${legacy} to ${current} (model ids no longer depend on the decision threshold)`);
  }
}

/** Opens the store the options name: PostgreSQL for a postgres:// URL, else the SQLite file under `dir`. */
export async function openGalleryStore(store: string | undefined, dir: string, identity: StoreIdentity): Promise<GalleryStore> {
  if (store && /^postgres(ql)?:\/\//.test(store)) {
    const { PostgresStore } = await import('./postgres_store.js');
    return PostgresStore.open(store, identity);
  }
  if (store && store !== 'sqlite') throw new Error(`--store must be 'sqlite' or a postgres:// URL, got '${store}'`);
  return SqliteStore.open(dir, identity);
}

/** Starts the recognition service: loads the model, opens its gallery under `home`, listens on `host:port` (0 picks a free port) and serves the API and the browser app. `close()` stops it. */
export async function startService(opts: ServiceOptions): Promise<RunningService> {
  const log = opts.log ?? ((line: string) => console.error(line));
  const host = opts.host ?? '127.0.0.1';
  checkBindPolicy(host, opts.token);
  const model = await loadServedModel(opts.modelDir);
  const meta = model.scorer.meta;
  const identity: StoreIdentity = { modelId: model.id, dim: meta.embeddingDim, metric: retrievalMetric(meta), legacyModelIds: model.legacyId ? [model.legacyId] : [] };
  const shared = Boolean(opts.store && opts.store !== 'sqlite');
  let lock: FolderLock | undefined;
  const dir = galleryDir(opts.home, model.id);
  if (!shared) {
    migrateLegacyGallery(opts.home, model, log);
    mkdirSync(dir, { recursive: true });
    lock = lockFolder(dir, `the gallery of model ${model.id}`);
  }
  let gallery: Gallery;
  try {
    const store = await openGalleryStore(opts.store, dir, identity);
    gallery = await Gallery.open({ store, indexDir: shared ? undefined : dir, modelId: model.id, dim: identity.dim, metric: identity.metric, annThreshold: opts.annThreshold, flushDelayMs: opts.indexFlushDelayMs, log }).catch(async (e) => {
      await store.close();
      throw e;
    });
  } catch (e) {
    lock?.release();
    throw e;
  }
  try {
    const appDir = opts.buildApp === false ? (existsSync(join(appDistDir(), 'index.html')) ? appDistDir() : undefined) : await ensureAppBuilt(log);
    const app = await buildServer({
      model,
      gallery,
      token: opts.token,
      readToken: opts.readToken,
      host,
      allowedHosts: opts.allowedHosts,
      limits: opts.limits,
      threshold: opts.threshold,
      appDir,
      logger: opts.logger,
    });
    const address = await app.listen({ host, port: opts.port ?? 3000 });
    if (!opts.token && isLoopbackHost(host)) log('service: no FEWSHOT_TOKEN set, so writes are open to local clients (loopback only)');
    return {
      url: address,
      app,
      model,
      gallery,
      async close() {
        await app.close();
        await gallery.close();
        lock?.release();
      },
    };
  } catch (e) {
    await gallery.close();
    lock?.release();
    throw e;
  }
}
