import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { selectBackend } from '../../src/backend/select.js';
import { openSource } from '../../src/data/source.js';
import { evaluateLakeRuns, readLakeRuns } from '../../src/evaluation/lake_runs.js';
import { writeLakeRunsFixture } from '../../src/evaluation/runs_fixture.js';
import { identityScorer } from '../inference/identity_scorer.js';
import { writeSyntheticOmniglot } from '../training/synthetic_omniglot.js';

await selectBackend('cpu', { quiet: true });
const SHARED_ZIP = join('..', 'shared', 'data', 'omniglot', 'images_background.zip');

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'fewshot-runs-'));
}

test('the fixture generator writes Lake-format runs from Omniglot-layout images', async () => {
  const dir = tmp();
  try {
    // Real background images when the shared data is there, generated ones otherwise.
    const source = existsSync(SHARED_ZIP)
      ? await openSource(SHARED_ZIP)
      : await openSource(writeSyntheticOmniglot(join(dir, 'data'), { alphabets: 2, charactersPerAlphabet: 20, drawers: 3 }).root);
    const out = join(dir, 'runs');
    const alphabets = writeLakeRunsFixture(source, out, { runs: 3, way: 20, seed: 1 });
    assert.equal(alphabets.length, 3);
    assert.deepEqual(readdirSync(out).sort(), ['run01', 'run02', 'run03']);
    const lines = readFileSync(join(out, 'run02', 'class_labels.txt'), 'utf8').trim().split('\n');
    assert.equal(lines.length, 20);
    for (const line of lines) assert.match(line, /^run02\/test\/item\d\d\.png run02\/training\/class\d\d\.png$/);
    // Every training image is the answer of exactly one test image.
    assert.equal(new Set(lines.map((l) => l.split(' ')[1])).size, 20);
    assert.equal(readdirSync(join(out, 'run02', 'training')).length, 20);
    assert.equal(readdirSync(join(out, 'run02', 'test')).length, 20);
    const runs = readLakeRuns(await openSource(out));
    assert.equal(runs.length, 3);
    assert.equal(runs[0]!.trials.length, 20);
    assert.equal(runs[0]!.trainingImages.length, 20);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/**
 * Two 20-way runs whose drawers draw identically (jitter 0): with pixel embeddings every test
 * image finds its own character's training image, so accuracy is exactly 1.
 */
async function perfectRuns(dir: string): Promise<string> {
  const data = writeSyntheticOmniglot(join(dir, 'data'), { alphabets: 1, charactersPerAlphabet: 20, drawers: 2, jitter: 0 });
  const out = join(dir, 'runs');
  writeLakeRunsFixture(await openSource(data.root), out, { runs: 2, way: 20, seed: 3 });
  return out;
}

test('scoring: a test image is correct when its most similar training image is the listed one', async () => {
  const dir = tmp();
  try {
    const out = await perfectRuns(dir);
    const scorer = identityScorer(28);
    const perfect = evaluateLakeRuns(scorer, await openSource(out));
    assert.equal(perfect.accuracy, 1);
    assert.equal(perfect.errorRate, 0);
    assert.deepEqual(perfect.runs, [1, 1]);
    // Rotating the answers of run02 by one makes every one of its 20 trials wrong.
    const file = join(out, 'run02', 'class_labels.txt');
    const lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => l.split(' '));
    writeFileSync(file, lines.map((l, i) => `${l[0]} ${lines[(i + 1) % lines.length]![1]}`).join('\n') + '\n');
    const broken = evaluateLakeRuns(scorer, await openSource(out));
    assert.deepEqual(broken.runs, [1, 0]);
    assert.equal(broken.accuracy, 0.5);
    assert.equal(broken.details[1]!.choices[0]!.correct, false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('parser errors name the file and the line', async () => {
  const dir = tmp();
  try {
    assert.throws(() => readLakeRuns({ location: dir, list: () => [], read: () => new Uint8Array() }), /no runNN\/class_labels.txt/);
    const files: Record<string, string> = {
      'run01/class_labels.txt': 'run01/test/item01.png run01/training/class01.png\nrun01/test/item02.png\n',
      'run01/test/item01.png': '',
      'run01/training/class01.png': '',
    };
    const source = { location: dir, list: () => Object.keys(files), read: (p: string) => new TextEncoder().encode(files[p]!) };
    assert.throws(() => readLakeRuns(source), /run01\/class_labels.txt line 2: expected 'test-image training-image'/);
    files['run01/class_labels.txt'] = 'run01/test/item01.png run01/training/class09.png\n';
    assert.throws(() => readLakeRuns(source), /line 1: image 'run01\/training\/class09.png' not found/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('hungarian assignment: one-to-one on square runs, a clear error naming the file otherwise', async () => {
  const dir = tmp();
  try {
    const out = await perfectRuns(dir);
    const scorer = identityScorer(28);
    const r = evaluateLakeRuns(scorer, await openSource(out), undefined, { assignment: 'hungarian' });
    assert.equal(r.assignment, 'hungarian');
    assert.equal(r.accuracy, 1);
    for (const d of r.details) assert.equal(new Set(d.choices.map((c) => c.chosen)).size, d.trials);
    assert.equal(evaluateLakeRuns(scorer, await openSource(out)).assignment, 'argmax');
    // 19 test images for 20 training images: argmax still works, hungarian refuses, naming the file.
    const file = join(out, 'run02', 'class_labels.txt');
    writeFileSync(file, readFileSync(file, 'utf8').trim().split('\n').slice(1).join('\n') + '\n');
    assert.equal(evaluateLakeRuns(scorer, await openSource(out)).details[1]!.trials, 19);
    const source = await openSource(out);
    assert.throws(
      () => evaluateLakeRuns(scorer, source, undefined, { assignment: 'hungarian' }),
      /run02\/class_labels\.txt: --assignment hungarian needs as many test images as training images, this run has 19 test and 20 training images/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
