/**
 * Generated tracking sequences for the tests: a textured square moving over a smooth textured
 * background, written in the OTB layout (img/0001.png..., groundtruth_rect.txt).
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodePng, type Image } from '../../src/data/image.js';
import type { Box } from '../../src/tracking/boxes.js';
import { Rng } from '../../src/util/random.js';

export interface SyntheticSequence {
  dir: string;
  frames: Image[];
  boxes: Box[];
}

/**
 * `morph`: the object's pattern blends linearly into a second random pattern over the sequence
 * (appearance change). `lookAlike`: a copy of the object's pattern with that fraction of its pixels
 * re-drawn, moving with the object at offset (dx, dy) (a companion distractor; the object is drawn
 * over it where they overlap).
 */
export function makeFrames(
  opts: { width?: number; height?: number; frames?: number; size?: number; seed?: number; morph?: boolean; lookAlike?: { dx: number; dy: number; changed: number } } = {},
): { frames: Image[]; boxes: Box[] } {
  const W = opts.width ?? 128;
  const H = opts.height ?? 96;
  const n = opts.frames ?? 16;
  const size = opts.size ?? 16;
  const rng = new Rng(opts.seed ?? 7);
  // Smooth background: a few random sinusoids per channel.
  const waves = Array.from({ length: 3 }, () => Array.from({ length: 3 }, () => [rng.uniform(0.02, 0.12), rng.uniform(0.02, 0.12), rng.uniform(0, 6)]));
  const pattern = Array.from({ length: size * size * 3 }, () => (rng.next() < 0.5 ? 30 : 230));
  const target = opts.morph ? Array.from({ length: size * size * 3 }, () => (rng.next() < 0.5 ? 30 : 230)) : pattern;
  const look = opts.lookAlike;
  const lookPattern = look ? pattern.map((v) => (rng.next() < look.changed ? (rng.next() < 0.5 ? 30 : 230) : v)) : [];
  const frames: Image[] = [];
  const boxes: Box[] = [];
  for (let t = 0; t < n; t++) {
    // Moves right and down along a gentle curve, ~2 px per frame; starts inside small frames too.
    const x = Math.min(20, (W - size) / 4) + 2.2 * t;
    const y = Math.min(30, (H - size) / 2) + 8 * Math.sin(t / 5);
    const a = n > 1 ? t / (n - 1) : 0;
    const data = new Uint8Array(W * H * 3);
    for (let py = 0; py < H; py++) {
      for (let px = 0; px < W; px++) {
        for (let c = 0; c < 3; c++) {
          let v = 128;
          for (const [fx, fy, ph] of waves[c]!) v += 30 * Math.sin(fx! * px + fy! * py + ph!);
          const ox = Math.floor(px - x);
          const oy = Math.floor(py - y);
          const lx = look ? Math.floor(px - x - look.dx) : -1;
          const ly = look ? Math.floor(py - y - look.dy) : -1;
          if (lx >= 0 && ly >= 0 && lx < size && ly < size) v = lookPattern[(ly * size + lx) * 3 + c]!;
          const k = (oy * size + ox) * 3 + c;
          if (ox >= 0 && oy >= 0 && ox < size && oy < size) v = (1 - a) * pattern[k]! + a * target[k]!;
          data[(py * W + px) * 3 + c] = Math.max(0, Math.min(255, Math.round(v)));
        }
      }
    }
    frames.push({ width: W, height: H, channels: 3, data });
    boxes.push({ x: Math.floor(x), y: Math.floor(y), w: size, h: size });
  }
  return { frames, boxes };
}

/** Writes a sequence folder; `groundTruth` overrides the file's text (for malformed-input tests). */
export function writeSequence(
  frames: Image[],
  boxes: Box[],
  opts: { name?: string; groundTruth?: string; skipFrames?: number[]; root?: string } = {},
): string {
  const root = opts.root ?? mkdtempSync(join(tmpdir(), 'fewshot-track-'));
  const dir = join(root, opts.name ?? 'Synthetic');
  mkdirSync(join(dir, 'img'), { recursive: true });
  frames.forEach((f, i) => {
    if (opts.skipFrames?.includes(i)) return;
    writeFileSync(join(dir, 'img', `${String(i + 1).padStart(4, '0')}.png`), encodePng(f));
  });
  const text = opts.groundTruth ?? boxes.map((b) => `${b.x + 1},${b.y + 1},${b.w},${b.h}`).join('\n') + '\n';
  writeFileSync(join(dir, 'groundtruth_rect.txt'), text);
  return dir;
}
