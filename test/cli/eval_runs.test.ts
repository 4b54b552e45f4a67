/**
 * `fewshot eval-runs` end to end with the shipped models: both assignments, the JSON report,
 * and the bad-input paths (a missing image, an empty run, a non-square run with hungarian):
 * one error line on stderr naming the file, exit status 1, nothing on stdout. The CLI runs on the
 * fastest backend here (native when built): both shipped models are ensembles now, minutes on plain cpu.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSource } from '../../src/data/source.js';
import { writeLakeRunsFixture } from '../../src/evaluation/runs_fixture.js';
import { writeSyntheticOmniglot } from '../training/synthetic_omniglot.js';

const dir = mkdtempSync(join(tmpdir(), 'fewshot-eval-runs-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
const data = writeSyntheticOmniglot(join(dir, 'data'), { alphabets: 2, charactersPerAlphabet: 20, drawers: 3 });
const dataSource = await openSource(data.root);
const runs = join(dir, 'runs');
writeLakeRunsFixture(dataSource, runs, { runs: 2, way: 20, seed: 4 });

function evalRuns(runsDir: string, ...args: string[]): { status: number | null; stdout: string; stderr: string } {
  // the fastest backend there is (native where the addon is built): both shipped models are ensembles, slow on cpu
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'eval-runs', '--runs', runsDir, '--backend', 'auto', ...args], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A copy of the fixture with one run's class_labels.txt replaced. */
function withLabels(name: string, edit: (lines: string[]) => string[]): string {
  const copy = join(dir, name);
  writeLakeRunsFixture(dataSource, copy, { runs: 2, way: 20, seed: 4 });
  const file = join(copy, 'run02', 'class_labels.txt');
  const lines = edit(readFileSync(file, 'utf8').trim().split('\n'));
  writeFileSync(file, lines.length ? lines.join('\n') + '\n' : '');
  return copy;
}

for (const [model, score] of [['models/omniglot', 'negative-distance'], ['models/omniglot-siamese', 'pair-probability']] as const) {
  test(`eval-runs --json with ${model}: argmax (default) and hungarian`, () => {
    const results = (['argmax', 'hungarian'] as const).map((assignment) => {
      const r = evalRuns(runs, '--model', model, '--json', ...(assignment === 'argmax' ? [] : ['--assignment', assignment]));
      assert.equal(r.status, 0, r.stderr);
      const out = JSON.parse(r.stdout.trim()) as Record<string, unknown>;
      assert.equal(out['assignment'], assignment);
      assert.equal(out['score'], score);
      assert.deepEqual(out['runNames'], ['run01', 'run02']);
      const acc = out['accuracy'] as number;
      assert.ok(acc >= 0 && acc <= 1);
      return acc;
    });
    // Generated characters are far apart: a trained model recognises most of them either way.
    assert.ok(results.every((a) => a > 0.5), `accuracies ${results}`);
    const tta = evalRuns(runs, '--model', model, '--tta', '3', '--json');
    assert.equal(tta.status, 0, tta.stderr);
    assert.equal((JSON.parse(tta.stdout.trim()) as Record<string, unknown>)['ttaViews'], 3);
    const text = evalRuns(runs, '--model', model, '--assignment', 'hungarian');
    assert.equal(text.status, 0, text.stderr);
    assert.match(text.stdout, /\(assignment hungarian, transductive; score /);
  });
}

test('eval-runs bad input: one line naming the file, nothing printed as a result', () => {
  const cases: [string, string[], RegExp][] = [
    [withLabels('missing-image', (l) => [l[0]!.replace(/item\d\d\.png/, 'item99.png'), ...l.slice(1)]), [], /run02\/class_labels\.txt line 1: image 'run02\/test\/item99\.png' not found/],
    [withLabels('empty-run', () => []), [], /run02\/class_labels\.txt lists no test images/],
    [withLabels('non-square', (l) => l.slice(1)), ['--assignment', 'hungarian'], /run02\/class_labels\.txt: --assignment hungarian needs as many test images as training images/],
  ];
  for (const [runsDir, args, message] of cases) {
    const r = evalRuns(runsDir, '--model', 'models/omniglot', ...args);
    assert.equal(r.status, 1, `${runsDir}: exit ${r.status}`);
    assert.equal(r.stdout, '', `${runsDir}: printed ${r.stdout}`);
    // stderr may start with the backend's banner; the error is one line, the last.
    const errors = r.stderr.trim().split('\n').filter((l) => l.startsWith('fewshot: error:'));
    assert.equal(errors.length, 1, r.stderr);
    assert.match(errors[0]!, message);
    assert.ok(r.stderr.trim().endsWith(errors[0]!), r.stderr);
  }
});
