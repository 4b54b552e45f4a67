/**
 * `fewshot track` and `fewshot eval-track` end to end on generated sequences with a small model
 * saved to a temporary folder: JSON shapes, the --out files, the report, and the errors a user
 * meets first (malformed ground truth, a folder that is not a sequence).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { selectBackend } from '../../src/backend/select.js';
import { saveTrackingModel } from '../../src/tracking/model_io.js';
import { buildSiamFC, DEFAULT_SIAMFC } from '../../src/tracking/siamfc_model.js';
import { SIAMFC_PARAMS } from '../../src/tracking/tracker.js';
import { makeFrames, writeSequence } from './synthetic.js';

await selectBackend('cpu', { quiet: true });
const dir = mkdtempSync(join(tmpdir(), 'fewshot-track-cli-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
const network = { ...DEFAULT_SIAMFC, channels: [4, 6, 6, 4] as [number, number, number, number], seed: 1 };
const modelDir = join(dir, 'model');
await saveTrackingModel(modelDir, buildSiamFC(network), { format: 'fewshot-tracker/1', network, params: SIAMFC_PARAMS, createdAt: 'test' });
const bench = join(dir, 'bench');
for (const [name, seed] of [['One', 31], ['Two', 32]] as const) {
  const { frames, boxes } = makeFrames({ frames: 5, seed, width: 96, height: 72 });
  writeSequence(frames, boxes, { name, root: bench });
}

function fewshot(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args, '--backend', 'cpu'], { encoding: 'utf8', timeout: 300_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('track --json --out writes OTB boxes and a frame strip', () => {
  const out = join(dir, 'out');
  const r = fewshot('track', '--sequence', join(bench, 'One'), '--model', modelDir, '--json', '--out', out);
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout.trim().split('\n').pop()!);
  assert.equal(j.sequence, 'One');
  assert.equal(j.frames, 5);
  assert.equal(j.boxes.length, 5);
  for (const k of ['auc', 'precision20', 'fps']) assert.equal(typeof j[k], 'number');
  const lines = readFileSync(join(out, 'One_boxes.txt'), 'utf8').trim().split('\n');
  assert.equal(lines.length, 5);
  assert.match(lines[0]!, /^\d+(\.\d+)?,\d+(\.\d+)?,\d+(\.\d+)?,\d+(\.\d+)?$/);
  assert.ok(existsSync(join(out, 'strip_One.png')));
});

test('eval-track --json covers every sequence and the NCC baseline; --report writes HTML', () => {
  const report = join(dir, 'report');
  const r = fewshot('eval-track', '--sequences', bench, '--model', modelDir, '--json', '--report', report);
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout.trim().split('\n').pop()!);
  for (const k of ['meanAuc', 'meanPrecision20', 'fps']) assert.equal(typeof j[k], 'number');
  assert.deepEqual(Object.keys(j.sequences).sort(), ['One', 'Two']);
  assert.equal(typeof j.sequences.One.auc, 'number');
  assert.equal(typeof j.sequences.One.precision20, 'number');
  assert.deepEqual(Object.keys(j.baseline.sequences).sort(), ['One', 'Two']);
  assert.equal(typeof j.baseline.meanAuc, 'number');
  assert.ok(existsSync(join(report, 'report.html')));
});

test('errors name the problem: malformed ground truth, not a sequence', () => {
  const { frames, boxes } = makeFrames({ frames: 3, width: 48, height: 40, size: 8 });
  const bad = writeSequence(frames, boxes, { name: 'Bad', root: join(dir, 'bad'), groundTruth: '5,5,8,8\n5;5\n5,5,8,8\n' });
  const r = fewshot('track', '--sequence', bad, '--model', modelDir);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /Bad\/groundtruth_rect\.txt:2: expected 4 numbers/);
  const none = fewshot('eval-track', '--sequences', join(dir, 'model'), '--model', modelDir);
  assert.equal(none.status, 1);
  assert.match(none.stderr, /no tracking sequences found/);
});
