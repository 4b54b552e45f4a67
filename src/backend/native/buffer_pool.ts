/**
 * Recycles the Float32Arrays that native kernels write into. A training step frees and
 * re-allocates the same 10-100 MB activation buffers every time; left to V8 they are released
 * only at the next garbage collection (peak memory grows with GC lag) and each new one is
 * zeroed and page-faulted in again. Here a buffer returns to the pool the moment the last
 * tensor using it is disposed and the next kernel output of that size reuses it.
 *
 * Safety: the cpu backend lets several tensors share one buffer (Slice/Split return views), so
 * buffers are reference-counted per ArrayBuffer across all of the backend's data entries; and
 * readSync (dataSync/data/array) hands out a copy, never the pooled memory itself.
 */
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';

type Entry = { values?: unknown };

export class BufferPool {
  private readonly owned = new WeakSet<ArrayBufferLike>();
  private readonly refs = new Map<ArrayBufferLike, number>();
  private readonly free = new Map<number, ArrayBuffer[]>();
  private freeBytes = 0;

  constructor(private readonly capBytes: number) {}

  /** A Float32Array of `size` elements; contents are arbitrary (kernels overwrite all of it). */
  take(size: number): Float32Array {
    const bytes = size * 4;
    const list = this.free.get(bytes);
    const reused = list?.pop();
    if (reused) {
      this.freeBytes -= bytes;
      return new Float32Array(reused);
    }
    const buffer = new ArrayBuffer(bytes);
    this.owned.add(buffer);
    return new Float32Array(buffer);
  }

  owns(values: unknown): boolean {
    return ArrayBuffer.isView(values) && this.owned.has(values.buffer);
  }

  /** Counts `backend.data` entries per pooled buffer, releasing a buffer when it reaches 0. */
  attach(backend: MathBackendCPU): void {
    const data = backend.data as unknown as { has(id: object): boolean; get(id: object): Entry; set(id: object, v: Entry): void; delete(id: object): boolean };
    const set = data.set.bind(data), del = data.delete.bind(data);
    data.set = (id, value) => {
      const old = data.has(id) ? data.get(id) : undefined;
      set(id, value);
      this.ref(value?.values);
      if (old) this.unref(old.values);
    };
    data.delete = (id) => {
      const old = data.has(id) ? data.get(id) : undefined;
      const removed = del(id);
      if (old) this.unref(old.values);
      return removed;
    };
  }

  /** How many of the backend's data entries use the buffer behind `values`. */
  users(values: unknown): number {
    return ArrayBuffer.isView(values) ? this.refs.get(values.buffer) ?? 0 : 0;
  }

  // Every Float32Array buffer is counted (in-place updates need to know a buffer is not
  // shared); only pooled ones are recycled.
  private ref(values: unknown): void {
    if (!(values instanceof Float32Array)) return;
    const buffer = values.buffer;
    this.refs.set(buffer, (this.refs.get(buffer) ?? 0) + 1);
  }

  private unref(values: unknown): void {
    if (!(values instanceof Float32Array)) return;
    const buffer = values.buffer;
    const n = (this.refs.get(buffer) ?? 1) - 1;
    if (n > 0) {
      this.refs.set(buffer, n);
      return;
    }
    this.refs.delete(buffer);
    if (!this.owned.has(buffer)) return;
    if (this.freeBytes + buffer.byteLength > this.capBytes) return; // let GC have it
    const list = this.free.get(buffer.byteLength) ?? [];
    list.push(buffer as ArrayBuffer);
    this.free.set(buffer.byteLength, list);
    this.freeBytes += buffer.byteLength;
  }
}
