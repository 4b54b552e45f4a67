/** Generated signature and face files for the application tests, in temporary folders. */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodePng } from '../../src/data/image.js';
import { Rng } from '../../src/util/random.js';

/** ../shared/data relative to the repository root, or null where it is absent. */
export function sharedData(...parts: string[]): string | null {
  const p = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'shared', 'data', ...parts);
  return existsSync(p) ? p : null;
}

const created: string[] = [];
process.on('exit', () => {
  for (const d of created) rmSync(d, { recursive: true, force: true });
});

export function tempDir(prefix = 'fewshot-app-'): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  created.push(d);
  return d;
}

export function writeFiles(root: string, files: Record<string, Uint8Array>): string {
  for (const [rel, bytes] of Object.entries(files)) {
    mkdirSync(dirname(join(root, rel)), { recursive: true });
    writeFileSync(join(root, rel), bytes);
  }
  return root;
}

/** Binary PGM (P5) bytes, written independently of the decoder under test. */
export function pgmBytes(width: number, height: number, samples: ArrayLike<number>): Uint8Array {
  const header = Buffer.from(`P5\n# generated\n${width} ${height}\n255\n`, 'latin1');
  return Uint8Array.from(Buffer.concat([header, Buffer.from(Uint8Array.from(samples))]));
}

export const SIG_H = 40;
export const SIG_W = 80;

/** Cells inked for person p on a 4x8 grid (a fixed, person-specific bit pattern). */
export function personCells(p: number): boolean[] {
  const bits = Math.imul(p + 3, 2654435761) >>> 0;
  return Array.from({ length: 32 }, (_, i) => ((bits >>> i) & 1) === 1);
}

/**
 * A "signature" scan: off-white paper (about 235) with dark ink in the person's cells, two ink
 * dots fixing the ink's bounding box, and noise. A skilled forgery flips `flips` cells.
 */
export function signaturePng(p: number, rng: Rng, flips = 0): Uint8Array {
  const cells = personCells(p);
  for (let f = 0; f < flips; f++) {
    const i = rng.int(32);
    cells[i] = !cells[i];
  }
  const data = new Uint8Array(SIG_H * SIG_W);
  for (let y = 0; y < SIG_H; y++) {
    for (let x = 0; x < SIG_W; x++) {
      const cy = Math.floor((y - 2) / 9);
      const cx = Math.floor((x - 2) / 9.5);
      const inside = y >= 2 && y < 38 && x >= 2 && x < 78 && cells[cy * 8 + cx];
      data[y * SIG_W + x] = inside ? Math.round(rng.uniform(10, 50)) : Math.round(rng.uniform(225, 245));
    }
  }
  data[2 * SIG_W + 2] = 0;
  data[37 * SIG_W + 77] = 0;
  return encodePng({ width: SIG_W, height: SIG_H, channels: 1, data });
}

/** Signature files: persons 1..n, `genuine` real ones each, forgeries of each by the next person. */
export function signatureFiles(persons: number, genuine: number, forged: number, seed = 1): Record<string, Uint8Array> {
  const rng = new Rng(seed);
  const id = (n: number) => String(n).padStart(3, '0');
  const files: Record<string, Uint8Array> = {};
  for (let p = 1; p <= persons; p++) {
    for (let s = 1; s <= genuine; s++) files[`dataset3/real/${id(p)}${String(s).padStart(2, '0')}${id(p)}.png`] = signaturePng(p, rng);
    const forger = (p % persons) + 1;
    for (let s = 1; s <= forged; s++) files[`dataset3/forge/${id(forger)}${String(s).padStart(2, '0')}${id(p)}.png`] = signaturePng(p, rng, 6);
  }
  return files;
}
