/**
 * Backend choice. `selectBackend()` picks the fastest available TF.js backend and says which
 * one it chose; `--backend` on the CLI forces one.
 *
 * Order for 'auto': native (oneDNN addon) > node (@tensorflow/tfjs-node, only if the user
 * installed it) > wasm > cpu.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { registerNativeBackend } from './native/backend.js';
import { loadNativeAddon, NATIVE_ADVICE } from './native/addon.js';
import { silenceCpuBackendGreeting } from './quiet_cpu.js';

silenceCpuBackendGreeting();

export type BackendName = 'auto' | 'native' | 'wasm' | 'cpu' | 'node';

/** Makes a backend available to tf.setBackend; returns null when ready, else the reason. */
async function prepare(name: Exclude<BackendName, 'auto'>): Promise<string | null> {
  switch (name) {
    case 'cpu':
      return null;
    case 'native':
      return registerNativeBackend();
    case 'wasm': {
      try {
        await import('@tensorflow/tfjs-backend-wasm');
        (await import('./wasm.js')).prepareWasmBackend();
        return null;
      } catch (e) {
        return `@tensorflow/tfjs-backend-wasm failed to load: ${(e as Error).message}`;
      }
    }
    case 'node': {
      // Optional peer: never a dependency (its install downloads libtensorflow).
      const pkg = '@tensorflow/tfjs-node';
      try {
        await import(pkg);
        return tf.findBackendFactory('tensorflow') ? null : `${pkg} loaded but registered no 'tensorflow' backend`;
      } catch {
        return `${pkg} is not installed`;
      }
    }
  }
}

/** tfjs-node registers itself as 'tensorflow'. */
const tfName = (name: string) => (name === 'node' ? 'tensorflow' : name);

let announced = '';
let advised = false;

function describe(active: string): string {
  if (active === 'native') {
    const addon = loadNativeAddon().addon!;
    return `native (oneDNN ${addon.version()}, ${addon.getNumThreads()} threads)`;
  }
  return active === 'tensorflow' ? 'node (@tensorflow/tfjs-node)' : active;
}

/** Makes `name` (or the fastest available one for 'auto') the active backend; returns its name. */
export async function selectBackend(name: BackendName = 'auto', opts: { quiet?: boolean } = {}): Promise<string> {
  const order: Array<Exclude<BackendName, 'auto'>> = name === 'auto' ? ['native', 'node', 'wasm', 'cpu'] : [name];
  const reasons: string[] = [];
  for (const candidate of order) {
    const problem = await prepare(candidate);
    if (problem) {
      reasons.push(`${candidate}: ${problem}`);
      if (candidate === 'native' && name === 'auto' && !opts.quiet && !advised) {
        advised = true;
        console.error(`fewshot: fast native kernels unavailable (${problem}); to get them: ${NATIVE_ADVICE}`);
      }
      continue;
    }
    let ok = false;
    try {
      ok = await tf.setBackend(tfName(candidate));
      await tf.ready();
    } catch (e) {
      reasons.push(`${candidate}: ${(e as Error).message}`);
      continue;
    }
    if (!ok) {
      reasons.push(`${candidate}: failed to initialise`);
      continue;
    }
    const active = tf.getBackend();
    if (!opts.quiet && announced !== active) {
      announced = active;
      console.error(`fewshot: backend ${describe(active)}`);
    }
    return active === 'tensorflow' ? 'node' : active;
  }
  const hint = name === 'native' ? ` (${NATIVE_ADVICE})` : '';
  throw new Error(`backend '${name}' is not available: ${reasons.join('; ')}${hint}`);
}
