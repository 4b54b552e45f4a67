/**
 * Resumable training state: model weights, optimizer slots, the step and the bookkeeping of
 * validation / early stopping. Written as ONE file through a temporary name and a rename, so a
 * kill at any moment leaves either the previous checkpoint or the new one, never half of one.
 *
 * The random streams need no saved state: every step draws from an Rng derived from
 * (seed, step), so the step number *is* the RNG state.
 *
 * File layout: 8-byte magic, uint32 header length, JSON header, then the float32 payloads
 * (model weights first, then optimizer slots) in header order.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync, existsSync } from 'node:fs';
import { dirname } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { OptimizerState } from './optimizer.js';

const MAGIC = 'FSCKPT01';

export interface TrainingProgress {
  /** Number of optimisation steps already done. */
  step: number;
  bestAccuracy: number;
  bestStep: number;
  /** Validations since the best one (early stopping). */
  stale: number;
  elapsedSeconds: number;
  /** CPU seconds of the training process (all its threads), resumes included; absent in older checkpoints. */
  cpuSeconds?: number;
}

export interface Checkpoint {
  progress: TrainingProgress;
  /** The configuration of the run, so that `--resume` can refuse a mismatched one. */
  config: Record<string, unknown>;
  weights: { name: string; shape: number[]; values: Float32Array }[];
  optimizer: OptimizerState;
}

export async function captureWeights(model: tfl.LayersModel): Promise<Checkpoint['weights']> {
  const out: Checkpoint['weights'] = [];
  for (const w of model.weights) {
    const t = w.read();
    out.push({ name: w.originalName, shape: t.shape.slice(), values: Float32Array.from(await t.data()) });
  }
  return out;
}

export function restoreWeights(model: tfl.LayersModel, weights: Checkpoint['weights']): void {
  const vars = model.weights;
  if (vars.length !== weights.length) {
    throw new Error(`checkpoint has ${weights.length} weight tensors but the model has ${vars.length}: was it written by another encoder/method?`);
  }
  const tensors = weights.map((w, i) => {
    const expect = vars[i]!.shape;
    if (expect.length !== w.shape.length || expect.some((d, j) => d !== w.shape[j])) {
      throw new Error(`checkpoint weight ${w.name} has shape [${w.shape}] but the model expects [${expect}]`);
    }
    return tf.tensor(w.values, w.shape);
  });
  model.setWeights(tensors);
  tf.dispose(tensors);
}

export function writeCheckpoint(path: string, ckpt: Checkpoint): void {
  const header = {
    progress: ckpt.progress,
    config: ckpt.config,
    weights: ckpt.weights.map((w) => ({ name: w.name, shape: w.shape, length: w.values.length })),
    optimizer: {
      names: ckpt.optimizer.names,
      shapes: ckpt.optimizer.shapes,
      dtypes: ckpt.optimizer.dtypes,
      lengths: ckpt.optimizer.values.map((v) => v.length),
    },
  };
  const headerBytes = Buffer.from(JSON.stringify(header), 'utf8');
  const prefix = Buffer.alloc(12);
  prefix.write(MAGIC, 0, 'ascii');
  prefix.writeUInt32LE(headerBytes.length, 8);
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, prefix);
    writeSync(fd, headerBytes);
    for (const arr of [...ckpt.weights.map((w) => w.values), ...ckpt.optimizer.values]) {
      writeSync(fd, new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength));
    }
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

export function readCheckpoint(path: string): Checkpoint {
  if (!existsSync(path)) throw new Error(`no checkpoint at ${path}`);
  const buf = readFileSync(path);
  if (buf.length < 12 || buf.toString('ascii', 0, 8) !== MAGIC) throw new Error(`${path} is not a fewshot checkpoint`);
  const headerLen = buf.readUInt32LE(8);
  if (12 + headerLen > buf.length) throw new Error(`checkpoint ${path} is truncated`);
  const header = JSON.parse(buf.toString('utf8', 12, 12 + headerLen)) as {
    progress: TrainingProgress;
    config: Record<string, unknown>;
    weights: { name: string; shape: number[]; length: number }[];
    optimizer: { names: string[]; shapes: number[][]; dtypes: string[]; lengths: number[] };
  };
  let offset = 12 + headerLen;
  const take = (n: number): Float32Array => {
    if (offset + n * 4 > buf.length) throw new Error(`checkpoint ${path} is truncated`);
    // Copy: the Buffer's offset may not be 4-byte aligned.
    const out = new Float32Array(n);
    new Uint8Array(out.buffer).set(buf.subarray(offset, offset + n * 4));
    offset += n * 4;
    return out;
  };
  const weights = header.weights.map((w) => ({ name: w.name, shape: w.shape, values: take(w.length) }));
  const values = header.optimizer.lengths.map((n) => take(n));
  return {
    progress: header.progress,
    config: header.config,
    weights,
    optimizer: { names: header.optimizer.names, shapes: header.optimizer.shapes, dtypes: header.optimizer.dtypes, values },
  };
}
