/**
 * Two probes on the frozen COCO signature features (scripts/lib/signature-backbone.ts), on the
 * outer 3-fold test of the signature cross-validation (writerFolds seed 1: the same 10 test
 * persons per fold as signature-frozen-features.ts), K = 1..4, both decisions (wd: rbf, l2 1,
 * negatives the development persons' genuine signatures):
 *
 * 1. Combinations, nothing fitted: the shipped configuration (160x320, centernet-s16, 2x4) alone,
 *    and concatenated (each part L2-normalised, equal weight) with the stride-8 node, a 3x6 grid,
 *    a 128x256 input, and all of them.
 * 2. A linear metric fitted on each fold's 20 development persons, on the configuration
 *    signature-frozen-features.ts chose for that fold: PCA to d dims (d = 16, 32, 64; fitted on
 *    every development signature), then
 *      - WCCN: whiten the scatter of genuine-genuine differences of one writer (Hatch et al. 2006),
 *      - KISSME (Koestinger et al. 2012): M = inv(S_same) - inv(S_diff), S_diff the scatter of
 *        genuine - skilled-forgery differences of one claimed writer, negative eigenvalues clipped,
 *    each scatter shrunk towards its mean variance by a (0.1, 0.5). Embeddings are mapped by
 *    W (W^T W = M) and scored by minus the squared distance.
 *
 *   nice -n 15 npx tsx scripts/signature-frozen-probes.ts [--out FILE]     (about 40 min, one core)
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import { aucEerSummary, aucEerTable, type TestRow } from './lib/signature-cv.js';
import { DEFAULT_SIGNATURE_DATA, FROZEN_CONFIGS, concatEqualWeight, frozenLabel, openFrozenOuterTest, outerTestRows, type FrozenModel } from './lib/signature-backbone.js';

const { values: args } = parseArgs({
  options: {
    data: { type: 'string', default: DEFAULT_SIGNATURE_DATA },
    // Where signature-frozen-features.ts recorded the configuration each fold chose on its development persons.
    'chosen-from': { type: 'string', default: 'bench/results-signatures-2026-12-01-frozen-features.json' },
    out: { type: 'string' },
  },
});
const data = args.data!;
const { cv, frozen, folds } = await openFrozenOuterTest(data);
const files = cv.all.files;
const configNamed = async (label: string): Promise<FrozenModel> => {
  const config = FROZEN_CONFIGS.find((c) => frozenLabel(c) === label);
  if (!config) throw new Error(`no frozen configuration '${label}'`);
  return frozen.of(config);
};
const recorded = JSON.parse(readFileSync(args['chosen-from']!, 'utf8')) as { folds: string[][]; chosen: string[] };
if (JSON.stringify(recorded.folds) !== JSON.stringify(folds)) throw new Error(`${args['chosen-from']}: recorded for other folds than this data gives`);
const CHOSEN_PER_FOLD = recorded.chosen;

const rows: TestRow[] = [];
const score = (name: string, fold: number, base: FrozenModel, embeddings: Float32Array[]) => rows.push(...outerTestRows(cv, folds, fold, name, base.scorer, embeddings));

// 1. combinations
const s16 = await configNamed('160x320 centernet-s16 grid 2x4');
const s8 = await configNamed('160x320 centernet-s8 grid 2x4');
const grid36 = await configNamed('160x320 centernet-s16 grid 3x6');
const small = await configNamed('128x256 centernet-s16 grid 2x4');
const combinations: [string, Float32Array[]][] = [
  ['s16 2x4 (shipped configuration)', s16.embeddings],
  ['s8 2x4', s8.embeddings],
  ['s16 + s8', concatEqualWeight(s16.embeddings, s8.embeddings)],
  ['s16 2x4 + 3x6 grid', concatEqualWeight(s16.embeddings, grid36.embeddings)],
  ['s16 160x320 + 128x256', concatEqualWeight(s16.embeddings, small.embeddings)],
  ['all four', concatEqualWeight(s16.embeddings, s8.embeddings, grid36.embeddings, small.embeddings)],
];
for (let f = 0; f < folds.length; f++) for (const [name, emb] of combinations) score(name, f, s16, emb);

// 2. linear metrics fitted on the development persons
const scatter = (vectors: readonly number[][], dim: number): Matrix => {
  const c = Matrix.zeros(dim, dim);
  for (const v of vectors) for (let i = 0; i < dim; i++) for (let j = 0; j < dim; j++) c.set(i, j, c.get(i, j) + (v[i]! * v[j]!) / vectors.length);
  return c;
};
const shrunk = (c: Matrix, a: number): Matrix => {
  const out = c.clone().mul(1 - a);
  const meanVariance = c.trace() / c.rows;
  for (let i = 0; i < c.rows; i++) out.set(i, i, out.get(i, i) + a * meanVariance);
  return out;
};
/** f(A) = U f(L) U^T of a symmetric matrix. */
const spectral = (m: Matrix, f: (eigenvalue: number) => number): Matrix => {
  const e = new EigenvalueDecomposition(m.add(m.transpose()).mul(0.5), { assumeSymmetric: true });
  const u = e.eigenvectorMatrix;
  return u.mmul(Matrix.diag(e.realEigenvalues.map(f))).mmul(u.transpose());
};
for (let f = 0; f < folds.length; f++) {
  const dev = folds.flatMap((p, g) => (g === f ? [] : p));
  const base = await configNamed(CHOSEN_PER_FOLD[f]!);
  const X = base.embeddings;
  const D = X[0]!.length;
  const devIdx = files.map((file, i) => (dev.includes(file.claimed) ? i : -1)).filter((i) => i >= 0);
  const mu = new Float64Array(D);
  for (const i of devIdx) X[i]!.forEach((v, k) => (mu[k]! += v / devIdx.length));
  const centred = (x: Float32Array) => Array.from(x, (v, k) => v - mu[k]!);
  const pca = new EigenvalueDecomposition(scatter(devIdx.map((i) => centred(X[i]!)), D), { assumeSymmetric: true });
  const order = pca.realEigenvalues.map((v, i) => [v, i] as const).sort((a, b) => b[0] - a[0]).map(([, i]) => i);
  for (const d of [16, 32, 64]) {
    const axes = pca.eigenvectorMatrix.subMatrixColumn(order.slice(0, d)).transpose();
    const Z = X.map((x) => axes.mmul(Matrix.columnVector(centred(x))).to1DArray());
    const same: number[][] = [];
    const forged: number[][] = [];
    for (const person of dev) {
      const genuine = devIdx.filter((i) => files[i]!.claimed === person && files[i]!.genuine);
      const skilled = devIdx.filter((i) => files[i]!.claimed === person && !files[i]!.genuine);
      for (let a = 0; a < genuine.length; a++) for (let b = a + 1; b < genuine.length; b++) same.push(Z[genuine[a]!]!.map((v, k) => v - Z[genuine[b]!]![k]!));
      for (const a of genuine) for (const b of skilled) forged.push(Z[a]!.map((v, k) => v - Z[b]![k]!));
    }
    const mapped = (W: Matrix) => Z.map((z) => Float32Array.from(W.mmul(Matrix.columnVector(z)).to1DArray()));
    for (const a of [0.1, 0.5]) {
      const sameInv = spectral(shrunk(scatter(same, d), a), (l) => 1 / l);
      const forgedInv = spectral(shrunk(scatter(forged, d), a), (l) => 1 / l);
      // W = M^(1/2) (symmetric), so |W x|^2 = x^T M x.
      score(`pca${d} wccn a${a}`, f, base, mapped(spectral(sameInv, (l) => Math.sqrt(Math.max(l, 0)))));
      score(`pca${d} kissme a${a}`, f, base, mapped(spectral(sameInv.clone().sub(forgedInv), (l) => Math.sqrt(Math.max(l, 0)))));
    }
    score(`pca${d}`, f, base, mapped(Matrix.eye(d)));
  }
  console.error(`fold ${f} done`);
}
for (let f = 0; f < folds.length; f++) {
  const chosen = await configNamed(CHOSEN_PER_FOLD[f]!);
  score('chosen configuration, as in signature-frozen-features.ts', f, chosen, chosen.embeddings);
}

// FAR / FRR at threshold 0 mean nothing here: only AUC and EER are printed.
console.log(aucEerTable(rows));
if (args.out) {
  writeFileSync(args.out, JSON.stringify({ data, folds, chosenPerFold: CHOSEN_PER_FOLD, test: aucEerSummary(rows) }, null, 2) + '\n');
}
