/** Shared by the service tests: a small saved model and synthetic drawings (ink on paper). */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as tfl from '@tensorflow/tfjs-layers';
import { encodePng, type Image } from '../../src/data/image.js';
import { createEncoder } from '../../src/models/encoders/registry.js';
import { saveModel } from '../../src/models/io.js';
import type { ModelMetadata } from '../../src/models/metadata.js';
import { buildPairModel } from '../../src/models/siamese.js';
import { Rng } from '../../src/util/random.js';

/** Saves an untrained 'tiny' model (28x28 input, 16-value embeddings): fast, deterministic. */
export async function saveTestModel(dir: string, kind: 'distance' | 'pair' = 'distance', seed = 7): Promise<void> {
  const encoder = createEncoder('tiny', { inputShape: [28, 28, 1], embeddingDim: 16, seed });
  const model: tfl.LayersModel = kind === 'pair' ? buildPairModel(encoder, { seed }) : encoder;
  const meta: ModelMetadata = {
    format: 'fewshot-model/1',
    method: kind === 'pair' ? 'pair' : 'contrastive',
    encoder: 'tiny',
    inputShape: [28, 28, 1],
    embeddingDim: 16,
    preprocess: { height: 28, width: 28, channels: 1, invert: true },
    score: kind === 'pair' ? 'pair-probability' : 'negative-distance',
    ...(kind === 'pair' ? {} : { distance: 'euclidean' as const }),
    createdAt: '2026-01-01T00:00:00.000Z',
  };
  await saveModel(dir, model, meta);
}

export type Shape = 'circle' | 'cross' | 'triangle' | 'bars' | 'zigzag';

/** Strokes of each shape in unit coordinates (0..1). */
export const SHAPES: Record<Shape, [number, number][][]> = {
  circle: [Array.from({ length: 25 }, (_, i) => [0.5 + 0.32 * Math.cos((i / 24) * 2 * Math.PI), 0.5 + 0.32 * Math.sin((i / 24) * 2 * Math.PI)] as [number, number])],
  cross: [
    [[0.2, 0.2], [0.8, 0.8]],
    [[0.8, 0.2], [0.2, 0.8]],
  ],
  triangle: [[[0.5, 0.15], [0.85, 0.8], [0.15, 0.8], [0.5, 0.15]]],
  bars: [
    [[0.2, 0.3], [0.8, 0.3]],
    [[0.2, 0.5], [0.8, 0.5]],
    [[0.2, 0.7], [0.8, 0.7]],
  ],
  zigzag: [[[0.15, 0.3], [0.35, 0.7], [0.5, 0.3], [0.65, 0.7], [0.85, 0.3]]],
};

/** A gray drawing: white paper, black strokes, optionally jittered (a different "drawer"). */
export function drawShape(shape: Shape, size = 56, seed?: number): Image {
  const rng = seed === undefined ? undefined : new Rng(seed);
  const j = () => (rng ? (rng.next() - 0.5) * 0.06 : 0);
  const data = new Uint8Array(size * size).fill(255);
  const radius = size / 28;
  const dot = (cx: number, cy: number) => {
    for (let y = Math.floor(cy - radius); y <= Math.ceil(cy + radius); y++)
      for (let x = Math.floor(cx - radius); x <= Math.ceil(cx + radius); x++)
        if (x >= 0 && y >= 0 && x < size && y < size && (x - cx) ** 2 + (y - cy) ** 2 <= radius * radius) data[y * size + x] = 0;
  };
  for (const stroke of SHAPES[shape]) {
    const pts = stroke.map(([x, y]) => [(x + j()) * size, (y + j()) * size] as const);
    for (let i = 1; i < pts.length; i++) {
      const [x0, y0] = pts[i - 1]!;
      const [x1, y1] = pts[i]!;
      const steps = Math.ceil(Math.hypot(x1 - x0, y1 - y0) * 2) + 1;
      for (let s = 0; s <= steps; s++) dot(x0 + ((x1 - x0) * s) / steps, y0 + ((y1 - y0) * s) / steps);
    }
  }
  return { width: size, height: size, channels: 1, data };
}

/** Bytes typed for fetch() bodies (a fresh ArrayBuffer-backed copy). */
export function bytes(b: Uint8Array): Uint8Array<ArrayBuffer> {
  return new Uint8Array(b);
}

export function shapePng(shape: Shape, size = 56, seed?: number): Uint8Array<ArrayBuffer> {
  return bytes(encodePng(drawShape(shape, size, seed)));
}

/** A multipart/form-data body with the given files (no dependency on a form library). */
export function multipartBody(files: { field: string; filename: string; type: string; data: Uint8Array }[]): { body: Uint8Array<ArrayBuffer>; contentType: string } {
  const boundary = '----fewshot' + files.length + 'x7MA4YWxkTrZu0gW';
  const parts: Uint8Array[] = [];
  for (const f of files) {
    parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${f.field}"; filename="${f.filename}"\r\nContent-Type: ${f.type}\r\n\r\n`));
    parts.push(f.data, Buffer.from('\r\n'));
  }
  parts.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: bytes(Buffer.concat(parts)), contentType: `multipart/form-data; boundary=${boundary}` };
}

/** face-api's own demo photo of three people (in node_modules: no ../shared needed). */
export function faceDemoPhoto(): string {
  return join(dirname(createRequire(import.meta.url).resolve('@vladmandic/face-api/package.json')), 'demo', 'sample1.jpg');
}

/** A crop of `img` centred on a face box, `grow` times its size, shifted sideways by `shift` box widths. */
export function cropAroundFace(img: Image, b: { x: number; y: number; width: number; height: number }, grow: number, shift = 0): Image {
  const w = Math.round(b.width * grow), h = Math.round(b.height * grow);
  const x0 = Math.max(0, Math.min(img.width - w, Math.round(b.x + b.width / 2 - w / 2 + shift * b.width)));
  const y0 = Math.max(0, Math.min(img.height - h, Math.round(b.y + b.height / 2 - h / 2)));
  const c = img.channels;
  const out = new Uint8Array(w * h * c);
  for (let r = 0; r < h; r++) out.set(img.data.subarray(((y0 + r) * img.width + x0) * c, ((y0 + r) * img.width + x0 + w) * c), r * w * c);
  return { width: w, height: h, channels: c, data: out };
}
