/** Small generators shared by the data tests: independent PNG/PGM writers, temp folders, zips. */
import { mkdtempSync, mkdirSync, writeFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as zlib from 'node:zlib';
import { zipSync } from 'fflate';
import { encodePng, type Image } from '../../src/data/image.js';
import { Rng } from '../../src/util/random.js';

/** ../shared/data relative to the repository root, or null where it is absent. */
export function sharedDataDir(): string | null {
  const dir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'shared', 'data');
  return existsSync(dir) ? dir : null;
}

const created: string[] = [];
process.on('exit', () => {
  for (const d of created) rmSync(d, { recursive: true, force: true });
});

/** A new temporary directory, removed when the test process exits. */
export function tempDir(prefix = 'fewshot-data-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  created.push(dir);
  return dir;
}

function chunk(type: string, data: Uint8Array): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'latin1'), Buffer.from(data)]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(zlib.crc32(td) >>> 0);
  return Buffer.concat([len, td, crc]);
}

/**
 * A PNG written by hand (filter 0 on every row), independent of the decoder under test.
 * `rows` holds the already packed bytes of each scanline.
 */
export function rawPng(width: number, height: number, depth: number, colorType: number, rows: Uint8Array[], extra: { PLTE?: Uint8Array; tRNS?: Uint8Array } = {}): Uint8Array {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = depth;
  ihdr[9] = colorType;
  const raw = Buffer.concat(rows.map((r) => Buffer.concat([Buffer.from([0]), Buffer.from(r)])));
  const parts = [Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr)];
  if (extra.PLTE) parts.push(chunk('PLTE', extra.PLTE));
  if (extra.tRNS) parts.push(chunk('tRNS', extra.tRNS));
  parts.push(chunk('IDAT', zlib.deflateSync(raw)), chunk('IEND', new Uint8Array(0)));
  return new Uint8Array(Buffer.concat(parts));
}

/** A binary PGM (P5), 8-bit or 16-bit samples. */
export function pgm(width: number, height: number, samples: ArrayLike<number>, maxval = 255): Uint8Array {
  const header = Buffer.from(`P5\n# made by a test\n${width} ${height}\n${maxval}\n`, 'latin1');
  const body = Buffer.alloc(width * height * (maxval > 255 ? 2 : 1));
  for (let i = 0; i < width * height; i++) {
    if (maxval > 255) body.writeUInt16BE(samples[i]!, 2 * i);
    else body[i] = samples[i]!;
  }
  return new Uint8Array(Buffer.concat([header, body]));
}

/** A gray image with a random "glyph": a few dark strokes on white paper. */
export function glyph(rng: Rng, size = 20): Image {
  const data = new Uint8Array(size * size).fill(255);
  const strokes = 2 + rng.int(3);
  for (let s = 0; s < strokes; s++) {
    const x0 = rng.int(size), y0 = rng.int(size), x1 = rng.int(size), y1 = rng.int(size);
    for (let t = 0; t <= 1; t += 0.02) {
      const x = Math.round(x0 + (x1 - x0) * t), y = Math.round(y0 + (y1 - y0) * t);
      data[y * size + x] = 0;
    }
  }
  return { width: size, height: size, channels: 1, data };
}

/** Writes files {relativePath: bytes} under a new temp dir; returns it. */
export function writeTree(files: Record<string, Uint8Array>, dirs: string[] = []): string {
  const root = tempDir();
  for (const d of dirs) mkdirSync(join(root, d), { recursive: true });
  for (const [p, bytes] of Object.entries(files)) {
    mkdirSync(dirname(join(root, p)), { recursive: true });
    writeFileSync(join(root, p), bytes);
  }
  return root;
}

/** Same files as a zip (fflate), written next to a temp dir; returns its path. */
export function writeZip(files: Record<string, Uint8Array>, name = 'data.zip'): string {
  const zip = zipSync(files, { level: 6 });
  const path = join(tempDir(), name);
  writeFileSync(path, zip);
  return path;
}

/** A tiny Omniglot-shaped tree: alphabets x characters x drawers PNG glyphs. */
export function omniglotFiles(alphabets: string[], characters: number, drawers: number, seed = 1, set = 'images_background'): Record<string, Uint8Array> {
  const rng = new Rng(seed);
  const files: Record<string, Uint8Array> = {};
  for (const a of alphabets) {
    for (let c = 1; c <= characters; c++) {
      for (let d = 1; d <= drawers; d++) {
        files[`${set}/${a}/character${String(c).padStart(2, '0')}/${c}_${String(d).padStart(2, '0')}.png`] = encodePng(glyph(rng));
      }
    }
  }
  return files;
}
