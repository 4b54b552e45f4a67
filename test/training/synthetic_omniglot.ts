/**
 * A tiny Omniglot-like dataset generated on the fly, so that training / evaluation / CLI tests
 * run anywhere (no shared data needed): each character is a few random strokes, each drawer
 * redraws it with jittered stroke ends; black ink on white paper, written as PNG files in
 * `<root>/images_background/<alphabet>/<character>/<id>_<drawer>.png`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ImageDataset } from '../../src/data/dataset.js';
import { encodePng } from '../../src/data/image.js';
import { Rng } from '../../src/util/random.js';

export interface SyntheticOptions {
  alphabets?: number;
  charactersPerAlphabet?: number;
  drawers?: number;
  size?: number;
  seed?: number;
  /** How far each drawer moves stroke ends, px (0: every drawer draws the same image). */
  jitter?: number;
}

type Stroke = [number, number, number, number];

/** Draws one character's strokes, each end moved by up to `jitter` px; returns grayscale pixels. */
export function drawCharacter(strokes: Stroke[], size: number, rng: Rng, jitter: number): Uint8Array {
  const px = new Uint8Array(size * size).fill(255);
  for (const [x0, y0, x1, y1] of strokes) {
    const a = [x0 + rng.uniform(-jitter, jitter), y0 + rng.uniform(-jitter, jitter)];
    const b = [x1 + rng.uniform(-jitter, jitter), y1 + rng.uniform(-jitter, jitter)];
    const steps = Math.ceil(Math.hypot(b[0]! - a[0]!, b[1]! - a[1]!) * 2) + 1;
    for (let s = 0; s <= steps; s++) {
      const x = a[0]! + ((b[0]! - a[0]!) * s) / steps;
      const y = a[1]! + ((b[1]! - a[1]!) * s) / steps;
      for (let dy = -1; dy <= 1; dy++) {
        for (let dx = -1; dx <= 1; dx++) {
          const xi = Math.round(x + dx);
          const yi = Math.round(y + dy);
          if (xi >= 0 && yi >= 0 && xi < size && yi < size) px[yi * size + xi] = 0;
        }
      }
    }
  }
  return px;
}

/** Writes the dataset; returns its root (pass it as --data) and the alphabet names. */
export function writeSyntheticOmniglot(root: string, opts: SyntheticOptions = {}): { root: string; alphabets: string[] } {
  const alphabets = opts.alphabets ?? 4;
  const chars = opts.charactersPerAlphabet ?? 6;
  const drawers = opts.drawers ?? 6;
  const size = opts.size ?? 28;
  const rng = new Rng(opts.seed ?? 7);
  const names: string[] = [];
  let id = 1;
  for (let a = 0; a < alphabets; a++) {
    const alphabet = `Alphabet_${String.fromCharCode(65 + a)}`;
    names.push(alphabet);
    for (let c = 0; c < chars; c++) {
      const character = `character${String(c + 1).padStart(2, '0')}`;
      const dir = join(root, 'images_background', alphabet, character);
      mkdirSync(dir, { recursive: true });
      const m = 4;
      const strokes: Stroke[] = Array.from({ length: 3 }, () => [
        rng.uniform(m, size - m), rng.uniform(m, size - m), rng.uniform(m, size - m), rng.uniform(m, size - m),
      ]);
      for (let d = 0; d < drawers; d++) {
        const data = drawCharacter(strokes, size, rng, opts.jitter ?? 1.5);
        const file = `${String(id).padStart(4, '0')}_${String(d + 1).padStart(2, '0')}.png`;
        writeFileSync(join(dir, file), encodePng({ width: size, height: size, channels: 1, data }));
      }
      id++;
    }
  }
  return { root, alphabets: names };
}

/** The generated images as an in-memory dataset (no files), ink high, for trainer tests. */
export function syntheticDataset(opts: SyntheticOptions = {}): ImageDataset {
  const alphabets = opts.alphabets ?? 4;
  const chars = opts.charactersPerAlphabet ?? 6;
  const drawers = opts.drawers ?? 6;
  const size = opts.size ?? 28;
  const rng = new Rng(opts.seed ?? 7);
  const pixels = new Uint8Array(alphabets * chars * drawers * size * size);
  const labels = new Int32Array(alphabets * chars * drawers);
  const classNames: string[] = [];
  const classGroups: string[] = [];
  const paths: string[] = [];
  let i = 0;
  for (let a = 0; a < alphabets; a++) {
    for (let c = 0; c < chars; c++) {
      const m = 4;
      const strokes: Stroke[] = Array.from({ length: 3 }, () => [
        rng.uniform(m, size - m), rng.uniform(m, size - m), rng.uniform(m, size - m), rng.uniform(m, size - m),
      ]);
      classNames.push(`A${a}/c${c}`);
      classGroups.push(`A${a}`);
      for (let d = 0; d < drawers; d++) {
        const img = drawCharacter(strokes, size, rng, opts.jitter ?? 1.5);
        pixels.set(img.map((v) => 255 - v), i * size * size);
        labels[i] = classNames.length - 1;
        paths.push(`A${a}/c${c}/${d}.png`);
        i++;
      }
    }
  }
  return new ImageDataset({ height: size, width: size, channels: 1, pixels, labels, classNames, classGroups, paths });
}
