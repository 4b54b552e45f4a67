/**
 * Builds an HNSW graph in a worker thread and writes it to a file, so that a rebuild over a large
 * gallery (minutes at 1M examples) never blocks the event loop that answers requests. The worker is
 * plain JavaScript that only needs hnswlib-node, so it runs the same under tsx and from dist/.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { HnswOptions } from './vector_index.js';
import type { Metric } from './vector_index.js';

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const fs = require('node:fs');
const hnswlib = require(workerData.hnswlibPath);
const { dim, metric, capacity, m, efConstruction, seed, file } = workerData;
const ids = new Float64Array(workerData.ids);
const data = new Float32Array(workerData.data);
const index = new hnswlib.HierarchicalNSW(metric, dim);
index.initIndex(Math.max(16, capacity), m, efConstruction, seed, true);
const row = new Array(dim);
for (let i = 0; i < ids.length; i++) {
  for (let j = 0; j < dim; j++) row[j] = data[i * dim + j];
  index.addPoint(row, ids[i], true);
}
index.writeIndexSync(file);
const fd = fs.openSync(file, 'r+');
fs.fsyncSync(fd);
fs.closeSync(fd);
parentPort.postMessage({ count: ids.length });
`;

export interface HnswBuildJob {
  dim: number;
  metric: Metric;
  /** Example ids; `data` holds their vectors row by row. Both are transferred to the worker. */
  ids: Float64Array;
  data: Float32Array;
  capacity: number;
  options?: HnswOptions;
  /** Where the worker writes the graph (fsynced before it answers). */
  file: string;
  /** Aborting terminates the worker (shutdown does not wait for a long build). */
  signal?: AbortSignal;
}

export function buildHnswInWorker(job: HnswBuildJob): Promise<void> {
  const hnswlibPath = createRequire(import.meta.url).resolve('hnswlib-node');
  const ids = job.ids.buffer as ArrayBuffer;
  const data = job.data.buffer as ArrayBuffer;
  return new Promise((resolve, reject) => {
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: {
        hnswlibPath,
        dim: job.dim,
        metric: job.metric,
        capacity: job.capacity,
        m: job.options?.m ?? 16,
        efConstruction: job.options?.efConstruction ?? 100,
        seed: job.options?.seed ?? 100,
        file: job.file,
        ids,
        data,
      },
      transferList: [ids, data],
    });
    let done = false;
    const abort = () => void worker.terminate();
    job.signal?.addEventListener('abort', abort, { once: true });
    worker.once('message', () => {
      done = true;
      job.signal?.removeEventListener('abort', abort);
      resolve();
    });
    worker.once('error', reject);
    worker.once('exit', (code) => {
      job.signal?.removeEventListener('abort', abort);
      if (!done) reject(new Error(job.signal?.aborted ? 'HNSW build cancelled' : `HNSW build worker exited with code ${code}`));
    });
  });
}
