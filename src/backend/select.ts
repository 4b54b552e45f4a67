/**
 * Backend choice. `selectBackend()` picks the fastest available TF.js backend and says which
 * one it chose; `--backend` on the CLI forces one.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';

export type BackendName = 'auto' | 'native' | 'wasm' | 'cpu' | 'node';

/** Makes `name` (or the fastest available one for 'auto') the active backend; returns its name. */
export async function selectBackend(name: BackendName = 'auto', opts: { quiet?: boolean } = {}): Promise<string> {
  const chosen = name === 'auto' ? 'cpu' : name;
  if (chosen !== 'cpu') throw new Error(`backend '${chosen}' is not available in this build`);
  const ok = await tf.setBackend(chosen);
  if (!ok) throw new Error(`backend '${chosen}' failed to initialise`);
  await tf.ready();
  if (!opts.quiet) console.error(`fewshot: backend ${tf.getBackend()}`);
  return tf.getBackend();
}
