/**
 * The TF.js wasm backend, made able to train: tfjs-backend-wasm 4.22 has no
 * Conv2DBackpropFilter, so any conv net fails in its first backward pass. This registers one
 * (im2col in JS, the product on the backend's own XNNPACK matmul, in batch chunks to bound the
 * 4 GiB wasm heap) and points the loader at the .wasm files in node_modules.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { setWasmPaths, type BackendWasm } from '@tensorflow/tfjs-backend-wasm';

/** Patch rows (batch*outH*outW) per chunk: at most ~16M floats of im2col buffer at a time. */
const CHUNK_FLOATS = 1 << 24;

function conv2DBackpropFilterWasm(args: { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs?: tf.NamedAttrMap }): tf.TensorInfo {
  const backend = args.backend as BackendWasm;
  const { x, dy } = args.inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = args.attrs as unknown as tf.Conv2DBackpropFilterAttrs;
  if (dataFormat != null && dataFormat !== 'NHWC') throw new Error(`wasm Conv2DBackpropFilter supports NHWC only, got ${dataFormat}`);
  const c = tf.backend_util.computeConv2DInfo(x.shape as [number, number, number, number], filterShape, strides, 1, pad, dimRoundingMode, false, 'channelsLast');
  const patch = c.filterHeight * c.filterWidth * c.inChannels;
  const pixelsPerImage = c.outHeight * c.outWidth;
  const imagesPerChunk = Math.max(1, Math.floor(CHUNK_FLOATS / (patch * pixelsPerImage)));
  const dw = new Float32Array(patch * c.outChannels);
  const matMul = tf.getKernel('BatchMatMul', 'wasm')!.kernelFunc;
  for (let b0 = 0; b0 < c.batchSize; b0 += imagesPerChunk) {
    const nb = Math.min(imagesPerChunk, c.batchSize - b0);
    const rows = nb * pixelsPerImage;
    const cols = new Float32Array(rows * patch);
    // Heap views go stale (detached) whenever the wasm memory grows: take them fresh each time.
    const xv = backend.typedArrayFromHeap(x) as Float32Array;
    let r = 0;
    for (let b = b0; b < b0 + nb; b++) {
      for (let oy = 0; oy < c.outHeight; oy++) {
        for (let ox = 0; ox < c.outWidth; ox++, r++) {
          let o = r * patch;
          for (let ky = 0; ky < c.filterHeight; ky++) {
            const iy = oy * c.strideHeight - c.padInfo.top + ky;
            for (let kx = 0; kx < c.filterWidth; kx++, o += c.inChannels) {
              const ix = ox * c.strideWidth - c.padInfo.left + kx;
              if (iy < 0 || iy >= c.inHeight || ix < 0 || ix >= c.inWidth) continue; // zeros
              const src = ((b * c.inHeight + iy) * c.inWidth + ix) * c.inChannels;
              cols.set(xv.subarray(src, src + c.inChannels), o);
            }
          }
        }
      }
    }
    const colsInfo = { dataId: backend.write(cols, [1, rows, patch], 'float32'), shape: [1, rows, patch], dtype: 'float32' as const };
    const dyOffset = b0 * pixelsPerImage * c.outChannels;
    const dyChunk = (backend.typedArrayFromHeap(dy) as Float32Array).slice(dyOffset, dyOffset + rows * c.outChannels);
    const dyInfo = { dataId: backend.write(dyChunk, [1, rows, c.outChannels], 'float32'), shape: [1, rows, c.outChannels], dtype: 'float32' as const };
    const part = matMul({ inputs: { a: colsInfo, b: dyInfo }, backend, attrs: { transposeA: true, transposeB: false } }) as tf.TensorInfo;
    const pv = backend.typedArrayFromHeap(part) as Float32Array;
    for (let i = 0; i < dw.length; i++) dw[i] += pv[i];
    for (const t of [colsInfo, dyInfo, part]) backend.disposeData(t.dataId);
  }
  const out = backend.makeOutput([...filterShape], 'float32');
  (backend.typedArrayFromHeap(out) as Float32Array).set(dw);
  return out;
}

let prepared = false;

/** Points the wasm loader at node_modules and adds the missing kernel. Idempotent. */
export function prepareWasmBackend(): void {
  if (prepared) return;
  prepared = true;
  const pkg = createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm/package.json');
  setWasmPaths(join(dirname(pkg), 'dist') + '/');
  if (!tf.getKernel('Conv2DBackpropFilter', 'wasm')) {
    tf.registerKernel({ kernelName: 'Conv2DBackpropFilter', backendName: 'wasm', kernelFunc: conv2DBackpropFilterWasm as unknown as tf.KernelFunc });
  }
}
