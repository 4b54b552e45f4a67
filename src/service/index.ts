/**
 * `fewshot/service`: the recognition service (Fastify HTTP API + browser app) with its
 * persistent gallery of enrolled examples and its vector indexes. Start one with
 * `startService({ modelDir, port })`, or build the Fastify instance with `buildServer` to embed
 * it; see docs/service.md for the HTTP API.
 *
 * @packageDocumentation
 */
export { Gallery, galleryDir, type GalleryOptions, type GalleryExport, type NewExample, type ExampleInfo, type ClassSummary } from './gallery.js';
export type { GalleryNeighbour } from './gallery.js';
export type { HnswOptions } from './vector_index.js';
export type { RecognizeOptions } from './recognizer.js';
export { SqliteStore } from './sqlite_store.js';
export { PostgresStore } from './postgres_store.js';
export type { GalleryStore, ClassInsert, StoreChange, StoreIdentity, ExampleRow, ExportRow, InsertResult, StoredExampleInput } from './store.js';
export { ExactIndex, HnswIndex, type VectorIndex, type Metric, type Neighbour } from './vector_index.js';
export { recognize, type Recognition, type Prediction as GalleryPrediction } from './recognizer.js';
export { loadServedModel, modelFingerprint, type EmbeddingModel, type ServedModel } from './model.js';
export { buildServer, type ServerOptions } from './server.js';
export { startService, type ServiceOptions, type RunningService } from './service.js';
export { DEFAULT_LIMITS, type ServiceLimits } from './limits.js';
