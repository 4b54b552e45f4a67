/**
 * The verification commands end to end, as a user runs them: a small saved model, generated
 * class folders of PNG files, `fewshot eval-verify --calibrate --json`, then `fewshot verify`
 * deciding with the threshold that the first command stored; `fewshot eval-signatures` deciding by
 * the model's own decision unless --decision names one.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tfl from '@tensorflow/tfjs-layers';
import { selectBackend } from '../../src/backend/select.js';
import { encodePng } from '../../src/data/image.js';
import { saveModel } from '../../src/models/io.js';
import { Rng } from '../../src/util/random.js';
import { signatureFiles, tempDir, writeFiles } from '../applications/helpers.js';
import { embeddingMeta, flattenEncoder, patternImage, SIDE } from './helpers.js';

before(async () => {
  await selectBackend('cpu', { quiet: true });
});

function fewshot(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('eval-verify --calibrate stores the threshold that verify then decides with', async () => {
  const root = tempDir('fewshot-cli-verify-');
  const modelDir = join(root, 'model');
  await saveModel(modelDir, flattenEncoder(), embeddingMeta());
  const rng = new Rng(5);
  const files: Record<string, Uint8Array> = {};
  const png = (c: number) => encodePng({ width: SIDE, height: SIDE, channels: 1, data: patternImage(c, rng) });
  for (let c = 0; c < 5; c++) for (let k = 0; k < 4; k++) files[`data/class${c}/${k}.png`] = png(c);
  files['a.png'] = png(2);
  files['b.png'] = png(2);
  files['c.png'] = png(4);
  writeFiles(root, files);

  const ev = fewshot('eval-verify', '--data', join(root, 'data'), '--model', modelDir, '--json', '--calibrate', '--backend', 'cpu');
  assert.equal(ev.status, 0, ev.stderr);
  const json = JSON.parse(ev.stdout);
  for (const k of ['auc', 'eer', 'tarAtFar1e2', 'tarAtFar1e3', 'threshold', 'accuracyAtThreshold']) assert.equal(typeof json[k], 'number', k);
  assert.equal(json.auc, 1);
  assert.equal(json.scoreKind, 'distance');
  assert.equal(json.genuinePairs, 5 * 6);
  assert.equal(json.thresholdWritten, true);
  const meta = JSON.parse(readFileSync(join(modelDir, 'fewshot.json'), 'utf8'));
  assert.ok(Math.abs(meta.threshold.value + json.threshold) < 1e-9, 'stored in similarity units = minus the distance');
  assert.match(meta.threshold.source, /^eer on data/);

  const same = JSON.parse(fewshot('verify', join(root, 'a.png'), join(root, 'b.png'), '--model', modelDir, '--json', '--backend', 'cpu').stdout);
  const diff = JSON.parse(fewshot('verify', join(root, 'a.png'), join(root, 'c.png'), '--model', modelDir, '--json', '--backend', 'cpu').stdout);
  assert.equal(same.same, true);
  assert.equal(diff.same, false);
  assert.equal(same.scoreKind, 'distance');
  assert.ok(Math.abs(same.threshold - json.threshold) < 1e-9);

  const bad = fewshot('verify', join(root, 'a.png'), join(root, 'missing.png'), '--model', modelDir, '--backend', 'cpu');
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /cannot read image .*missing\.png/);
});

test("eval-signatures decides by the model's own decision unless --decision names one", async () => {
  const root = tempDir('fewshot-cli-signatures-');
  writeFiles(join(root, 'data'), signatureFiles(6, 4, 2));
  const modelDir = join(root, 'model');
  const encoder = tfl.sequential({ name: 'encoder', layers: [tfl.layers.inputLayer({ inputShape: [12, 24, 1] }), tfl.layers.flatten()] });
  await saveModel(modelDir, encoder, {
    format: 'fewshot-model/1', method: 'classifier', encoder: 'flatten', inputShape: [12, 24, 1], embeddingDim: 288,
    preprocess: { height: 12, width: 24, channels: 1, invert: true, ink: { threshold: 'otsu', centre: 'mass' } },
    score: 'negative-distance', distance: 'euclidean', decision: 'wd',
    writerDependent: { kernel: 'rbf', l2: 1, threshold: { value: 0, source: 'test' } }, createdAt: new Date(0).toISOString(),
  });
  const run = (...extra: string[]) => {
    const r = fewshot('eval-signatures', '--data', join(root, 'data'), '--model', modelDir, '--references', '2', '--json', '--backend', 'cpu', ...extra);
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout) as { decision: string; scoreKind: string; threshold: number; genuineTrials: number };
  };
  const byModel = run();
  assert.deepEqual([byModel.decision, byModel.scoreKind, byModel.threshold], ['wd', 'log-odds', 0]);
  assert.equal(byModel.genuineTrials, 6 * 4);
  const asked = run('--decision', 'distance');
  assert.equal(asked.decision, 'distance');
  assert.equal(asked.scoreKind, 'distance');
});
