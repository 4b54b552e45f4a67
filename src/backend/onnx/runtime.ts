/**
 * ONNX Runtime (onnxruntime-node, an optional dependency: its CPU library ships inside the npm
 * package, nothing is downloaded) behind a synchronous `run`. fewshot's inference path
 * (SiameseScorer.embed and everything above it) is synchronous, and so is the runtime itself:
 * onnxruntime-node's public `InferenceSession.run` only wraps the native, blocking call in a
 * promise. We call that native session directly (the package has no exports map; the binding's
 * interface is pinned by the dependency's version range).
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

export interface NativeSession {
  loadModel(buffer: ArrayBuffer, byteOffset: number, byteLength: number, options: object): void;
  run(feeds: Record<string, unknown>, fetches: Record<string, null>, options: object): Record<string, { data: unknown; dims: readonly number[] } >;
  readonly inputMetadata: Array<{ name: string }> | string[];
  readonly outputMetadata: Array<{ name: string }> | string[];
  dispose(): void;
}
export interface OrtModules {
  Tensor: new (type: 'float32', data: Float32Array, dims: readonly number[]) => unknown;
  InferenceSession: new () => NativeSession;
  version: string;
}

let loaded: { ort: OrtModules | null; error: string | null } | undefined;

/** onnxruntime-node's native session class, or why it is unavailable. */
export function loadOnnxRuntime(): { ort: OrtModules | null; error: string | null } {
  if (loaded) return loaded;
  try {
    const common = require('onnxruntime-common') as { Tensor: OrtModules['Tensor'] };
    const { binding, initOrt } = require('onnxruntime-node/dist/binding.js') as { binding: { InferenceSession: OrtModules['InferenceSession'] }; initOrt: () => void };
    initOrt();
    const version = (require('onnxruntime-node/package.json') as { version: string }).version;
    loaded = { ort: { Tensor: common.Tensor, InferenceSession: binding.InferenceSession, version }, error: null };
  } catch (e) {
    loaded = { ort: null, error: `onnxruntime-node is not installed or failed to load (${(e as Error).message.split('\n')[0]}); npm install onnxruntime-node` };
  }
  return loaded;
}

export interface OrtSessionOptions {
  /** Intra-op threads (default FEWSHOT_NUM_THREADS or all cores). */
  threads?: number;
  /** Spin-wait in the thread pool between ops (ORT's default); false sleeps instead. */
  spinning?: boolean;
}

/** One loaded ONNX model, run synchronously on float32 inputs. */
export class OrtSession {
  readonly inputNames: string[];
  readonly outputNames: string[];
  private constructor(private readonly ort: OrtModules, private readonly session: NativeSession) {
    const names = (m: NativeSession['inputMetadata']) => (m as Array<{ name: string } | string>).map((e) => (typeof e === 'string' ? e : e.name));
    this.inputNames = names(session.inputMetadata);
    this.outputNames = names(session.outputMetadata);
  }

  static create(model: Uint8Array, opts: OrtSessionOptions = {}): OrtSession {
    const { ort, error } = loadOnnxRuntime();
    if (!ort) throw new Error(error!);
    const session = new ort.InferenceSession();
    const threads = opts.threads ?? (Number(process.env.FEWSHOT_NUM_THREADS) || 0);
    session.loadModel(model.buffer as ArrayBuffer, model.byteOffset, model.byteLength, {
      graphOptimizationLevel: 'all',
      executionMode: 'sequential',
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      extra: { session: { intra_op: { allow_spinning: opts.spinning === false ? '0' : '1' } } },
    });
    return new OrtSession(ort, session);
  }

  /** Runs the model; every input is a float32 tensor given as data + dims. */
  run(inputs: Record<string, { data: Float32Array; dims: readonly number[] }>): Record<string, { data: Float32Array; dims: number[] }> {
    const feeds: Record<string, unknown> = {};
    for (const name of this.inputNames) {
      const x = inputs[name];
      if (!x) throw new Error(`ONNX model input '${name}' missing (have ${Object.keys(inputs).join(', ')})`);
      feeds[name] = new this.ort.Tensor('float32', x.data, x.dims);
    }
    const fetches = Object.fromEntries(this.outputNames.map((n) => [n, null]));
    const raw = this.session.run(feeds, fetches, {});
    const out: Record<string, { data: Float32Array; dims: number[] }> = {};
    for (const [name, r] of Object.entries(raw)) out[name] = { data: r.data as Float32Array, dims: [...r.dims] };
    return out;
  }

  dispose(): void {
    this.session.dispose();
  }
}
