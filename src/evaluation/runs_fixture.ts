/**
 * Builds a folder in the format of Lake et al.'s one-shot runs from Omniglot-layout images
 * (`.../<alphabet>/<character>/<id>_<drawer>.png`), so that `eval-runs` can be tested and
 * tuned on background alphabets without the evaluation set. Like the original runs, each run
 * takes its characters from one alphabet, and its training and test images from two drawers.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FileSource } from '../data/source.js';
import { Rng } from '../util/random.js';

export interface RunsFixtureOptions {
  runs?: number;
  way?: number;
  seed?: number;
  /** Only characters of these alphabets (e.g. the validation alphabets). */
  alphabets?: string[];
}

interface CharacterImages {
  alphabet: string;
  character: string;
  /** drawer id -> path */
  byDrawer: Map<string, string>;
}

const IMAGE = /\.(png|jpe?g|pgm)$/i;

/** Writes run01..runNN under outDir; returns the alphabet used by each run. */
export function writeLakeRunsFixture(source: FileSource, outDir: string, opts: RunsFixtureOptions = {}): string[] {
  const runs = opts.runs ?? 20;
  const way = opts.way ?? 20;
  const rng = new Rng(opts.seed ?? 0);
  const chars = new Map<string, CharacterImages>();
  for (const path of source.list()) {
    if (!IMAGE.test(path)) continue;
    const parts = path.split('/');
    if (parts.length < 3) continue;
    const [alphabet, character, file] = parts.slice(-3) as [string, string, string];
    if (opts.alphabets && !opts.alphabets.includes(alphabet)) continue;
    const key = `${alphabet}/${character}`;
    if (!chars.has(key)) chars.set(key, { alphabet, character, byDrawer: new Map() });
    const drawer = /_(\d+)\.[a-z]+$/i.exec(file)?.[1] ?? file;
    chars.get(key)!.byDrawer.set(drawer, path);
  }
  const byAlphabet = new Map<string, CharacterImages[]>();
  for (const c of chars.values()) {
    if (c.byDrawer.size < 2) continue;
    if (!byAlphabet.has(c.alphabet)) byAlphabet.set(c.alphabet, []);
    byAlphabet.get(c.alphabet)!.push(c);
  }
  const eligible = [...byAlphabet.keys()].filter((a) => byAlphabet.get(a)!.length >= way).sort();
  if (eligible.length === 0) throw new Error(`no alphabet in ${source.location} has ${way} characters with two images each`);
  // Cycle through the alphabets in a shuffled order so runs spread over all of them.
  const order = rng.shuffle(eligible.slice());
  const used: string[] = [];
  for (let r = 0; r < runs; r++) {
    const alphabet = order[r % order.length]!;
    const picked = rng.sample(byAlphabet.get(alphabet)!.sort((a, b) => a.character.localeCompare(b.character)), way);
    const common = [...picked[0]!.byDrawer.keys()].filter((d) => picked.every((c) => c.byDrawer.has(d))).sort();
    const pair = common.length >= 2 ? rng.sample(common, 2) : null;
    const name = `run${String(r + 1).padStart(2, '0')}`;
    mkdirSync(join(outDir, name, 'training'), { recursive: true });
    mkdirSync(join(outDir, name, 'test'), { recursive: true });
    // Test item k shows character perm[k], so the answer is never "same index".
    const perm = rng.shuffle(Array.from({ length: way }, (_, i) => i));
    // Per character: [training image, test image], from the run's two drawers when all have them.
    const images = picked.map((c) =>
      pair ? [c.byDrawer.get(pair[0]!)!, c.byDrawer.get(pair[1]!)!] : rng.sample([...c.byDrawer.values()].sort(), 2),
    );
    images.forEach(([trainPath], i) => {
      writeFileSync(join(outDir, name, 'training', `class${String(i + 1).padStart(2, '0')}.png`), source.read(trainPath!));
    });
    const lines: string[] = [];
    for (let k = 0; k < way; k++) {
      const item = `item${String(k + 1).padStart(2, '0')}.png`;
      writeFileSync(join(outDir, name, 'test', item), source.read(images[perm[k]!]![1]!));
      lines.push(`${name}/test/${item} ${name}/training/class${String(perm[k]! + 1).padStart(2, '0')}.png`);
    }
    writeFileSync(join(outDir, name, 'class_labels.txt'), lines.join('\n') + '\n');
    used.push(alphabet);
  }
  return used;
}
