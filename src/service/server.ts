/**
 * The HTTP API (fastify) over one model and its gallery, plus the browser app's static files.
 * Routes answer JSON; every error answers `{error, message}` with a 4xx/5xx status. Requests are
 * validated completely (auth, size, decoding, names) before anything is written.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import multipart from '@fastify/multipart';
import fastifyStatic from '@fastify/static';
import { Admission } from './admission.js';
import { authorize, hostAllowlist, type Access, type AccessPolicy } from './auth.js';
import type { Gallery } from './gallery.js';
import { DEFAULT_LIMITS, HttpError, positiveInt, validateClassName, type ServiceLimits } from './limits.js';
import { ServiceMetrics } from './metrics.js';
import { decisionThreshold, retrievalMetric, type ServedModel } from './model.js';
import { openApiDocument } from './openapi.js';
import { recognize } from './recognizer.js';
import { DEFAULT_CLASS_DECISION, verifyAgainstClass } from './class_verification.js';
import { REFERENCE_DECISIONS, type ReferenceDecision } from '../verification/writer_dependent.js';
import { allFaces, faceJson, largestFaces, parseFacesParam, type FaceJson } from './faces.js';
import { decodeUploads, IMAGE_TYPES, readUploads, type DecodedUpload } from './uploads.js';
import { packageVersion } from './paths.js';
import { faceApiWeightsFile } from '../applications/faces/face_api.js';
import '../data/jpeg_turbo.js'; // uploads: JPEG decoding through libjpeg-turbo (wasm)

const WASM_FILES = ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm'];
const wasmDir = () => dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));

/** Where the browser app fetches face-api's weights (face models only). */
const FACE_WEIGHTS_PREFIX = '/face-api/model/';

/** A decision named in a query string (?decision=), or a 400 naming the choices. */
function requestDecision(value: string): ReferenceDecision {
  if (!(REFERENCE_DECISIONS as readonly string[]).includes(value)) throw new HttpError(400, `decision must be ${REFERENCE_DECISIONS.join(' or ')}, got '${value}'`);
  return value as ReferenceDecision;
}

export interface ServerOptions {
  model: ServedModel;
  gallery: Gallery;
  /** Bearer token required for writes (FEWSHOT_TOKEN); none: writes open (loopback only). */
  token?: string;
  /** Bearer token for reads of the gallery (FEWSHOT_READ_TOKEN); FEWSHOT_TOKEN is accepted too. */
  readToken?: string;
  /** The address the server listens on (for the Host allowlist; default 127.0.0.1). */
  host?: string;
  /** More names accepted in the Host header (`--allowed-host`); '*' accepts any. */
  allowedHosts?: string[];
  limits?: Partial<ServiceLimits>;
  /** Overrides the model's decision threshold for `unknown` / `same`. */
  threshold?: number;
  /** Examples re-scored with the model per prediction (default 64). */
  candidates?: number;
  /** Built browser app (index.html, app.js...); omitted: no app routes. */
  appDir?: string;
  logger?: boolean;
}

const STATUS_NAMES: Record<number, string> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  406: 'not_acceptable',
  409: 'conflict',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  422: 'unprocessable',
  429: 'too_many_requests',
  500: 'internal_error',
  503: 'unavailable',
};

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Who may call the route (see auth.ts); default 'public'. */
    access?: Access;
    /** The route decodes and embeds uploaded images: it goes through the bounded work queue. */
    images?: boolean;
  }
}

function errorBody(status: number, message: string): { error: string; message: string } {
  return { error: STATUS_NAMES[status] ?? (status < 500 ? 'bad_request' : 'internal_error'), message };
}

