/**
 * `fewshot serve` (what `npm start` runs): the recognition service and its browser app on
 * 127.0.0.1:PORT, with the gallery of the chosen model under FEWSHOT_HOME.
 */
import type { Command } from 'commander';
import { DEFAULT_ANN_THRESHOLD } from '../../service/gallery.js';
import { serviceHome } from '../../service/paths.js';
import { startService } from '../../service/service.js';
import { addBackendOption, parseInteger, parseNumber, resolveModelDir, useBackend } from '../options.js';

interface ServeOptions {
  model?: string;
  host: string;
  port?: number;
  home?: string;
  threshold?: number;
  annThreshold?: number;
  indexFlushDelay?: number;
  maxUploadBytes?: number;
  maxImageSide?: number;
  maxBatch?: number;
  maxImagePixels?: number;
  maxQueue?: number;
  allowedHost: string[];
  store?: string;
  backend: string;
  log?: boolean;
}

export function register(program: Command): void {
  const cmd = program
    .command('serve')
    .description('recognition service + browser app: enrol classes from a few images, recognise new ones (HTTP API, see /openapi.json)')
    .option('--model <dir>', 'model directory (default: the shipped Omniglot model)')
    .option('--host <address>', 'address to listen on (non-loopback needs FEWSHOT_TOKEN)', '127.0.0.1')
    .option('--port <n>', 'port (default: $PORT or 3000)', parseInteger(0))
    .option('--home <dir>', 'data folder for galleries (default: $FEWSHOT_HOME or ./.fewshot)')
    .option('--threshold <score>', "score below which a prediction is 'unknown' (default: the model's)", parseNumber())
    .option('--ann-threshold <n>', 'galleries larger than this use HNSW instead of exact search', parseInteger(1), DEFAULT_ANN_THRESHOLD)
    .option('--index-flush-delay <ms>', 'delay before a changed HNSW graph is written to disk (in the background)', parseInteger(0))
    .option('--max-upload-bytes <n>', 'largest upload', parseInteger(1024))
    .option('--max-image-side <n>', 'largest image width/height', parseInteger(8))
    .option('--max-batch <n>', 'most images per request', parseInteger(1))
    .option('--max-image-pixels <n>', 'most pixels per image (checked from the header before decoding)', parseInteger(64))
    .option('--max-queue <n>', 'image requests processed or waiting at once; more answer 503 with Retry-After', parseInteger(1))
    .option('--allowed-host <name>', "another name clients may use in the Host header (repeatable; '*' turns the check off)", (v: string, prev: string[]) => [...prev, v], [] as string[])
    .option('--store <where>', "where classes and examples live: 'sqlite' (a file under --home, the default) or a postgres:// URL shared by several replicas")
    .option('--log', 'log every request (fastify logger)');
  addBackendOption(cmd, { inference: true }).action(async (opts: ServeOptions) => {
    const modelDir = resolveModelDir(opts.model);
    await useBackend(opts.backend);
    const envPort = process.env['PORT'];
    const port = opts.port ?? (envPort ? parseInteger(0)(envPort) : 3000);
    const token = process.env['FEWSHOT_TOKEN'] || undefined;
    const readToken = process.env['FEWSHOT_READ_TOKEN'] || undefined;
    const home = opts.home ?? serviceHome();
    const limits = {
      ...(opts.maxUploadBytes ? { maxUploadBytes: opts.maxUploadBytes } : {}),
      ...(opts.maxImageSide ? { maxImageSide: opts.maxImageSide } : {}),
      ...(opts.maxBatch ? { maxBatch: opts.maxBatch } : {}),
      ...(opts.maxImagePixels ? { maxImagePixels: opts.maxImagePixels } : {}),
      ...(opts.maxQueue ? { maxQueue: opts.maxQueue } : {}),
    };
    const service = await startService({
      modelDir,
      home,
      host: opts.host,
      port,
      token,
      readToken,
      allowedHosts: opts.allowedHost,
      store: opts.store ?? process.env['FEWSHOT_STORE'],
      limits,
      threshold: opts.threshold,
      annThreshold: opts.annThreshold,
      indexFlushDelayMs: opts.indexFlushDelay,
      logger: opts.log,
    });
    const g = service.gallery;
    console.error(
      `fewshot serve: model ${service.model.name} (${service.model.id}), gallery ${g.classCount} classes / ${g.size} examples (${g.searchKind} search) in ${g.store.location}`,
    );
    console.log(`fewshot serve: open ${service.url}/  (API: ${service.url}/openapi.json)`);
    let closing = false;
    const stop = (signal: string) => {
      if (closing) return;
      closing = true;
      console.error(`fewshot serve: ${signal}, closing`);
      service.close().then(
        () => process.exit(0),
        (e: Error) => {
          console.error(`fewshot serve: error while closing: ${e.message}`);
          process.exit(1);
        },
      );
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
}
