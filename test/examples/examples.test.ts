/**
 * Every script in examples/ runs, as a user would run it (npx tsx examples/X.ts ARGS), on small
 * data made here: class folders of generated characters, a generated tracking sequence.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import { startService, type RunningService } from '../../src/service/index.js';
import { selectBackend } from '../../src/backend/select.js';
import { writeSyntheticOmniglot } from '../training/synthetic_omniglot.js';
import { makeFrames, writeSequence } from '../tracking/synthetic.js';

const dir = mkdtempSync(join(tmpdir(), 'fewshot-examples-'));
after(() => rmSync(dir, { recursive: true, force: true }));
// Alphabet_A's characters as class folders: my-data/<character>/<image>.
const synthetic = writeSyntheticOmniglot(join(dir, 'synthetic'), { alphabets: 1, charactersPerAlphabet: 8, drawers: 4 });
const classes = join(synthetic.root, 'images_background', 'Alphabet_A');
const model = join(dir, 'model');

/** Runs an example; resolves with its stdout, rejects with its stderr on a non-zero exit. */
function example(name: string, ...args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join('examples', name), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => { out += b.toString(); });
    child.stderr.on('data', (b: Buffer) => { err += b.toString(); });
    child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`examples/${name} exited ${code}:\n${err}`))));
  });
}

function supportAndQuery(): { support: string; query: string; queryClass: string } {
  const support = join(dir, 'support');
  const chars = readdirSync(classes).sort().slice(0, 4);
  for (const c of chars) {
    mkdirSync(join(support, c), { recursive: true });
    const first = readdirSync(join(classes, c)).sort()[0]!;
    cpSync(join(classes, c, first), join(support, c, first));
  }
  const queryClass = chars[1]!;
  return { support, query: join(classes, queryClass, readdirSync(join(classes, queryClass)).sort()[2]!), queryClass };
}

test('train-own-folders trains on class folders, then classify answers with the support set', async () => {
  const trained = await example('train-own-folders.ts', classes, model, '6');
  assert.match(trained, /best \d-way 1-shot validation accuracy [\d.]+% at step \d+; model in/);
  const meta = JSON.parse(readFileSync(join(model, 'fewshot.json'), 'utf8'));
  assert.equal(meta.encoder, 'norm-conv4');
  assert.equal(meta.preprocess.invert, true, 'dark ink on white paper is inverted');
  assert.ok(meta.threshold, 'an EER threshold is stored');

  const { support, query } = supportAndQuery();
  const out = await example('classify.ts', model, support, query);
  assert.match(out, new RegExp(`${query.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: character0\\d \\(then character0\\d\\)`));
});

test('verify-faces decides with the shipped face model', async (t) => {
  if (!existsSync('models/faces/fewshot.json')) return t.skip('models/faces is not in this checkout');
  // face-api's own demo photos (node_modules): one against itself, then against another person.
  const demo = (k: number) => join(dirname(createRequire(import.meta.url).resolve('@vladmandic/face-api/package.json')), 'demo', `sample${k}.jpg`);
  assert.match(await example('verify-faces.ts', demo(2), demo(2)), /^SAME: distance 0\.000/);
  assert.match(await example('verify-faces.ts', demo(2), demo(3)), /^DIFFERENT: distance /);
});

test('http-enrol-predict enrols class folders and predicts over HTTP', async () => {
  if (!existsSync(join(model, 'model.json'))) await example('train-own-folders.ts', classes, model, '6');
  await selectBackend('cpu', { quiet: true });
  const home = join(dir, 'service-home');
  let service: RunningService | null = null;
  try {
    service = await startService({ modelDir: model, home, port: 0, buildApp: false, log: () => {} });
    const { support, query } = supportAndQuery();
    const out = await example('http-enrol-predict.ts', support, query, service.url);
    assert.equal((out.match(/^enrolled character0\d$/gm) ?? []).length, 4);
    const predictions = JSON.parse(out.trim().split('\n').pop()!.replace(/ \(unknown\)$/, '')) as { class: string }[];
    assert.equal(predictions.length, 3);
    assert.ok(predictions.every((p) => /^character0\d$/.test(p.class)));
  } finally {
    await service?.close();
  }
});

test('track follows a generated sequence with the shipped tracker', async (t) => {
  if (!existsSync('models/tracking/tracker.json')) return t.skip('models/tracking is not in this checkout');
  const { frames, boxes } = makeFrames({ frames: 12, seed: 3 });
  const seq = writeSequence(frames, boxes, { root: join(dir, 'sequences') });
  const out = await example('track.ts', seq);
  const m = /mean overlap with the ground truth ([\d.]+)/.exec(out);
  assert.ok(m, out);
  assert.ok(Number(m[1]) > 0.3, `overlap ${m[1]}`);
});