/** The Fastify instance of the service (routes, limits, auth), for embedding in another server or testing with `inject`. */
export async function buildServer(opts: ServerOptions): Promise<FastifyInstance> {
  const limits: ServiceLimits = { ...DEFAULT_LIMITS, ...opts.limits };
  const { model, gallery } = opts;
  const threshold = decisionThreshold(model.scorer.meta, opts.threshold);
  const metrics = new ServiceMetrics();
  const version = packageVersion();
  const policy: AccessPolicy = { writeToken: opts.token, readToken: opts.readToken, allowedHosts: hostAllowlist(opts.host ?? '127.0.0.1', opts.allowedHosts) };
  const admission = new Admission(limits.maxQueue);

  const app = Fastify({ logger: opts.logger ?? false, bodyLimit: limits.maxUploadBytes, forceCloseConnections: true });

  // Raw image bodies arrive as Buffers; the route decodes them (by magic bytes, not by header).
  app.addContentTypeParser(IMAGE_TYPES, { parseAs: 'buffer', bodyLimit: limits.maxUploadBytes }, (_req, body, done) => done(null, body));
  await app.register(multipart, {
    limits: { fileSize: limits.maxUploadBytes, files: limits.maxBatch + 1, fields: 8, parts: limits.maxBatch + 9 },
  });

  app.setErrorHandler((err: Error & { statusCode?: number; code?: string; validation?: unknown }, req, reply) => {
    let status = err instanceof HttpError ? err.statusCode : (err.statusCode ?? 500);
    let message = err.message;
    if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE' || err.code === 'FST_REQ_FILE_TOO_LARGE') {
      status = 413;
      message = `upload too large: the limit is ${limits.maxUploadBytes} bytes per image`;
    } else if (err.code === 'FST_FILES_LIMIT' || err.code === 'FST_PARTS_LIMIT') {
      status = 413;
      message = `too many images: at most ${limits.maxBatch} per request`;
    } else if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
      status = 415;
      message = `unsupported Content-Type '${req.headers['content-type'] ?? '(none)'}'`;
    } else if (err.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' || err.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || err instanceof SyntaxError) {
      status = 400;
    }
    if (status >= 500 && status !== 503) req.log.error(err);
    if (err instanceof HttpError) reply.headers(err.headers);
    reply.status(status).send(errorBody(status, message));
  });
  app.setNotFoundHandler((req, reply) => {
    reply.status(404).send(errorBody(404, `no route ${req.method} ${req.url.split('?')[0]}`));
  });
  app.addHook('onResponse', async (req, reply) => {
    metrics.observe(req.method, req.routeOptions.url ?? 'unmatched', reply.statusCode, reply.elapsedTime / 1000);
  });

  // Access control and admission run before the body is read. A refused request's body is never
  // read: the answer closes the connection, so an anonymous client cannot make the server parse.
  app.addHook('onRequest', async (req, reply) => {
    const config = req.routeOptions.config ?? {};
    try {
      authorize(req, config.access ?? 'public', policy);
      if (config.images) reply.raw.once('close', admission.enter());
    } catch (e) {
      reply.header('connection', 'close');
      throw e;
    }
  });

  /** Embeddings of the uploads; face models embed each photo's largest face (422 when one has none). */
  const embedWithFaces = async (uploads: DecodedUpload[]): Promise<{ embeddings: Float32Array[]; faces: FaceJson[] | null }> => {
    if (!model.scorer.faces) return { embeddings: embed(uploads), faces: null };
    const found = await largestFaces(model.scorer.faces, uploads);
    return { embeddings: embedCrops(found.map((f) => f.pixels), uploads), faces: found.map(faceJson) };
  };
  /**
   * Runs one embedding call for `uploads`, timed into the metrics. Model-side refusals (e.g. a
   * non-finite embedding) are the input's fault, not the server's: 422.
   */
  const embedTimed = (uploads: DecodedUpload[], count: number, run: () => Float32Array[]): Float32Array[] => {
    const t0 = performance.now();
    let out: Float32Array[];
    try {
      out = run();
    } catch (e) {
      throw new HttpError(422, `cannot embed ${uploads.length === 1 ? `image '${uploads[0]!.name}'` : 'images'}: ${(e as Error).message}`);
    }
    metrics.observeEmbedding(count, (performance.now() - t0) / 1000);
    return out;
  };
  const embed = (uploads: DecodedUpload[]): Float32Array[] => embedTimed(uploads, uploads.length, () => model.scorer.embedImages(uploads.map((u) => u.image)));
  /** Face models: embeddings of aligned face crops found in `uploads`. */
  const embedCrops = (crops: Uint8Array[], uploads: DecodedUpload[]): Float32Array[] => embedTimed(uploads, crops.length, () => model.scorer.faces!.embed(crops));

  const oneImage = async (req: FastifyRequest): Promise<DecodedUpload> => {
    const uploads = await readUploads(req, limits);
    if (uploads.length !== 1) throw new HttpError(400, `send exactly one image, got ${uploads.length}`);
    return decodeUploads(uploads, limits)[0]!;
  };

  // --- health, metrics, documentation -------------------------------------------------------
  app.get('/healthz', async () => ({
    status: 'ok',
    model: { id: model.id, name: model.name },
    gallery: { classes: gallery.classCount, examples: gallery.size, search: gallery.searchKind, store: gallery.store.kind },
  }));
  app.get('/metrics', async (_req, reply) => {
    reply.type('text/plain; version=0.0.4');
    return metrics.render({
      gallery_examples: gallery.size,
      gallery_classes: gallery.classCount,
      gallery_hnsw: gallery.searchKind === 'hnsw' ? 1 : 0,
      image_requests_in_flight: admission.size,
      image_requests_rejected_total: admission.rejected,
    });
  });
  app.get('/openapi.json', async () => openApiDocument(version));

  // --- the model, for the browser app ---------------------------------------------------------
  app.get('/api/model', async () => ({
    id: model.id,
    name: model.name,
    meta: model.scorer.meta,
    threshold,
    metric: retrievalMetric(model.scorer.meta),
    // null: no layers network (a pretrained face model without an adapter: fewshot.json alone).
    modelUrl: model.files.includes('model.json') ? '/model/model.json' : null,
    // Face models: where the page loads face-api's detector, landmark and descriptor weights from
    // (this server, out of its node_modules; nothing is fetched from elsewhere).
    faceWeightsUrl: model.scorer.faces ? FACE_WEIGHTS_PREFIX : null,
    search: gallery.searchKind,
    limits,
    writeNeedsToken: Boolean(opts.token),
    readNeedsToken: Boolean(opts.token || opts.readToken),
  }));
  app.get<{ Params: { file: string } }>('/model/:file', async (req, reply) => {
    const file = req.params.file;
    if (!model.files.includes(file)) throw new HttpError(404, `no model file '${file}'`);
    reply.type(file.endsWith('.json') ? 'application/json' : 'application/octet-stream');
    reply.header('cache-control', 'no-cache');
    return readFileSync(join(model.dir, file));
  });

  // The page's TF.js wasm backend binaries (any model), from node_modules.
  app.get<{ Params: { file: string } }>('/tfjs-wasm/:file', async (req, reply) => {
    const file = req.params.file;
    if (!WASM_FILES.includes(file)) throw new HttpError(404, `no wasm file '${file}'`);
    reply.type('application/wasm');
    reply.header('cache-control', 'max-age=86400');
    return readFileSync(join(wasmDir(), file));
  });
  app.get<{ Params: { file: string } }>(`${FACE_WEIGHTS_PREFIX}:file`, async (req, reply) => {
    if (!model.scorer.faces) throw new HttpError(404, `model ${model.name} is not a face model: it has no face networks`);
    const file = faceApiWeightsFile(req.params.file);
    if (!file) throw new HttpError(404, `no face network file '${req.params.file}'`);
    reply.type(file.endsWith('.json') ? 'application/json' : 'application/octet-stream');
    reply.header('cache-control', 'max-age=86400');
    return readFileSync(file);
  });

  // --- classes and examples -------------------------------------------------------------------
  const read = { config: { access: 'read' as const } };
  const write = { config: { access: 'write' as const } };
  const writeImages = { config: { access: 'write' as const, images: true } };
  app.get('/api/classes', read, async () => gallery.classes());
  app.get<{ Params: { name: string } }>('/api/classes/:name', read, async (req) => {
    const examples = await gallery.examples(req.params.name);
    if (!examples) throw new HttpError(404, `no class '${req.params.name}'`);
    return { name: req.params.name, decision: (await gallery.decisionOf(req.params.name)) ?? null, examples };
  });
  app.post<{ Params: { name: string }; Querystring: { decision?: string } }>('/api/classes/:name/examples', writeImages, async (req, reply) => {
    const name = req.params.name;
    validateClassName(name);
    // ?decision=wd|distance is stored with the class (its default for /verify), with the examples.
    const decision = req.query.decision === undefined ? undefined : requestDecision(req.query.decision);
    const uploads = decodeUploads(await readUploads(req, limits), limits);
    const { embeddings, faces } = await embedWithFaces(uploads);
    const ids = await gallery.enrol(
      name,
      uploads.map((u, i) => ({ embedding: embeddings[i]!, sha256: u.sha256, source: u.field === 'body' ? 'upload' : `upload:${u.name}`.slice(0, 200) })),
      decision ? { decision } : {},
    );
    reply.status(201);
    const withFaces = faces ? { faces } : {};
    return ids.length === 1 ? { class: name, id: ids[0]!, ...withFaces } : { class: name, id: ids[0]!, ids, ...withFaces };
  });
  app.delete<{ Params: { name: string } }>('/api/classes/:name', write, async (req) => {
    const deleted = await gallery.deleteClass(req.params.name);
    if (deleted === null) throw new HttpError(404, `no class '${req.params.name}'`);
    return { class: req.params.name, deleted: true, examples: deleted };
  });
  app.delete<{ Params: { name: string; id: string } }>('/api/classes/:name/examples/:id', write, async (req) => {
    const id = positiveInt(req.params.id, 'example id');
    const ex = await gallery.example(id);
    if (!ex || ex.class !== req.params.name || !(await gallery.deleteExample(id))) throw new HttpError(404, `class '${req.params.name}' has no example ${id}`);
    return { class: ex.class, id, deleted: true };
  });
  app.delete<{ Params: { id: string } }>('/api/examples/:id', write, async (req) => {
    const id = positiveInt(req.params.id, 'example id');
    const ex = await gallery.deleteExample(id);
    if (!ex) throw new HttpError(404, `no example ${id}`);
    return { class: ex.className, id, deleted: true };
  });

  // --- recognition ------------------------------------------------------------------------------
  const recognizeImages = { config: { access: 'recognize' as const, images: true } };
  app.post<{ Querystring: { top?: string; faces?: string } }>('/api/predict', recognizeImages, async (req) => {
    const top = req.query.top === undefined ? 5 : positiveInt(req.query.top, 'top', 100);
    const which = parseFacesParam(req.query.faces);
    const upload = await oneImage(req);
    const answer = (query: Float32Array) => {
      const r = recognize(model.scorer, gallery, query, { threshold, top, candidates: opts.candidates });
      return { predictions: r.predictions, unknown: r.unknown, threshold: r.threshold, nearest: r.nearest, search: r.search };
    };
    if (which === 'all' && model.scorer.faces) {
      // Every face, largest first, each with its own ranking.
      const found = await allFaces(model.scorer.faces, upload);
      const embeddings = embedCrops(found.map((f) => f.pixels), [upload]);
      return { faces: found.map((f, i) => ({ face: faceJson(f), ...answer(embeddings[i]!) })) };
    }
    const { embeddings, faces } = await embedWithFaces([upload]);
    return { ...answer(embeddings[0]!), ...(faces ? { face: faces[0]! } : {}) };
  });
  app.post('/api/verify', recognizeImages, async (req) => {
    const uploads = await readUploads(req, limits);
    const a = uploads.filter((u) => u.field === 'a');
    const b = uploads.filter((u) => u.field === 'b');
    if (a.length !== 1 || b.length !== 1 || uploads.length !== 2) {
      throw new HttpError(400, `send two multipart files named 'a' and 'b' (got fields: ${uploads.map((u) => u.field).join(', ') || 'none'})`);
    }
    const decoded = decodeUploads([a[0]!, b[0]!], limits);
    const { embeddings: [ea, eb], faces } = await embedWithFaces(decoded);
    const score = model.scorer.similarity(ea!, [eb!])[0]!;
    return { score, same: threshold === null ? null : score >= threshold, threshold, ...(faces ? { faces: { a: faces[0]!, b: faces[1]! } } : {}) };
  });
  app.post<{ Params: { name: string }; Querystring: { decision?: string } }>('/api/classes/:name/verify', recognizeImages, async (req) => {
    const asked = req.query.decision === undefined ? undefined : requestDecision(req.query.decision);
    // The request's decision, else the one the class was enrolled with, else the model's, else the default.
    const stored = await gallery.decisionOf(req.params.name);
    if (stored === undefined) throw new HttpError(404, `no class '${req.params.name}'`);
    const modelDecision = model.scorer.meta.decision;
    const decision = asked ?? stored ?? modelDecision ?? DEFAULT_CLASS_DECISION;
    const decisionFrom = asked ? 'request' : stored ? 'class' : modelDecision ? 'model' : 'default';
    const { embeddings: [query] } = await embedWithFaces([await oneImage(req)]);
    return { ...(await verifyAgainstClass(model.scorer, gallery, req.params.name, query!, decision, threshold)), decisionFrom };
  });
  app.post('/api/embed', { config: { access: 'read' as const, images: true } }, async (req) => {
    const uploads = decodeUploads(await readUploads(req, limits), limits);
    const { embeddings, faces } = await embedWithFaces(uploads);
    return { embeddings: embeddings.map((e) => Array.from(e)), ...(faces ? { faces } : {}) };
  });

  // --- the gallery as a whole ----------------------------------------------------------------
  app.get('/api/gallery/snapshot', read, async () => {
    if (gallery.size > limits.maxSnapshot) return { available: false, size: gallery.size, examples: [] };
    const rows = gallery.snapshot(limits.maxSnapshot);
    return { available: true, size: rows.length, examples: rows.map((r) => ({ id: r.id, class: r.className, embedding: Array.from(r.embedding) })) };
  });
  app.get('/api/gallery/export', read, async (_req, reply) => {
    // Streamed class by class from the store: memory stays flat at any gallery size.
    reply.header('content-disposition', `attachment; filename="gallery-${model.id}.json"`);
    reply.type('application/json');
    return reply.send(Readable.from(gallery.exportChunks()));
  });
  app.post<{ Querystring: { replace?: string } }>(
    '/api/gallery/import',
    { config: { access: 'write' }, bodyLimit: limits.maxImportBytes },
    async (req) => {
      if (req.body === undefined || req.body === null || typeof req.body !== 'object') throw new HttpError(400, 'send the gallery export as a JSON body');
      try {
        return await gallery.importJson(req.body, { replace: req.query.replace === 'true', validateName: validateClassName });
      } catch (e) {
        if (e instanceof HttpError) throw e;
        throw new HttpError(400, `cannot import: ${(e as Error).message}`);
      }
    },
  );

  // --- the browser app ------------------------------------------------------------------------
  if (opts.appDir && existsSync(join(opts.appDir, 'index.html'))) {
    await app.register(fastifyStatic, { root: opts.appDir, prefix: '/', index: 'index.html', wildcard: false, cacheControl: false });
  } else {
    app.get('/', async (_req, reply) => {
      reply.type('text/html');
      return '<!doctype html><title>fewshot</title><p>The browser app is not built. Run <code>npm run build</code> (or <code>node app/build.mjs</code>) and restart; the API is at <a href="/openapi.json">/openapi.json</a>.</p>';
    });
  }
  return app;
}
