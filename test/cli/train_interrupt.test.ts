/**
 * Stopping and resuming `fewshot train` for real: a child process gets SIGINT (Ctrl-C) and must
 * stop after its step, save the checkpoint and print the exact command that resumes it; another
 * child is SIGKILLed mid-run and resumed, and its final weights (the checkpoint of the last step,
 * not the best-by-validation model) must equal those of an uninterrupted run, on every backend.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { registerNativeBackend } from '../../src/backend/native/backend.js';
import { readCheckpoint, type Checkpoint } from '../../src/training/checkpoint.js';
import { runTrainCommand, trainCommand, type TrainCliOptions } from '../../src/cli/commands/train.js';
import { useBackend } from '../../src/cli/options.js';
import { writeSyntheticOmniglot } from '../training/synthetic_omniglot.js';

const dir = mkdtempSync(join(tmpdir(), 'fewshot-interrupt-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
const data = writeSyntheticOmniglot(join(dir, 'data'), { alphabets: 2, charactersPerAlphabet: 8, drawers: 4 });
const STEPS = 30;
/** Steps per backend: enough that a kill lands before the end even on the fastest one. */
const stepsOn = (backend: string): number => (backend === 'native' ? 90 : STEPS);

const trainArgs = (out: string, backend: string): string[] => [
  'train', '--data', data.root, '--out', out, '--method', 'protonet', '--encoder', 'tiny', '--steps', String(stepsOn(backend)),
  '--way', '5', '--shot', '1', '--query', '1', '--lr', '0.01', '--val-fraction', '0', '--checkpoint-every', '5',
  '--log-every', '5', '--backend', backend,
];

const checkpointOf = (out: string): string => join(`${out}-train`, 'checkpoint.bin');

/** Runs `fewshot train ARGS` in this process, through the CLI's own option parsing. */
async function trainInProcess(args: string[]): Promise<Record<string, unknown>> {
  let opts: TrainCliOptions | null = null;
  const cmd = trainCommand().action((o: TrainCliOptions) => { opts = o; });
  await cmd.parseAsync(args.slice(1), { from: 'user' });
  const o = opts as TrainCliOptions | null;
  if (!o) throw new Error('train options were not parsed');
  return runTrainCommand(o, await useBackend(o.backend, true));
}

function startChild(args: string[]): { child: ChildProcess; stderr: () => string; exit: Promise<number | string> } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (b: Buffer) => { err += b.toString(); });
  child.stdout!.resume();
  const exit = new Promise<number | string>((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  return { child, stderr: () => err, exit };
}

/** Waits until the child's checkpoint has at least `step` steps (and fewer than the run's). */
async function waitForCheckpoint(out: string, step: number, exit: Promise<number | string>): Promise<number> {
  let done = false;
  void exit.then(() => { done = true; });
  for (;;) {
    if (existsSync(checkpointOf(out))) {
      const s = readCheckpoint(checkpointOf(out)).progress.step;
      if (s >= step) return s;
    }
    if (done) throw new Error(`the child exited before its checkpoint reached step ${step}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function assertSameState(a: Checkpoint, b: Checkpoint, what: string): void {
  assert.equal(b.progress.step, a.progress.step, `${what}: steps`);
  assert.equal(b.weights.length, a.weights.length);
  a.weights.forEach((w, i) => assert.deepEqual(b.weights[i]!.values, w.values, `${what}: weight ${w.name} differs`));
  // Slot names carry the variables' names, which TF.js suffixes (_1, _2...) per model built in a process.
  const slot = (n: string): string => n.replace(/_\d+(?=\/)/g, '');
  assert.deepEqual(b.optimizer.names.map(slot), a.optimizer.names.map(slot));
  a.optimizer.values.forEach((v, i) => assert.deepEqual(b.optimizer.values[i], v, `${what}: optimizer slot ${a.optimizer.names[i]} differs`));
}

const references = new Map<string, Checkpoint>();
async function reference(backend: string): Promise<Checkpoint> {
  if (!references.has(backend)) {
    const out = join(dir, `reference-${backend}`);
    await trainInProcess(trainArgs(out, backend));
    references.set(backend, readCheckpoint(checkpointOf(out)));
  }
  return references.get(backend)!;
}

test('Ctrl-C (a real SIGINT) stops after the step, saves the checkpoint and prints the exact resume command', async () => {
  const out = join(dir, 'sigint');
  const run = startChild(trainArgs(out, 'cpu'));
  await waitForCheckpoint(out, 5, run.exit);
  run.child.kill('SIGINT');
  const code = await Promise.race([run.exit, new Promise((r) => setTimeout(() => r('still running 20 s after SIGINT'), 20_000))]);
  if (code === 'still running 20 s after SIGINT') run.child.kill('SIGKILL');
  assert.equal(code, 130, `exit ${code}; stderr:\n${run.stderr()}`);
  const m = /interrupted at step (\d+); resume with: (.*)\n/.exec(run.stderr());
  assert.ok(m, `no resume line in:\n${run.stderr()}`);
  const step = Number(m[1]);
  assert.ok(step > 0 && step < STEPS, `interrupted at step ${step}`);
  assert.equal(readCheckpoint(checkpointOf(out)).progress.step, step, 'the checkpoint holds the step the message names');
  const resumeCommand = m[2]!;
  assert.match(resumeCommand, /train .*--resume$/);

  // The printed command, pasted into a shell, finishes the run where an uninterrupted one ends.
  const resumed = spawnSync('sh', ['-c', resumeCommand], { encoding: 'utf8', timeout: 120_000 });
  assert.equal(resumed.status, 0, resumed.stderr);
  assert.match(resumed.stderr, new RegExp(`resuming from step ${step}`));
  assertSameState(await reference('cpu'), readCheckpoint(checkpointOf(out)), 'after SIGINT + resume');
});

for (const backend of ['cpu', 'wasm', 'native']) {
  test(`${backend}: a SIGKILLed run, resumed, ends with the weights of an uninterrupted run`, async (t) => {
    if (backend === 'native') {
      const problem = registerNativeBackend();
      if (problem) return t.skip(`native backend unavailable: ${problem}`);
    }
    const out = join(dir, `killed-${backend}`);
    const run = startChild(trainArgs(out, backend));
    await waitForCheckpoint(out, 10, run.exit);
    run.child.kill('SIGKILL');
    assert.equal(await run.exit, 'SIGKILL');
    const killedAt = readCheckpoint(checkpointOf(out)).progress.step;
    assert.ok(killedAt < stepsOn(backend), `the run had finished (step ${killedAt}) before the kill`);

    const r = await trainInProcess([...trainArgs(out, backend), '--resume']);
    assert.equal(r['resumedFrom'], killedAt);
    assert.equal(r['steps'], stepsOn(backend));
    assertSameState(await reference(backend), readCheckpoint(checkpointOf(out)), `${backend} after SIGKILL + resume`);
  });
}
