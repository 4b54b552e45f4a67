/**
 * The one-shot classification protocol of Lake, Salakhutdinov & Tenenbaum (Science 2015):
 * 20 runs, each with 20 training images (one per character, all from one alphabet) and 20 test
 * images of the same characters by other drawers. `runNN/class_labels.txt` lists, per line,
 * `runNN/test/itemXX.png runNN/training/classYY.png`. A test image is classified correctly when
 * the most similar training image of its run is the listed one ('argmax'); the transductive
 * 'hungarian' assignment (see assignment.ts) is an option, reported separately.
 */
import { decodeImage } from '../data/image.js';
import type { FileSource } from '../data/zip_source.js';
import type { SiameseScorer } from '../inference/embedder.js';
import { assign, type RunAssignment } from './assignment.js';

export interface LakeRun {
  name: string;
  /** The run's class_labels.txt (source path), named in errors. */
  labelsFile: string;
  /** Each test image with its correct training image (source paths). */
  trials: { test: string; training: string }[];
  /** Every candidate training image of the run (source paths), in a fixed order. */
  trainingImages: string[];
}

export interface LakeRunResult {
  name: string;
  accuracy: number;
  correct: number;
  trials: number;
  /** Per test image: the chosen training image. */
  choices: { test: string; expected: string; chosen: string; correct: boolean }[];
}

export interface LakeRunsResult {
  assignment: RunAssignment;
  accuracy: number;
  errorRate: number;
  runs: number[];
  details: LakeRunResult[];
}

const LABELS_FILE = /^(.*?)(run\d+)\/class_labels\.txt$/;

/** Finds and parses every runNN/class_labels.txt of a source (directory or zip). */
export function readLakeRuns(source: FileSource): LakeRun[] {
  const files = source.list();
  const known = new Set(files);
  const runs: LakeRun[] = [];
  for (const file of files) {
    const m = LABELS_FILE.exec(file);
    if (!m) continue;
    const [, prefix = '', name = ''] = m;
    const runDir = `${prefix}${name}/`;
    const resolve = (p: string, lineNo: number): string => {
      const candidates = [`${prefix}${p}`, `${runDir}${p}`, p];
      const hit = candidates.find((c) => known.has(c));
      if (!hit) throw new Error(`${file} line ${lineNo}: image '${p}' not found in ${source.location}`);
      return hit;
    };
    const text = new TextDecoder().decode(source.read(file));
    const trials: LakeRun['trials'] = [];
    text.split(/\r?\n/).forEach((line, i) => {
      const t = line.trim();
      if (!t) return;
      const parts = t.split(/\s+/);
      if (parts.length !== 2) throw new Error(`${file} line ${i + 1}: expected 'test-image training-image', got '${t}'`);
      trials.push({ test: resolve(parts[0]!, i + 1), training: resolve(parts[1]!, i + 1) });
    });
    if (trials.length === 0) throw new Error(`${file} lists no test images`);
    const training = new Set(trials.map((t) => t.training));
    for (const f of files) if (f.startsWith(`${runDir}training/`) && /\.(png|jpe?g|pgm)$/i.test(f)) training.add(f);
    if (training.size < 2) throw new Error(`${file}: a run needs at least 2 training images, found ${training.size}`);
    runs.push({ name, labelsFile: file, trials, trainingImages: [...training].sort() });
  }
  if (runs.length === 0) throw new Error(`no runNN/class_labels.txt found in ${source.location}`);
  return runs.sort((a, b) => a.name.localeCompare(b.name));
}

export interface LakeRunOptions {
  /** 'argmax' (default, Lake's protocol) or the transductive 'hungarian'. */
  assignment?: RunAssignment;
}

/** Throws (naming the run's class_labels.txt) unless the run can be scored with `assignment`. */
export function checkRunForAssignment(run: LakeRun, assignment: RunAssignment): void {
  if (assignment !== 'hungarian') return;
  if (run.trials.length !== run.trainingImages.length) {
    throw new Error(
      `${run.labelsFile}: --assignment hungarian needs as many test images as training images, ` +
        `this run has ${run.trials.length} test and ${run.trainingImages.length} training images`,
    );
  }
  const tests = new Set(run.trials.map((t) => t.test));
  if (tests.size !== run.trials.length) throw new Error(`${run.labelsFile}: --assignment hungarian needs distinct test images, one is listed twice`);
}

/**
 * What the assignment maximises. argmax: the similarity itself. Hungarian: the sum of the
 * similarities, except for pair models, whose similarity is a probability that saturates near
 * 0 and 1: there the sum of logits log(p / (1 - p)), which for Koch's head is a weighted L1
 * distance plus a constant, the counterpart of an embedding model's negative distance.
 * (Shipped pair model on the validation runs fixture: probabilities 86.5%, log-probabilities
 * 85.0%, logits 90.8%.) p is float32, so logits are clamped at about +-27.6 (p within 1e-12 of
 * 0 or 1). The logit is monotone in p, so argmax would choose the same either way.
 */
function assignmentScores(scorer: SiameseScorer, sims: number[][], assignment: RunAssignment): number[][] {
  if (assignment !== 'hungarian' || scorer.meta.score !== 'pair-probability') return sims;
  const tiny = 1e-12;
  return sims.map((row) => row.map((p) => Math.log(Math.max(p, tiny)) - Math.log(Math.max(1 - p, tiny))));
}

/** Scores one run: every test image against every training image of the run. */
export function evaluateLakeRun(scorer: SiameseScorer, source: FileSource, run: LakeRun, opts: LakeRunOptions = {}): LakeRunResult {
  const assignment = opts.assignment ?? 'argmax';
  checkRunForAssignment(run, assignment);
  const load = (p: string): Uint8Array => scorer.preprocessImage(decodeImage(source.read(p), p));
  const testPaths = run.trials.map((t) => t.test);
  const testEmb = scorer.embed(testPaths.map(load));
  const trainEmb = scorer.embed(run.trainingImages.map(load));
  const chosenIndex = assign(assignmentScores(scorer, scorer.similarityMatrix(testEmb, trainEmb), assignment), assignment);
  const choices = run.trials.map((trial, i) => {
    const chosen = run.trainingImages[chosenIndex[i]!]!;
    return { test: trial.test, expected: trial.training, chosen, correct: chosen === trial.training };
  });
  const correct = choices.filter((c) => c.correct).length;
  return { name: run.name, accuracy: correct / choices.length, correct, trials: choices.length, choices };
}

/**
 * All runs; accuracy is over all test images (equal to the mean of runs when runs are
 * equal-sized). Every run is checked before any is scored, so bad input fails before work.
 */
export function evaluateLakeRuns(
  scorer: SiameseScorer,
  source: FileSource,
  runs: LakeRun[] = readLakeRuns(source),
  opts: LakeRunOptions = {},
): LakeRunsResult {
  const assignment = opts.assignment ?? 'argmax';
  for (const run of runs) checkRunForAssignment(run, assignment);
  const details = runs.map((r) => evaluateLakeRun(scorer, source, r, { assignment }));
  const correct = details.reduce((a, d) => a + d.correct, 0);
  const total = details.reduce((a, d) => a + d.trials, 0);
  const accuracy = correct / total;
  return { assignment, accuracy, errorRate: 1 - accuracy, runs: details.map((d) => d.accuracy), details };
}
