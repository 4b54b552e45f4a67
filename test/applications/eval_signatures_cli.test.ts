/**
 * `fewshot eval-signatures` as a user runs it: the decision defaults to the model's own
 * (fewshot.json `decision`, what its cross-validation chose), and --decision overrides it.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import * as tfl from '@tensorflow/tfjs-layers';
import { selectBackend } from '../../src/backend/select.js';
import { saveModel } from '../../src/models/io.js';
import { signatureFiles, tempDir, writeFiles } from './helpers.js';

before(async () => {
  await selectBackend('cpu', { quiet: true });
});

function fewshot(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

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
