/**
 * `fewshot export --format onnx` writes a file ONNX Runtime loads, and `predict --backend onnx`
 * (and the native plan, when built) rank a support set exactly like TF.js cpu.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadOnnxRuntime, OrtSession } from '../../src/backend/onnx/runtime.js';
import { loadNativeAddon } from '../../src/backend/native/addon.js';
import { readMetadata } from '../../src/models/io.js';
import { writeSyntheticOmniglot } from '../training/synthetic_omniglot.js';

const dir = mkdtempSync(join(tmpdir(), 'fewshot-export-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
const skipOrt: false | string = loadOnnxRuntime().ort ? false : loadOnnxRuntime().error!;

function fewshot(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function json(r: { status: number | null; stdout: string; stderr: string }): Record<string, unknown> {
  assert.equal(r.status, 0, `exit ${r.status}: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, unknown>;
}

test('export --format onnx writes a model ONNX Runtime loads', { skip: skipOrt }, () => {
  const out = join(dir, 'omniglot.onnx');
  const r = json(fewshot('export', '--model', 'models/omniglot', '--format', 'onnx', '--out', out, '--json'));
  assert.equal(r['out'], out);
  const session = OrtSession.create(new Uint8Array(readFileSync(out)));
  const meta = readMetadata('models/omniglot');
  assert.equal(session.inputNames.length, 1);
  const y = session.run({ [session.inputNames[0]!]: { data: new Float32Array(2 * 28 * 28), dims: [2, 28, 28, 1] } });
  assert.deepEqual(y[session.outputNames[0]!]!.dims, [2, meta.embeddingDim]);
  assert.equal(fewshot('export', '--model', join(dir, 'nothing'), '--out', join(dir, 'x.onnx')).status, 1);
});

test('predict ranks identically on cpu, onnx and native backends', { skip: skipOrt }, () => {
  const data = writeSyntheticOmniglot(join(dir, 'data'), { alphabets: 1, charactersPerAlphabet: 4, drawers: 2 });
  const support = join(dir, 'support');
  const queries: string[] = [];
  for (const c of ['character01', 'character02', 'character03', 'character04']) {
    const src = join(data.root, 'images_background', 'Alphabet_A', c);
    const files = readdirSync(src).sort();
    mkdirSync(join(support, c), { recursive: true });
    copyFileSync(join(src, files[0]!), join(support, c, files[0]!));
    queries.push(join(src, files[1]!));
  }
  const scores = (backend: string) => {
    const r = json(fewshot('predict', '--support', support, '--query', ...queries, '--backend', backend, '--json'));
    return (r['predictions'] as { ranked: { class: string; score: number }[] }[]).map((p) => p.ranked);
  };
  const cpu = scores('cpu');
  for (const backend of loadNativeAddon().addon ? ['onnx', 'native'] : ['onnx']) {
    const other = scores(backend);
    cpu.forEach((ranked, i) => ranked.forEach((r, j) => {
      assert.equal(other[i]![j]!.class, r.class, `${backend}: query ${i} ranks differ`);
      assert.ok(Math.abs(other[i]![j]!.score - r.score) <= 1e-4 * Math.max(1, Math.abs(r.score)), `${backend}: ${other[i]![j]!.score} vs ${r.score}`);
    }));
  }
  const train = fewshot('train', '--data', data.root, '--out', join(dir, 'm'), '--backend', 'onnx');
  assert.equal(train.status, 1, 'training is not offered on onnx');
});
