/** The README's library example runs as printed, on generated class folders and the shipped Omniglot model. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeSyntheticOmniglot } from '../training/synthetic_omniglot.js';

test('README: the library example runs and answers with a support class', (t) => {
  if (!existsSync('models/omniglot/model.json')) return t.skip('models/omniglot is not in this checkout');
  const readme = readFileSync('README.md', 'utf8');
  const code = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
  assert.ok(code, 'README has a ts block');
  assert.ok(code.split('\n').filter((l) => l.trim()).length <= 12, 'the example stays about ten lines');
  const dir = mkdtempSync(join(tmpdir(), 'fewshot-readme-'));
  try {
    const gen = writeSyntheticOmniglot(join(dir, 'gen'), { alphabets: 1, charactersPerAlphabet: 3, drawers: 2 });
    const classes = join(gen.root, 'images_background', 'Alphabet_A');
    for (const c of readdirSync(classes)) {
      mkdirSync(join(dir, 'symbols', c), { recursive: true });
      cpSync(join(classes, c, readdirSync(join(classes, c)).sort()[0]!), join(dir, 'symbols', c, 'one.png'));
    }
    const who = join(classes, 'character02', readdirSync(join(classes, 'character02')).sort()[1]!);
    const script = code.replace(`'symbols/'`, JSON.stringify(join(dir, 'symbols'))).replace(/'drawing\.png'/g, JSON.stringify(who));
    // Inside the repository so that tsx maps 'fewshot/node' to src/ through tsconfig paths.
    const file = join('test', 'docs', `.readme-example-${process.pid}.ts`);
    writeFileSync(file, script);
    try {
      const r = spawnSync(process.execPath, ['--import', 'tsx', file], { encoding: 'utf8', timeout: 120_000 });
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /^(character0\d|unknown) \[/);
    } finally {
      rmSync(file, { force: true });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
