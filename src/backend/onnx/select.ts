/**
 * `--backend onnx`: loaded models run on ONNX Runtime (exported in memory by src/export/onnx),
 * while the small tensor work around them (distances, prototypes) stays on the fastest TF.js
 * backend. For machines without oneDNN: fast inference from a registry package alone.
 */
import { selectBackend } from '../select.js';
import { setInferenceEngine } from '../../inference/native_runners.js';
import { loadOnnxRuntime } from './runtime.js';

export async function useOnnxRuntime(quiet = false): Promise<string> {
  const { ort, error } = loadOnnxRuntime();
  if (!ort) throw new Error(`backend 'onnx' is not available: ${error}`);
  setInferenceEngine('onnx');
  const tensors = await selectBackend('auto', { quiet: true });
  if (!quiet) console.error(`fewshot: backend onnx (ONNX Runtime ${ort.version}, models exported in memory; other tensors on ${tensors})`);
  return 'onnx';
}
