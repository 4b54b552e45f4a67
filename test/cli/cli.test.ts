/**
 * The CLI end to end on a tiny generated Omniglot-like dataset: train a few steps with the tiny
 * encoder, then eval --json, eval-runs --json on a generated runs fixture, predict --json on a
 * class-folder support set (and a corrupt query), demo on the classes the model never saw, and
 * the error paths a user hits first.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { selectFiles } from '../../src/data/image_dataset.js';
import { openSource } from '../../src/data/source.js';
import { trainClassDigests } from '../../src/models/training_classes.js';
import { writeLakeRunsFixture } from '../../src/evaluation/runs_fixture.js';
import { writeSyntheticOmniglot } from '../training/synthetic_omniglot.js';

const dir = mkdtempSync(join(tmpdir(), 'fewshot-cli-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
const data = writeSyntheticOmniglot(join(dir, 'data'), { alphabets: 3, charactersPerAlphabet: 20, drawers: 4 });
const model = join(dir, 'model');

function fewshot(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function json(r: { status: number | null; stdout: string; stderr: string }): Record<string, unknown> {
  assert.equal(r.status, 0, `exit ${r.status}: ${r.stderr}`);
  const lines = r.stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]!) as Record<string, unknown>;
}

test('train -> eval --json -> eval-runs --json -> predict --json', async () => {
  const trained = json(fewshot(
    'train', '--data', data.root, '--out', model, '--method', 'protonet', '--encoder', 'tiny',
    '--steps', '12', '--way', '5', '--shot', '1', '--query', '2', '--lr', '0.01',
    '--val-every', '6', '--val-episodes', '10', '--val-way', '5', '--val-also-ways', '3',
    '--backend', 'cpu', '--json',
  ));
  assert.equal(trained['steps'], 12);
  for (const f of ['model.json', 'weights.bin', 'fewshot.json', 'training-log.jsonl']) assert.ok(existsSync(join(model, f)), f);

  const ev = json(fewshot('eval', '--data', data.root, '--way', '5', '--shot', '1', '--query', '2', '--episodes', '20', '--seed', '3', '--model', model, '--backend', 'cpu', '--json'));
  assert.equal(ev['episodes'], 20);
  assert.equal(ev['way'], 5);
  assert.equal(ev['shot'], 1);
  assert.ok(typeof ev['accuracy'] === 'number' && ev['accuracy'] >= 0 && ev['accuracy'] <= 1);
  assert.ok(typeof ev['ci95'] === 'number' && ev['ci95'] >= 0);

  const runs = join(dir, 'runs');
  writeLakeRunsFixture(await openSource(data.root), runs, { runs: 2, way: 20, seed: 1 });
  const er = json(fewshot('eval-runs', '--runs', runs, '--model', model, '--backend', 'cpu', '--json'));
  assert.equal((er['runs'] as number[]).length, 2);
  assert.ok(Math.abs((er['accuracy'] as number) + (er['errorRate'] as number) - 1) < 1e-12);

  // Support: the first image of 4 characters; queries: another image of two of them.
  const support = join(dir, 'support');
  const chars = ['character01', 'character02', 'character03', 'character04'];
  const queries: string[] = [];
  for (const c of chars) {
    const src = join(data.root, 'images_background', 'Alphabet_A', c);
    const files = readdirSync(src).sort();
    mkdirSync(join(support, c), { recursive: true });
    copyFileSync(join(src, files[0]!), join(support, c, files[0]!));
    if (queries.length < 2) queries.push(join(src, files[1]!));
  }
  const pr = json(fewshot('predict', '--support', support, '--query', ...queries, '--model', model, '--backend', 'cpu', '--json'));
  const predictions = pr['predictions'] as { query: string; label: string; ranked: { class: string; score: number }[] }[];
  assert.equal(predictions.length, 2);
  // Scores in the model's units, as verify prints them: a protonet model scores by distance, best (lowest) first.
  assert.equal(pr['scoreKind'], 'distance');
  assert.equal(pr['direction'], 'lower-is-same');
  for (const p of predictions) {
    assert.deepEqual(p.ranked.map((r) => r.class).sort(), chars);
    for (let i = 1; i < p.ranked.length; i++) assert.ok(p.ranked[i - 1]!.score <= p.ranked[i]!.score);
    assert.ok(p.ranked.every((r) => r.score >= 0), 'distances are not negative');
    assert.equal(p.label, p.ranked[0]!.class);
  }
  const corrupt = join(dir, 'corrupt.png');
  writeFileSync(corrupt, new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3]));
  const bad = fewshot('predict', '--support', support, '--query', corrupt, '--model', model, '--backend', 'cpu');
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /corrupt\.png/);
});

test('demo scores only the classes the model never trained on, and refuses a model that saw them all', async () => {
  const meta = JSON.parse(readFileSync(join(model, 'fewshot.json'), 'utf8')) as { training: Record<string, unknown> };
  const heldOut = meta.training['validationGroups'] as string[];
  assert.equal(heldOut.length, 1, 'the first test trained with one of the 3 alphabets held out');
  // The trainer records how to make the model again (ensembles list it per member).
  assert.match(String(meta.training['command']), /src\/cli\/main\.ts train --data \S+ --out \S+ --method protonet .*--json$/);
  const demo = json(fewshot('demo', '--data', data.root, '--model', model, '--episodes', '3', '--backend', 'cpu', '--json'));
  assert.equal(demo['classes'], 20);
  assert.equal((demo['results'] as unknown[]).length, 4);

  // The same network, its metadata now saying it trained on every class (a final model trained on all the data).
  const sawAll = join(dir, 'saw-all');
  mkdirSync(sawAll);
  for (const f of ['model.json', 'weights.bin']) copyFileSync(join(model, f), join(sawAll, f));
  const { classNames } = selectFiles(await openSource(data.root), { preprocess: { height: 28, width: 28, channels: 1, invert: false } });
  writeFileSync(join(sawAll, 'fewshot.json'), JSON.stringify({ ...meta, training: { ...meta.training, validationGroups: [], trainClassDigests: trainClassDigests(classNames) } }));
  const refused = fewshot('demo', '--data', data.root, '--model', sawAll, '--episodes', '3', '--backend', 'cpu');
  assert.equal(refused.status, 1);
  assert.match(refused.stderr, /trained on 60 of its 60 classes .*leaving 0 it never saw.*--data/);
  assert.equal(refused.stdout, '', 'nothing printed as a result');
});

test('clear errors: missing model, missing data', () => {
  const noModel = fewshot('eval', '--data', data.root, '--model', join(dir, 'nope'), '--backend', 'cpu');
  assert.equal(noModel.status, 1);
  assert.match(noModel.stderr, /no fewshot model in .*nope/);
  const noData = fewshot('demo', '--data', join(dir, 'missing.zip'), '--model', model, '--backend', 'cpu');
  assert.equal(noData.status, 1);
  assert.match(noData.stderr, /missing\.zip/);
});
