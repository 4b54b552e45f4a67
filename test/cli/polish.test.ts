/**
 * The small things a newcomer trips over: a parse error prints a hint (not the whole help), file
 * errors are words (not errno codes), images outside class folders get a message that says so,
 * the ROC chart draws one label where the threshold sits on the EER, and training curves leave
 * the confidence half-width out.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { explainFsError, readImageFile } from '../../src/cli/files.js';
import { resolveLayout } from '../../src/data/layout.js';
import type { FileSource } from '../../src/data/zip_source.js';
import { rocSpec, trainingCurveRows } from '../../src/report/charts.js';
import { commandLineWith, shellQuote } from '../../src/cli/command_line.js';

test('a parse error prints the error and a hint, not the whole help', () => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'eval', '--way', '5'], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /required option '--data <path\|url>' not specified/);
  assert.match(r.stderr, /add --help/);
  assert.doesNotMatch(r.stderr, /Options:/);
});

test('file errors in words', () => {
  assert.throws(() => readImageFile('/no/such/query.png', 'query image'), /cannot read query image \/no\/such\/query\.png: no such file$/);
  assert.throws(() => readImageFile('/tmp', 'query image'), /is a directory, not an image file/);
  assert.equal(explainFsError(Object.assign(new Error('x'), { code: 'EACCES' })), 'permission denied');
});

test('images that are not in class folders get a message that says so', () => {
  const files = ['a.png', 'b.png'];
  const source: FileSource = { location: 'flat', list: () => files, read: () => new Uint8Array() };
  assert.throws(() => resolveLayout(source, 'auto'), /the images are not in class folders \(e\.g\. a\.png\).*<class>\/<image>/);
});

test('ROC: a threshold at the EER is one mark with one label; training curves leave valCi95 out', () => {
  const roc = [{ far: 0, tar: 0, threshold: 1 }, { far: 0.1, tar: 0.9, threshold: 0.5 }, { far: 1, tar: 1, threshold: 0 }];
  const spec = rocSpec(roc, { eer: 0.1, operatingPoint: { far: 0.1, tar: 0.9, label: 'threshold 0.5' } }) as unknown as { layer: { data: { values: { label?: string }[] } }[] };
  const marks = spec.layer[2]!.data.values;
  assert.equal(marks.length, 1);
  assert.equal(marks[0]!.label, 'EER 10.0%; threshold 0.5');
  const apart = rocSpec(roc, { eer: 0.1, operatingPoint: { far: 0.5, tar: 0.95, label: 'threshold 0.2' } }) as unknown as { layer: { data: { values: unknown[] } }[] };
  assert.equal(apart.layer[2]!.data.values.length, 2);
  const rows = trainingCurveRows([{ step: 10, loss: 1, valAccuracy: 0.5, valCi95: 0.02, val5way: 0.7 }]);
  assert.deepEqual(rows.map((r) => r.metric).sort(), ['loss', 'val5way', 'valAccuracy']);
});

test('the resume command is this command line with --resume, quoted for a shell', () => {
  const argv = ['/usr/bin/node', `${process.cwd()}/src/cli/main.ts`, 'train', '--data', 'my data', '--out', "it's"];
  assert.equal(commandLineWith('--resume', argv, ['--import', 'tsx']), `node --import tsx src/cli/main.ts train --data 'my data' --out 'it'\\''s' --resume`);
  assert.equal(commandLineWith('--resume', ['/usr/bin/node', '/x/node_modules/.bin/fewshot', 'train', '--resume'], []), 'fewshot train --resume');
  assert.equal(shellQuote('a/b-c.d'), 'a/b-c.d');
});
