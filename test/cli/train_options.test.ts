/**
 * `fewshot train` checks its options against the data before step 1, never overwrites a model
 * silently, decides `invert` from the images, accepts norm-conv4 / --layout / --channels, and
 * ends every run with an EER threshold calibrated on the validation classes; every command
 * names its model, and eval warns about classes seen in training.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeSyntheticOmniglot } from '../training/synthetic_omniglot.js';

const dir = mkdtempSync(join(tmpdir(), 'fewshot-train-options-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
// 2 alphabets x 8 characters x 4 drawers: one alphabet trains, the other validates.
const data = writeSyntheticOmniglot(join(dir, 'data'), { alphabets: 2, charactersPerAlphabet: 8, drawers: 4 });

function fewshot(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const base = (out: string): string[] => ['train', '--data', data.root, '--out', out, '--encoder', 'tiny', '--backend', 'cpu'];

test('--way 20 with 8 training classes is an error naming the option and the limit, before any step', () => {
  const out = join(dir, 'way20');
  const r = fewshot(...base(out), '--way', '20', '--shot', '1', '--query', '1', '--steps', '5');
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /--way 20 needs 20 training classes .* use --way 8 or fewer/);
  assert.doesNotMatch(r.stderr, /step \d/);
  assert.ok(!existsSync(join(out, 'model.json')));
  const c = fewshot(...base(join(dir, 'cpb')), '--method', 'contrastive', '--classes-per-batch', '12', '--steps', '5');
  assert.equal(c.status, 1);
  assert.match(c.stderr, /--classes-per-batch 12 needs 12 training classes .* use --classes-per-batch 8 or fewer/);
  const v = fewshot(...base(join(dir, 'val')), '--way', '5', '--shot', '1', '--query', '1', '--val-query', '4', '--steps', '5');
  assert.equal(v.status, 1);
  assert.match(v.stderr, /validation needs at least 2 held-out classes with 5 images .*--val-fraction 0/);
});

test('norm-conv4, --layout, --channels 3, --invert auto; validation way lowered with a warning; EER threshold stored; --out not overwritten', () => {
  const out = join(dir, 'model');
  const r = fewshot(
    ...base(out), '--encoder', 'norm-conv4', '--input-size', '28', '--channels', '3', '--layout', 'omniglot',
    '--way', '5', '--shot', '1', '--query', '1', '--steps', '4', '--val-every', '0', '--val-episodes', '10', '--json',
    '--backend', 'auto', // the last --backend wins: training convolutions on the plain cpu backend take minutes
  );
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /--invert auto: dark marks on light paper, inverting/);
  assert.match(r.stderr, /warning: --val-way 20 lowered to 8/);
  assert.match(r.stderr, /best validation 8-way/);
  const meta = JSON.parse(readFileSync(join(out, 'fewshot.json'), 'utf8'));
  assert.equal(meta.encoder, 'norm-conv4');
  assert.deepEqual(meta.inputShape, [28, 28, 3]);
  assert.equal(meta.preprocess.invert, true);
  assert.equal(meta.preprocess.channels, 3);
  assert.ok(Number.isFinite(meta.threshold.value), 'a calibrated threshold');
  assert.match(meta.threshold.source, /^eer on the 8 validation classes/);
  assert.equal(meta.training.trainClassDigests.length, 8);
  const result = JSON.parse(r.stdout.trim().split('\n').pop()!);
  assert.equal(result.validationWay, 8);
  assert.ok(result.threshold && Number.isFinite(result.threshold.eer));

  // The same --out again: refused without --resume or --force; eval names the model and warns about seen classes.
  const again = fewshot(...base(out), '--steps', '4');
  assert.equal(again.status, 1);
  assert.match(again.stderr, /--out .* is taken .*add --resume .* --force/);
  const ev = fewshot('eval', '--data', data.root, '--model', out, '--way', '3', '--episodes', '5');
  assert.equal(ev.status, 0, ev.stderr);
  assert.match(ev.stderr, /fewshot: model .*model \(protonet, encoder norm-conv4, 28x28x3 inputs\)/);
  assert.match(ev.stderr, /warning: 8 of the 16 classes in --data were seen in training/);
});

test('verify without --model says it uses the shipped Omniglot model', () => {
  const img = (c: string): string => join(data.root, 'images_background', 'Alphabet_A', c, `${c === 'character01' ? '0001' : '0002'}_01.png`);
  const r = fewshot('verify', img('character01'), img('character02'), '--backend', 'cpu');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /no --model given: using the shipped Omniglot model .*handwritten characters; pass --model DIR/);
});

test('--encoder-from: a pair head on a saved model\'s encoder, with its input and preprocessing; --freeze-encoder is recorded; clashing options are refused', () => {
  const source = join(dir, 'encoder-source');
  const s = fewshot(...base(source), '--way', '5', '--shot', '1', '--query', '1', '--steps', '3', '--val-every', '0', '--val-episodes', '10', '--backend', 'auto');
  assert.equal(s.status, 0, s.stderr);
  const out = join(dir, 'pair-on-saved');
  const r = fewshot(...base(out), '--method', 'pair', '--encoder-from', source, '--freeze-encoder', '--batch-size', '8', '--steps', '3', '--val-every', '0', '--val-episodes', '10', '--invert', 'no', '--backend', 'auto');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /pair head initialised as the L1 distance/);
  const meta = JSON.parse(readFileSync(join(out, 'fewshot.json'), 'utf8'));
  const sourceMeta = JSON.parse(readFileSync(join(source, 'fewshot.json'), 'utf8'));
  assert.equal(meta.method, 'pair');
  assert.equal(meta.encoder, 'tiny');
  // The saved encoder's preprocessing wins over --invert no: it was trained on inverted images.
  assert.deepEqual(meta.preprocess, sourceMeta.preprocess);
  assert.equal(meta.training.encoderFrom, source);
  assert.equal(meta.training.frozenEncoder, true);
  const clash = fewshot(...base(join(dir, 'clash')), '--method', 'pair', '--encoder-from', source, '--input-size', '56', '--steps', '1');
  assert.equal(clash.status, 1);
  assert.match(clash.stderr, /--encoder-from .* fixes the input size, channels and embedding; drop --input-size/);
});

test('--exclude-groups leaves alphabets out of training (recorded), and refuses held-out or unknown names', () => {
  const three = writeSyntheticOmniglot(join(dir, 'three'), { alphabets: 3, charactersPerAlphabet: 6, drawers: 3 });
  const args = (out: string, exclude: string): string[] => [
    'train', '--data', three.root, '--out', out, '--encoder', 'tiny', '--backend', 'cpu', '--val-groups', 'Alphabet_A',
    '--exclude-groups', exclude, '--way', '3', '--shot', '1', '--query', '1', '--steps', '2', '--val-every', '0', '--val-episodes', '4', '--val-way', '3', '--val-also-ways', '2',
  ];
  const out = join(dir, 'excluded');
  const r = fewshot(...args(out, 'Alphabet_B'));
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /training on 6 classes, validating on 6 classes \(Alphabet_A\)/);
  const training = (JSON.parse(readFileSync(join(out, 'fewshot.json'), 'utf8')) as { training: Record<string, unknown> }).training;
  assert.deepEqual(training['excludedGroups'], ['Alphabet_B']);
  assert.equal(training['trainClasses'], 6);
  assert.equal((training['trainClassDigests'] as string[]).length, 6);

  const heldOut = fewshot(...args(join(dir, 'excluded-a'), 'Alphabet_A'));
  assert.equal(heldOut.status, 1);
  assert.match(heldOut.stderr, /--exclude-groups: Alphabet_A is not a training group \(held out for validation already\)/);
  const unknown = fewshot(...args(join(dir, 'excluded-z'), 'Alphabet_Z'));
  assert.equal(unknown.status, 1);
  assert.match(unknown.stderr, /--exclude-groups: Alphabet_Z is not a training group; training groups: Alphabet_B, Alphabet_C/);
});
