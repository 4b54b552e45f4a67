/**
 * docs/own-data.md's command lines, run as documented on small generated class folders: the
 * guide's `fewshot ...` lines are read from the page, the folder names and the step counts
 * swapped for small ones, and each must succeed. A renamed option breaks this test, not a user.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { writeSyntheticOmniglot } from '../training/synthetic_omniglot.js';

const root = resolve('.');
const dir = mkdtempSync(join(tmpdir(), 'fewshot-guide-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** The guide's `fewshot` command lines (continuation lines joined), in order. */
function guideCommands(): string[] {
  const text = readFileSync(join(root, 'docs', 'own-data.md'), 'utf8');
  const blocks = [...text.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!.replace(/\\\n\s*/g, ''));
  return blocks.flatMap((b) => b.split('\n')).map((l) => l.replace(/#.*$/, '').trim()).filter((l) => l.startsWith('fewshot '));
}

test('the guide documents train, eval, eval-verify, report, predict, verify and serve', () => {
  const verbs = guideCommands().map((c) => c.split(/\s+/)[1]);
  for (const v of ['train', 'eval', 'eval-verify', 'report', 'predict', 'verify', 'serve']) assert.ok(verbs.includes(v), `no 'fewshot ${v}' in the guide`);
});

test("the guide's command lines run as written on generated class folders", () => {
  // 20 generated "people" (characters) with 10 images each: 8 to train on, 12 never seen (10-way 5-shot 5-query needs 10).
  const gen = writeSyntheticOmniglot(join(dir, 'gen'), { alphabets: 1, charactersPerAlphabet: 20, drawers: 10 });
  const classes = join(gen.root, 'images_background', 'Alphabet_A');
  const names = readdirSync(classes).sort();
  names.forEach((c, i) => cpSync(join(classes, c), join(dir, i < 8 ? 'my-people' : 'test-people', c), { recursive: true }));
  for (const c of names.slice(8, 11)) {
    mkdirSync(join(dir, 'support', c), { recursive: true });
    cpSync(join(classes, c, readdirSync(join(classes, c)).sort()[0]!), join(dir, 'support', c, 'one.png'));
  }
  const query = join(classes, names[9]!, readdirSync(join(classes, names[9]!)).sort()[1]!);
  for (const line of guideCommands()) {
    const words = line.split(/\s+/).slice(1);
    if (words[0] === 'serve') continue; // a server runs until stopped; test/service covers it
    const args = words.map((w) => ({ 'who.pgm': query, 'a.pgm': query, 'b.pgm': query }[w] ?? w));
    // Small and fast: a few steps and episodes, 28x28 inputs, the fastest backend available.
    const small = args.map((w, i) => {
      const option = args[i - 1];
      if (option === '--steps' || option === '--episodes' || option === '--val-episodes') return '4';
      if (option === '--val-every') return '2';
      if (option === '--input-size') return '28';
      return w;
    });
    const r = spawnSync(process.execPath, ['--import', import.meta.resolve('tsx'), join(root, 'src', 'cli', 'main.ts'), ...small], { cwd: dir, encoding: 'utf8', timeout: 120_000 });
    assert.equal(r.status, 0, `fewshot ${small.join(' ')}\n${r.stderr}`);
  }
  const meta = JSON.parse(readFileSync(join(dir, 'runs', 'my-people', 'fewshot.json'), 'utf8'));
  assert.ok(meta.threshold, 'train stored a threshold');
});
